/**
 * bin/regplan.js, the `regplan` command of the npm package and of a clone: below Node 22.18 it prints one line
 * (the Node it needs and the ways to run regplan without it) and exits 1, never a stack trace. Runs it with the
 * machine's own old Node when there is one (skipped, not passed, where there is none) and always with Node 24
 * posing as an older version through an `--import` hook, so the check is tested on every machine.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { findOldNode, node24Path, repoRoot, runProgram, runSource } from '../support/standalone.ts';

const launcher = path.join(repoRoot, 'bin', 'regplan.js');

/** The one line an old Node gets, for the version it reports. */
const refusal = (version: string): string =>
  `regplan needs Node.js 22.18 or newer (this is ${version}); use the standalone binary (docs/distribution.md), ` +
  'npx regplan with Node 22.18+, or deno run -A src/main.ts from a clone\n';

/** Runs the launcher on Node 24 made to report `version` as process.versions.node before anything else loads. */
const runPosingAs = (version: string, args: string[]) =>
  runProgram(node24Path, [`--import=data:text/javascript,Object.defineProperty(process.versions,"node",{value:"${version}"})`, launcher, ...args]);

const oldNode = findOldNode();

(oldNode ? test : test.skip)(`the machine's old Node (${oldNode?.program ?? 'none on PATH'} ${oldNode?.version ?? ''}) gets one line naming Node 22.18, the binary, npx and Deno, and exit 1`, async () => {
  if (!oldNode) return;
  for (const args of [['--help'], ['plan'], ['--version']]) {
    const result = await runProgram(oldNode.program, [launcher, ...args]);
    assert.is(result.code, 1, args.join(' '));
    assert.is(result.stdout, '');
    assert.is(result.stderr, refusal(oldNode.version));
  }
});

test('Node 24 posing as 20.19.0 gets the same one line and exit 1 (the check runs on every machine)', async () => {
  const result = await runPosingAs('20.19.0', ['--help']);
  assert.is(result.code, 1);
  assert.is(result.stdout, '');
  assert.is(result.stderr, refusal('20.19.0'));
});

test('the boundary is package.json engines: 22.17.1 is refused, 22.18.0 runs', async () => {
  assert.is(pkg.engines.node, '>=22.18');
  const refused = await runPosingAs('22.17.1', ['--version']);
  assert.is(refused.code, 1);
  assert.is(refused.stderr, refusal('22.17.1'));
  const runs = await runPosingAs('22.18.0', ['--version']);
  assert.is(runs.code, 0, runs.stderr);
  assert.match(runs.stdout, new RegExp(`^regplan ${pkg.version.replaceAll('.', '\\.')} \\(node v24\\.`));
});

test('in a clone the launcher runs the sources on Node 24: --help and a usage error exactly as node src/main.ts', async () => {
  for (const args of [['--help'], ['frobnicate']]) {
    const [viaLauncher, source] = await Promise.all([runProgram(node24Path, [launcher, ...args]), runSource(args)]);
    assert.equal(viaLauncher, source, args.join(' '));
  }
});

test.run();
