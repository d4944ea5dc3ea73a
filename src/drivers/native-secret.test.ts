/**
 * The native-secret resolver is where native credentials are read, so it registers them with the process-wide
 * redactor: tokens, passwords, secrets, the AWS access key id and `user:password` (plain and base64) from env vars,
 * flags or the config's `{env}`/`{file}` references — but not usernames, other ids or file paths, which messages
 * need to show.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { registerCredential, scrubSecrets } from '../registry/redact.ts';
import { nativeSecretReader } from './open.ts';

const unique = (what: string): string => `${what}-${Math.random().toString(36).slice(2)}`;

test('secrets read from env and config references are masked in any text; usernames and paths are not', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-native-secret-'));
  try {
    const password = unique('pw-from-file');
    const token = unique('token-from-env');
    const azure = unique('azure-client-secret');
    const user = unique('robot$acme+ci');
    const tokenFile = path.join(dir, 'federated-token');
    await writeFile(path.join(dir, 'password'), `${password}\n`);
    const read = nativeSecretReader({
      env: { REGPLAN_REPO_GITLAB_TOKEN: token, AZURE_CLIENT_SECRET: azure, AZURE_FEDERATED_TOKEN_FILE: tokenFile, HARBOR_USER: user },
      configDir: dir,
      configured: { username: { env: 'HARBOR_USER' }, password: { file: './password' } },
    });
    assert.is(await read('REGPLAN_REPO_HARBOR_PASSWORD'), password);
    assert.is(await read('REGPLAN_REPO_HARBOR_USERNAME'), user);
    assert.is(await read('REGPLAN_REPO_GITLAB_TOKEN'), token);
    assert.is(await read('AZURE_CLIENT_SECRET'), azure);
    assert.is(await read('AZURE_FEDERATED_TOKEN_FILE'), tokenFile);
    const basic = Buffer.from(`${user}:${password}`).toString('base64');
    const text = `p=${password} t=${token} a=${azure} pair=${user}:${password} header="Basic ${basic}" json=${JSON.stringify({ token })}`;
    const scrubbed = scrubSecrets(text);
    for (const secret of [password, token, azure, basic.replace(/=+$/, '')]) assert.not.ok(scrubbed.includes(secret), `${secret} in ${scrubbed}`);
    assert.ok(scrubSecrets(`user ${user} at ${tokenFile}`).includes(user), 'a username alone stays readable');
    assert.ok(scrubSecrets(`file ${tokenFile}`).includes(tokenFile), 'a file path stays readable');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an AWS access key id is masked like its secret key (AWS shows only its last four characters)', async () => {
  const keyId = unique('AKIAEXAMPLE');
  const read = nativeSecretReader({ env: { AWS_ACCESS_KEY_ID: keyId, AWS_REGION: 'eu-west-1' }, configDir: '/nonexistent' });
  assert.is(await read('AWS_ACCESS_KEY_ID'), keyId);
  assert.is(await read('AWS_REGION'), 'eu-west-1');
  assert.is(scrubSecrets(`Credential=${keyId}/20250101/eu-west-1/ecr/aws4_request`), 'Credential=***/20250101/eu-west-1/ecr/aws4_request');
  assert.is(scrubSecrets('region eu-west-1'), 'region eu-west-1', 'a region stays readable');
});

test('a credential is masked longest form first, so a password inside its own base64 pair never half-shows it', () => {
  const password = unique('Zz1');
  registerCredential({ username: 'bob', password, identityToken: unique('identity'), registryToken: unique('registry') });
  const header = Buffer.from(`bob:${password}`).toString('base64');
  assert.is(scrubSecrets(`Authorization: Basic ${header}`), 'Authorization: Basic ***');
  assert.is(scrubSecrets(`bob:${password}`), '***');
  assert.is(scrubSecrets(`url ${encodeURIComponent(password)}`), 'url ***');
});

test.run();
