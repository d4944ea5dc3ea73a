/** `regplan validate` in-process: exit codes, the FILE:LINE:COL line format, hints, summary and --json. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { captureIo } from '../../test/support/io.ts';
import { runCli } from './main.ts';

const VALID = [
  'version: 1',
  'policies:',
  '  ci: { keep: [{ newest: 3 }], delete: { tags: "^pr-" } }',
  '  nightly: { keep: [{ pushedWithin: 1d }], delete: { tags: "^nightly-" } }',
  'repos:',
  '  - repo: ghcr.io/acme/api',
  '    cleanup: ci',
  '  - repo: ghcr.io/acme/web',
  '    cleanup: nightly',
  '  - repo: oci:./layout',
  '    cleanup: ci',
].join('\n');

const INVALID = [
  'version: 1',
  'settings:',
  '  grace: soon',
  'policies:',
  '  ci: { keep: [{ newest: 3 }], delete: { tags: "^pr-" } }',
  'repos:',
  '  - repo: ghcr.io/acme/api',
  '    cleanup: cii',
].join('\n');

let dir = '';
test.before.each(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'regplan-validate-'));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('a valid config exits 0 and prints the summary with the file relative to cwd', async () => {
  writeFileSync(path.join(dir, 'registry.config.yaml'), VALID);
  const io = captureIo({}, dir);
  assert.is(await runCli(['validate'], io), 0);
  assert.is(io.out(), 'registry.config.yaml: valid (3 repos, 2 policies)\n');
  assert.is(io.err(), '');
});

test('an invalid config exits 1 and prints every problem as FILE:LINE:COL path: message with an indented hint', async () => {
  mkdirSync(path.join(dir, 'deploy'));
  writeFileSync(path.join(dir, 'deploy', 'regplan.yaml'), INVALID);
  const io = captureIo({}, dir);
  assert.is(await runCli(['-c', 'deploy/regplan.yaml', 'validate'], io), 1);
  assert.is(io.out(), [
    'deploy/regplan.yaml:3:10 /settings/grace: duration "soon" does not parse',
    '  hint: write a number and a unit (s, m, h, d, w): 30m, 2h, 14d, 1w, or combined like 1d12h',
    'deploy/regplan.yaml:8:14 /repos/0/cleanup: unknown policy "cii"',
    '  hint: did you mean "ci"? (defined policies: ci)',
    'deploy/regplan.yaml:5:3 /policies/ci: warning: policy "ci" is not used by any repo',
    '  hint: refer to it with cleanup: ci in repos[], or remove it',
    'deploy/regplan.yaml: invalid (2 errors, 1 warning)',
    '',
  ].join('\n'));
});

test('warnings are printed but the exit code stays 0', async () => {
  writeFileSync(path.join(dir, 'c.yaml'), 'version: 1\nrepos:\n  - repo: ghcr.io/acme/api\n    cleanup: { keep: [] }\n');
  const io = captureIo({}, dir);
  assert.is(await runCli(['validate', 'c.yaml'], io), 0);
  assert.match(io.out(), 'c.yaml:4:14 /repos/0/cleanup: warning: policy has no keep rules and no delete scope');
  assert.match(io.out(), /c\.yaml: valid \(1 repo, 0 policies; 1 warning\)\n$/);
});

test('a policy without a delete scope is a warning naming its line', async () => {
  writeFileSync(path.join(dir, 'c.yaml'), 'version: 1\npolicies:\n  git:\n    keep: [{ newest: 3 }]\nrepos:\n  - repo: ghcr.io/acme/api\n    cleanup: git\n');
  const io = captureIo({}, dir);
  assert.is(await runCli(['validate', 'c.yaml'], io), 0);
  assert.match(io.out(), 'c.yaml:3:3 /policies/git: warning: policy has no delete scope: every tag no keep rule keeps is a deletion candidate, "latest" and "v*" releases included');
});

test('REGPLAN_CONFIG names the file when -c is absent', async () => {
  writeFileSync(path.join(dir, 'other.yaml'), VALID);
  const io = captureIo({ REGPLAN_CONFIG: 'other.yaml' }, dir);
  assert.is(await runCli(['validate'], io), 0);
  assert.is(io.out(), 'other.yaml: valid (3 repos, 2 policies)\n');
});

test('a missing config file exits 1 with a hint on how to create one', async () => {
  const io = captureIo({}, dir);
  assert.is(await runCli(['validate'], io), 1);
  assert.is(io.out(), [
    'registry.config.yaml: config file not found',
    '  hint: create one, see examples/ or set -c/REGPLAN_CONFIG',
    'registry.config.yaml: invalid (1 error)',
    '',
  ].join('\n'));
});

test('--json prints the report as data with the same exit codes', async () => {
  writeFileSync(path.join(dir, 'bad.yaml'), INVALID);
  writeFileSync(path.join(dir, 'good.yaml'), VALID);
  const bad = captureIo({}, dir);
  assert.is(await runCli(['validate', 'bad.yaml', '--json'], bad), 1);
  const report = JSON.parse(bad.out()) as { file: string; valid: boolean; errors: { file: string; line: number; col: number; path: string; message: string; hint?: string }[]; warnings: unknown[] };
  assert.is(report.valid, false);
  assert.equal(report.errors[1], { file: 'bad.yaml', line: 8, col: 14, path: '/repos/0/cleanup', message: 'unknown policy "cii"', hint: 'did you mean "ci"? (defined policies: ci)' });
  assert.is(report.warnings.length, 1);
  const good = captureIo({}, dir);
  assert.is(await runCli(['validate', '--json', 'good.yaml'], good), 0);
  assert.equal(JSON.parse(good.out()), { file: 'good.yaml', valid: true, errors: [], warnings: [], summary: { repos: 3, policies: 2, registries: 0 } });
});

test('a literal secret is reported without its value', async () => {
  writeFileSync(path.join(dir, 'registry.config.yaml'), 'version: 1\nregistries:\n  ghcr.io:\n    credentials:\n      token: ghp_NotForYourEyes\nrepos: [{ repo: ghcr.io/a/b, cleanup: { keep: [{ newest: 1 }] } }]\n');
  const io = captureIo({}, dir);
  assert.is(await runCli(['validate'], io), 1);
  assert.match(io.out(), 'registry.config.yaml:5:14 /registries/ghcr.io/credentials/token: literal secret in "token"');
  assert.not.match(io.out() + io.err(), 'NotForYourEyes');
});

test('more than one file or an unknown flag is a usage error (exit 2)', async () => {
  const io = captureIo({}, dir);
  assert.is(await runCli(['validate', 'a.yaml', 'b.yaml'], io), 2);
  assert.match(io.err(), 'regplan validate takes at most one file, got 2: a.yaml b.yaml');
  const flag = captureIo({}, dir);
  assert.is(await runCli(['validate', '--strict'], flag), 2);
  assert.match(flag.err(), "Unknown option '--strict'");
});

test.run();
