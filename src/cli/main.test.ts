import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { nativeCredentialEnv, runCli } from './main.ts';
import { REGPLAN_VERSION } from '../version.ts';
import { captureIo } from '../../test/support/io.ts';

test('--version prints the package.json version and the runtime', async () => {
  const io = captureIo();
  assert.is(await runCli(['--version'], io), 0);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.is(REGPLAN_VERSION, pkg.version);
  assert.match(io.out(), new RegExp(`^regplan ${pkg.version.replaceAll('.', '\\.')} \\((node|deno) `));
});

test('an unknown command is a usage error (exit 2) that lists the commands', async () => {
  const io = captureIo();
  assert.is(await runCli(['frobnicate'], io), 2);
  assert.match(io.err(), 'Error: unknown command "frobnicate"');
  assert.match(io.err(), /Hint: the commands are: .*validate/);
});

test('--help lists every command and exits 0; no command at all exits 2', async () => {
  const io = captureIo();
  assert.is(await runCli(['--help'], io), 0);
  assert.match(io.out(), /validate/);
  assert.match(io.out(), /detect/);
  assert.is(await runCli([], captureIo()), 2);
});

test('a global flag without its value is a usage error naming the flag', async () => {
  const io = captureIo();
  assert.is(await runCli(['validate', '-c'], io), 2);
  assert.match(io.err(), 'flag -c needs a value');
});

test('--repo-<name> flags supply native credentials like REGPLAN_REPO_<NAME>, and the value is never printed', async () => {
  const secret = 'Zq7xW3-canary-flag-secret';
  const io = captureIo({ HOME: '/nonexistent' });
  assert.is(await runCli(['detect', 'ghcr.io/acme/api', '--repo-github-token', secret], io), 0, io.err());
  assert.match(io.out(), '--repo-github-token / $REGPLAN_REPO_GITHUB_TOKEN: set');
  assert.not.match(io.out() + io.err(), secret);
  assert.is(nativeCredentialEnv('--repo-docker-hub-username'), 'REGPLAN_REPO_DOCKER_HUB_USERNAME');
  const missing = captureIo();
  assert.is(await runCli(['detect', 'ghcr.io/acme/api', '--repo-github-token'], missing), 2);
  assert.match(missing.err(), 'flag --repo-github-token needs a value');
});

test.run();
