import { chmod, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CredentialsError } from '../errors.ts';
import { CANARY, makeFakeHelper, type FakeHelper } from '../../test/support/credentials.ts';
import { helperGet, parseHelperAnswer } from './helper.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';

const rejection = (promise: Promise<unknown>): Promise<CredentialsError> => rejectionOf(promise, CredentialsError);

let helper: FakeHelper;

test.before(async () => {
  helper = await makeFakeHelper('test', {
    'ghcr.io': { username: 'bot', secret: CANARY },
    'https://index.docker.io/v1/': { username: '<token>', secret: `refresh-${CANARY}` },
    'broken.example.com': { fail: 'error getting credentials: keyring is locked', exitCode: 3 },
    'leaky.example.com': { stdout: `{"ServerURL":"leaky.example.com","Username":"bot","Secret":"${CANARY}"}`, exitCode: 2 },
    'garbage.example.com': { stdout: `not json ${CANARY}` },
    'empty.example.com': { username: '', secret: '' },
  });
});
test.after(async () => {
  await helper.cleanup();
});

const env = () => ({ PATH: helper.path });


test('a helper answers with username and secret for a URL it knows (URL sent as raw text on stdin)', async () => {
  const credential = await helperGet('test', 'ghcr.io', { env: env() });
  assert.equal(credential, { username: 'bot', password: CANARY, source: 'docker-credential-test for "ghcr.io"' });
  assert.equal((await helper.calls()).at(-1), 'ghcr.io');
});

test('the "credentials not found in native keychain" answer means no credentials, not an error', async () => {
  assert.is(await helperGet('test', 'unknown.example.com', { env: env() }), undefined);
});

test('a "<token>" username means the secret is an identity token', async () => {
  const credential = await helperGet('test', 'https://index.docker.io/v1/', { env: env() });
  assert.equal(credential, { identityToken: `refresh-${CANARY}`, source: 'docker-credential-test for "https://index.docker.io/v1/"' });
});

test('empty username and secret mean no credentials', async () => {
  assert.is(await helperGet('test', 'empty.example.com', { env: env() }), undefined);
});

test("a failing helper's stdout message is surfaced with its exit code", async () => {
  const error = await rejection(helperGet('test', 'broken.example.com', { env: env(), configuredAs: 'credsStore in /x/config.json' }));
  assert.is(
    error.message,
    'credential helper docker-credential-test failed for "broken.example.com" (exit 3): error getting credentials: keyring is locked (configured as credsStore in /x/config.json)',
  );
  assert.ok(error.hint);
});

test('a failing helper whose output carries credentials is not quoted', async () => {
  const error = await rejection(helperGet('test', 'leaky.example.com', { env: env() }));
  assert.match(error.message, 'failed for "leaky.example.com" (exit 2)');
  assert.not.match(`${error.message} ${error.hint}`, CANARY);
});

test('an answer that is not JSON is an error that does not quote it', async () => {
  const error = await rejection(helperGet('test', 'garbage.example.com', { env: env() }));
  assert.match(error.message, 'answered "garbage.example.com" with something other than');
  assert.not.match(`${error.message} ${error.hint}`, CANARY);
});

test('a helper missing from PATH is an error with an install-or-remove hint', async () => {
  const error = await rejection(
    helperGet('nosuch', 'ghcr.io', { env: env(), configuredAs: 'credHelpers["ghcr.io"] in /x/config.json', removeHint: 'remove "ghcr.io" from credHelpers in /x/config.json' }),
  );
  assert.is(error.message, 'credential helper docker-credential-nosuch is not on PATH (configured as credHelpers["ghcr.io"] in /x/config.json)');
  assert.is(error.hint, 'install docker-credential-nosuch, or remove "ghcr.io" from credHelpers in /x/config.json');
});

test('a helper that hangs is stopped after the timeout with a clear error', async () => {
  const slow = path.join(helper.binDir, 'docker-credential-slow');
  await writeFile(slow, '#!/bin/sh\nexec sleep 5\n');
  await chmod(slow, 0o755);
  const error = await rejection(helperGet('slow', 'ghcr.io', { env: env(), timeoutMs: 200 }));
  assert.match(error.message, 'credential helper docker-credential-slow did not answer for "ghcr.io" within 0.2s');
});

test('parseHelperAnswer: missing fields count as empty, wrong types are refused', () => {
  const context = { program: 'docker-credential-x', serverUrl: 'r.example.com' };
  assert.equal(parseHelperAnswer('{"ServerURL":"r.example.com","Username":"u"}', context), { username: 'u', source: 'docker-credential-x for "r.example.com"' });
  assert.throws(() => parseHelperAnswer('{"Username":1,"Secret":"s"}', context), (e: unknown) => e instanceof CredentialsError);
  assert.throws(() => parseHelperAnswer('[]', context), (e: unknown) => e instanceof CredentialsError);
});

test.run();
