/**
 * Runs one regplan command (`plan --json`, `apply PLAN`) in a child process that does nothing else, from the
 * sources (`node src/main.ts`, as `npm run regplan` does), and measures it from spawn to exit: wall time and the
 * child's peak RSS and CPU time (reported by bench/report-rss.ts). Stdout goes to a file, so a 100,000-tag plan is never
 * buffered in the bench process. A child running past `timeoutMs` is killed and reported as timed out.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** One measured regplan run. */
export interface ChildRun {
  ms: number;
  rssBytes: number;
  /** CPU time (user + system) the child used, start-up included. */
  cpuMs: number;
  exitCode: number | null;
  timedOut: boolean;
  stdoutFile: string;
  stderr: string;
}

const root = path.resolve(import.meta.dirname, '..');

/** Runs `regplan <args>` in `dir` (config, HOME and cache there); `cacheDir` is REGPLAN_CACHE_DIR. */
export async function runRegplanChild(args: string[], options: { dir: string; cacheDir: string; timeoutMs: number; label: string }): Promise<ChildRun> {
  const stdoutFile = path.join(options.dir, `${options.label}.stdout`);
  const rssFile = path.join(options.dir, `${options.label}.rss`);
  const out = openSync(stdoutFile, 'w');
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: options.dir, REGPLAN_CACHE_DIR: options.cacheDir, NO_COLOR: '1', BENCH_RSS_FILE: rssFile };
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', path.join(root, 'bench', 'report-rss.ts'), path.join(root, 'src', 'main.ts'), ...args], { cwd: options.dir, env, stdio: ['ignore', out, 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 20_000) stderr += d.toString();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const ms = performance.now() - started;
  clearTimeout(timer);
  closeSync(out);
  let usage = { rssBytes: 0, cpuMs: 0 };
  try {
    usage = JSON.parse(readFileSync(rssFile, 'utf8')) as typeof usage;
  } catch {
    // killed before it could report
  }
  return { ms, ...usage, exitCode, timedOut, stdoutFile, stderr };
}

/** The plan summary printed by `plan --json`. */
export function planSummary(run: ChildRun): { delete: number; kept: number } {
  const plan = JSON.parse(readFileSync(run.stdoutFile, 'utf8')) as { summary: { delete: number; kept: number } };
  return plan.summary;
}
