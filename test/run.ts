/**
 * Test runner: runs every `*.test.ts` under the given roots (default: src and test) in its own Node process
 * (uvu standalone mode), two at a time, and ends with the line CI reads: `N passed, N failed`.
 * Skipped tests are reported separately and never counted as passed; a file that dies before uvu's summary
 * counts as one failure.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const filter = args.find((a) => a.startsWith('--grep='))?.slice(7);
const roots = args.filter((a) => !a.startsWith('--')).map((r) => path.resolve(root, r));
const parallel = Number(process.env['REGPLAN_TEST_PARALLEL'] ?? 2);
/** A test file that runs longer than this is killed and counted as failed, so a hang never stalls CI. */
const fileTimeoutMs = Number(process.env['REGPLAN_TEST_FILE_TIMEOUT_MS'] ?? 600_000);

async function findTests(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await findTests(full)));
    else if (entry.name.endsWith('.test.ts')) found.push(full);
  }
  return found;
}

interface FileResult { file: string; passed: number; failed: number; skipped: number; output: string; ms: number }

function runFile(file: string): Promise<FileResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, fileTimeoutMs);
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) output += `\nkilled after ${fileTimeoutMs} ms (REGPLAN_TEST_FILE_TIMEOUT_MS)\n`;
      const num = (label: string) => {
        const all = [...output.matchAll(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'gm'))];
        return all.reduce((sum, m) => sum + Number(m[1]), 0);
      };
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped');
      let failed = total - passed - skipped;
      if ((code !== 0 || timedOut) && failed === 0) failed = 1; // crashed, hung, or a suite failed before reporting
      if (total === 0 && code === 0) failed = 1; // a test file that ran no test proves nothing
      resolve({ file: path.relative(root, file), passed, failed, skipped, output, ms: Date.now() - started });
    });
  });
}

/** A root is a directory to search, or one test file (`npm test -- src/plan/evaluate.test.ts`). */
const testsUnder = async (target: string): Promise<string[]> => (target.endsWith('.test.ts') ? [target] : findTests(target));
const files = (await Promise.all((roots.length ? roots : [path.join(root, 'src'), path.join(root, 'test')]).map(testsUnder)))
  .flat()
  .filter((f) => !filter || f.includes(filter))
  .sort();
if (files.length === 0) {
  // A selection that matches nothing proves nothing: fail rather than report "0 passed, 0 failed" as success.
  process.stdout.write(`no test file matches ${[...args].join(' ') || 'src and test'}\n0 passed, 1 failed\n`);
  process.exit(1);
}
const results: FileResult[] = [];
let next = 0;
await Promise.all(
  Array.from({ length: Math.max(1, parallel) }, async () => {
    while (next < files.length) {
      const file = files[next++] as string;
      const result = await runFile(file);
      results.push(result);
      const status = result.failed ? 'FAIL' : 'ok  ';
      process.stdout.write(`${status} ${result.file}  (${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped, ${result.ms} ms)\n`);
      if (result.failed) process.stdout.write(result.output.replace(/^/gm, '    ') + '\n');
    }
  }),
);
const passed = results.reduce((s, r) => s + r.passed, 0);
const failed = results.reduce((s, r) => s + r.failed, 0);
const skipped = results.reduce((s, r) => s + r.skipped, 0);
if (skipped) process.stdout.write(`${skipped} skipped (not counted as passed)\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed ? 1 : 0;
