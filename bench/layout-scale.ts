/**
 * How `regplan plan` on an `oci:` layout scales with the tag count (issue 11: linear, 100,000 tags under
 * 300 MB RSS). For each size it writes a fixture layout (bench/layout-fixture.ts), then runs a child process that
 * does nothing but `regplan plan`, first with an empty manifest cache (cold), then again with the cache it filled
 * (warm), and reports wall time, CPU time (user + system: steadier than wall time on a shared machine) and peak
 * RSS (from /usr/bin/time) of each, with the CPU time per 1,000 tags so the sizes compare at a glance. Then it
 * applies the plan (its deletions and the garbage collection after them) and reports the same for that.
 * Usage: node bench/layout-scale.ts [--tags 1000,10000,100000] [--runs 1] [--dir /tmp/regplan-layout-scale] [--regplan other/src/main.ts]
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fixtureConfig, writeLayoutFixture } from './layout-fixture.ts';

const { values } = parseArgs({
  options: {
    tags: { type: 'string', default: '1000,10000,100000' },
    runs: { type: 'string', default: '1' },
    dir: { type: 'string', default: path.join(tmpdir(), 'regplan-layout-scale') },
    // another checkout's src/main.ts, to compare two versions side by side
    regplan: { type: 'string', default: fileURLToPath(new URL('../src/main.ts', import.meta.url)) },
  },
});
const MAIN = path.resolve(values.regplan);

interface Run { seconds: number; cpu: number; rssMb: number }

/** Runs one plan in a child process: wall and CPU seconds, peak RSS in MB. */
function timed(cwd: string, cacheDir: string, argv: string[]): Promise<Run> {
  const timeFile = path.join(cwd, 'time.txt');
  return new Promise((resolve, reject) => {
    execFile(
      '/usr/bin/time',
      ['-o', timeFile, '-f', '%e %U %S %M', process.execPath, MAIN, '-c', 'registry.config.yaml', ...argv],
      { cwd, env: { ...process.env, REGPLAN_CACHE_DIR: cacheDir, NO_COLOR: '1' }, maxBuffer: 1 << 30 },
      (error, _stdout, stderr) => {
        if (error) return reject(new Error(`${argv.join(' ')} failed: ${stderr.slice(-2000)}`));
        const [seconds = '', user = '', system = '', kib = ''] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)?.split(' ') ?? [];
        resolve({ seconds: Number(seconds), cpu: Number(user) + Number(system), rssMb: Number(kib) / 1024 });
      },
    );
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const rows = [
  '| tags | cold wall s | cold CPU s | cold CPU s / 1k tags | cold peak RSS | warm wall s | warm CPU s | warm CPU s / 1k tags | warm peak RSS | apply wall s | apply CPU s | apply CPU s / 1k tags | apply peak RSS |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const tags of values.tags.split(',').map(Number)) {
  const world = path.join(values.dir, String(tags));
  rmSync(world, { recursive: true, force: true });
  mkdirSync(world, { recursive: true });
  writeLayoutFixture(path.join(world, 'layout'), tags);
  writeFileSync(path.join(world, 'registry.config.yaml'), fixtureConfig('./layout'));
  const cold: Run[] = [];
  const warm: Run[] = [];
  const plan = ['plan', '--out', 'plan.json'];
  for (let run = 0; run < Number(values.runs); run++) {
    const cache = path.join(world, `cache-${run}`);
    cold.push(await timed(world, cache, plan));
    warm.push(await timed(world, cache, plan));
    rmSync(cache, { recursive: true, force: true });
  }
  const apply = [await timed(world, path.join(world, 'cache-apply'), ['apply', 'plan.json'])];
  const cells = (xs: Run[]) => {
    const cpu = median(xs.map((x) => x.cpu));
    return `${median(xs.map((x) => x.seconds)).toFixed(2)} | ${cpu.toFixed(2)} | ${(cpu / (tags / 1000)).toFixed(3)} | ${median(xs.map((x) => x.rssMb)).toFixed(0)} MB`;
  };
  const row = `| ${tags.toLocaleString('en')} | ${cells(cold)} | ${cells(warm)} | ${cells(apply)} |`;
  rows.push(row);
  process.stderr.write(`${row}\n`);
  rmSync(world, { recursive: true, force: true });
}
process.stdout.write(`${rows.join('\n')}\n`);
