/**
 * The command line of sharding: `plan --shard`, the CI_NODE_* defaults, `plan --merge`, and `apply --shard`,
 * run in process with captured output. A bad flag or variable is refused before any config or registry is read.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { captureIo } from '../../test/support/io.ts';
import { assemblePlan } from '../plan/assemble.ts';
import { writePlanFile } from '../plan/planfile.ts';
import { runCli } from './main.ts';

const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** An empty temp dir with no config in it: usage errors must come before the config is read. */
async function emptyDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-shard-cli-'));
  dirs.push(dir);
  return dir;
}

async function run(argv: string[], env: Record<string, string> = {}) {
  const dir = await emptyDir();
  const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'c'), ...env }, dir);
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err(), dir };
}

test('plan --shard with a malformed value exits 2 naming the flag, before reading the config', async () => {
  for (const [value, message] of [
    ['0/4', 'Error: --shard must be K/N (e.g. 2/4), not "0/4"'],
    ['3', 'Error: --shard must be K/N (e.g. 2/4), not "3"'],
    ['5/4', 'Error: --shard 5/4: K (5) is larger than N (4)'],
  ] as const) {
    const result = await run(['plan', '--shard', value]);
    assert.is(result.code, 2, value);
    assert.match(result.err, message);
    assert.match(result.err, 'Hint: write it as K/N with whole numbers');
    assert.not.match(result.err, 'config file not found');
    assert.is(result.out, '');
  }
});

test('plan with malformed CI_NODE_INDEX/CI_NODE_TOTAL exits 2 naming the variable, before reading the config', async () => {
  const result = await run(['plan'], { CI_NODE_INDEX: 'first', CI_NODE_TOTAL: '4' });
  assert.is(result.code, 2);
  assert.match(result.err, 'Error: CI_NODE_INDEX="first" is not a whole number of at least 1');
  assert.not.match(result.err, 'config file not found');
  const missing = await run(['plan'], { CI_NODE_TOTAL: '4' });
  assert.is(missing.code, 2);
  assert.match(missing.err, 'Error: CI_NODE_TOTAL=4 is set but CI_NODE_INDEX is not');
  // --shard overrides the variables, malformed or not: the run goes on to read the (missing) config.
  const overridden = await run(['plan', '--shard', '1/1'], { CI_NODE_INDEX: 'first', CI_NODE_TOTAL: '4' });
  assert.is(overridden.code, 1);
  assert.match(overridden.err, 'config file not found');
  // A plain GitLab job (CI_NODE_TOTAL=1, no index) is not sharded, so also reads the config.
  const plain = await run(['plan'], { CI_NODE_TOTAL: '1' });
  assert.match(plain.err, 'config file not found');
});

test('plan file arguments need --merge; --merge needs files and takes no planning flags; --allow-partial needs --merge', async () => {
  const cases: [string[], string][] = [
    [['plan', 'a.json'], 'Error: regplan plan takes no file arguments, got "a.json"'],
    [['plan', '--merge'], 'Error: regplan plan --merge needs the shard plan files to join'],
    [['plan', '--merge', 'a.json', '--shard', '1/2'], 'Error: regplan plan: --shard plans repos, --merge only joins plan files; use one or the other'],
    [['plan', '--merge', 'a.json', '--repo', 'x/*'], 'Error: regplan plan: --repo plans repos, --merge only joins plan files'],
    [['plan', '--allow-partial'], 'Error: regplan plan: --allow-partial only goes with --merge'],
    [['apply', 'plan.json', '--shard', '1/2'], 'Error: regplan apply: --shard chooses repos to plan, but "plan.json" is already planned'],
    [['apply', '--shard', '2'], 'Error: --shard must be K/N (e.g. 2/4), not "2"'],
  ];
  for (const [argv, message] of cases) {
    const result = await run(argv);
    assert.is(result.code, 2, argv.join(' '));
    assert.match(result.err, message);
  }
});

test('plan --merge names the files it refuses and writes nothing; a merge needs no config', async () => {
  const dir = await emptyDir();
  const shard = (index: number, configDigest: string) =>
    assemblePlan({ actions: [], kept: [], skipped: [] }, { createdAt: new Date('2026-01-01T00:00:00Z'), configDigest, shard: { indexes: [index], total: 2, repos: [], selectedRepos: 0 } });
  await writePlanFile(path.join(dir, 'p1.json'), shard(1, 'sha256:aaaa'));
  await writePlanFile(path.join(dir, 'p2.json'), shard(2, 'sha256:bbbb'));
  await writePlanFile(path.join(dir, 'p2-same.json'), shard(2, 'sha256:aaaa'));
  const io = captureIo({ HOME: dir }, dir);
  assert.is(await runCli(['plan', '--merge', 'p1.json', 'p2.json', '--out', 'merged.json'], io), 1);
  assert.match(io.err(), 'Error: the shard plans were made from different configs (p1.json: config sha256:aaaa; p2.json: config sha256:bbbb)');
  const ok = captureIo({ HOME: dir }, dir);
  assert.is(await runCli(['plan', '--merge', 'p1.json', 'p2-same.json', '--detailed-exitcode'], ok), 0, ok.err());
  assert.is(ok.out(), 'No changes. 0 kept, 0 skipped.\n');
  assert.is(ok.err(), 'Merged 2 plan files: all 2 shards, 0 repos.\n');
  const partial = captureIo({ HOME: dir }, dir);
  assert.is(await runCli(['plan', '--merge', 'p1.json'], partial), 1);
  assert.match(partial.err(), 'Error: shard 2/2 missing: the files given (p1.json) cover shard 1/2');
  const allowed = captureIo({ HOME: dir }, dir);
  assert.is(await runCli(['plan', '--merge', 'p1.json', '--allow-partial'], allowed), 0);
  assert.match(allowed.err(), 'Warning: shard 2/2 missing (--allow-partial): the merged plan covers 0 of 0 repos, not the whole config.');
  await rm(path.join(dir, 'merged.json'), { force: false }).then(
    () => assert.unreachable('a refused merge wrote merged.json'),
    (error: NodeJS.ErrnoException) => assert.is(error.code, 'ENOENT'),
  );
  await writeFile(path.join(dir, 'not-a-plan.json'), '{}');
  const bad = captureIo({ HOME: dir }, dir);
  assert.is(await runCli(['plan', '--merge', 'not-a-plan.json'], bad), 1);
  assert.match(bad.err(), 'plan file "');
});

test.run();
