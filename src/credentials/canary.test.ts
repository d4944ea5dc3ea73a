/**
 * The canary: one secret placed everywhere a secret can live (config auth, legacy password, tokens, a helper's
 * Secret, DOCKER_AUTH_CONFIG, an unrelated env var). Every string the credentials code hands back for display
 * (sources, descriptions, error messages, hints, context) must be free of it, on the success and failure paths.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CredentialsError } from '../errors.ts';
import { basicAuth, CANARY, makeDockerConfigDir, makeFakeHelper } from '../../test/support/credentials.ts';
import { parseDockerAuthConfigEnv, readDockerConfig } from './docker-config.ts';
import { helperGet } from './helper.ts';
import { describeCredentialSource, lookupCredential, type LookupOptions } from './lookup.ts';
import { describeCredential, type Credential } from './types.ts';

// A prefix too: V8's JSON.parse messages quote ~10 characters around the error.
const encodedForms = [CANARY, CANARY.slice(0, 6), basicAuth('bot', CANARY), Buffer.from(CANARY).toString('base64'), basicAuth('', CANARY)];

function assertClean(text: string, what: string): void {
  for (const form of encodedForms) assert.not.ok(text.includes(form), `${what} leaks the canary: ${text}`);
}

function assertErrorClean(error: unknown, what: string): void {
  assert.instance(error, CredentialsError, `${what}: expected a CredentialsError, got ${String(error)}`);
  const e = error as CredentialsError;
  assertClean([e.message, e.hint ?? '', JSON.stringify(e.context), String(e), e.stack ?? '', String(e.cause ?? '')].join('\n'), what);
}

async function errorOf(what: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    assertErrorClean(error, what);
    return;
  }
  assert.unreachable(`${what}: expected an error`);
}

test('no source, description or error ever contains a secret', async () => {
  const helper = await makeFakeHelper('canary', {
    'helper.example.com': { username: 'bot', secret: CANARY },
    'token.example.com': { username: '<token>', secret: CANARY },
    'leaky.example.com': { stdout: JSON.stringify({ ServerURL: 'leaky.example.com', Username: 'bot', Secret: CANARY }), exitCode: 1 },
    'garbage.example.com': { stdout: `oops ${CANARY}` },
    'failing.example.com': { fail: 'keyring locked', exitCode: 2 },
  });
  const made = await makeDockerConfigDir({
    auths: {
      'auth.example.com': { auth: basicAuth('bot', CANARY) },
      'legacy.example.com': { username: 'bot', password: CANARY },
      'identity.example.com': { identitytoken: CANARY },
      'registry-token.example.com': { registrytoken: CANARY },
      'https://legacy-url.example.com:5000/v1/': { auth: basicAuth('bot', `${CANARY}\0`) },
      'nocolon.example.com': { auth: Buffer.from(CANARY).toString('base64') },
      'emptyuser.example.com': { auth: basicAuth('', CANARY) },
      'notbase64.example.com': { auth: `${CANARY}!` },
    },
    credHelpers: {
      'helper.example.com': 'canary',
      'token.example.com': 'canary',
      'leaky.example.com': 'canary',
      'garbage.example.com': 'canary',
      'failing.example.com': 'canary',
      'missing.example.com': 'not-installed',
    },
  });
  const env = {
    PATH: helper.path,
    REGPLAN_REPO_GITHUB_TOKEN: CANARY,
    DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'env.example.com': { auth: basicAuth('bot', CANARY) } } }),
  };
  const options: LookupOptions = { configDir: made.dir, env };
  try {
    const succeeding = ['auth', 'legacy', 'identity', 'registry-token', 'legacy-url.example.com:5000/x', 'helper', 'token', 'env'];
    for (const name of succeeding) {
      const host = name.includes('/') ? name.split('/')[0]! : `${name}.example.com`;
      const target = { host, name: 'acme/app' };
      const credential: Credential | undefined = await lookupCredential(target, options);
      assert.ok(credential, `${host}: expected a credential`);
      // the secret is really there (so the assertions below can fail) ...
      assert.ok(Object.values(credential).some((value) => typeof value === 'string' && value.includes(CANARY)), `${host}: secret not found in the credential`);
      // ... but not in anything meant for display
      assertClean(credential.source, `${host}: source`);
      assertClean(describeCredential(credential), `${host}: describeCredential`);
      assertClean(await describeCredentialSource(target, options), `${host}: describeCredentialSource`);
    }

    for (const host of ['leaky', 'garbage', 'failing', 'missing', 'nocolon', 'emptyuser', 'notbase64'].map((n) => `${n}.example.com`)) {
      await errorOf(`lookup ${host}`, () => lookupCredential({ host, name: 'acme/app' }, options));
      assertClean(await describeCredentialSource({ host, name: 'acme/app' }, options), `describe ${host}`);
    }
    await errorOf('helperGet leaky', () => helperGet('canary', 'leaky.example.com', { env }));

    const broken = await makeDockerConfigDir(`{"auths":{"x":{"auth":"${basicAuth('bot', CANARY)}"}}, "k": ${CANARY}}`);
    try {
      await errorOf('broken config.json', () => readDockerConfig(broken.dir));
      await errorOf('lookup with broken config.json', () => lookupCredential({ host: 'x', name: 'a' }, { configDir: broken.dir, env }));
    } finally {
      await broken.cleanup();
    }
    const badEnvValues = [`{"auths": ${CANARY}`, JSON.stringify({ auths: { x: { auth: basicAuth('bot', 'x'), password: CANARY } } }), JSON.stringify({ auths: { x: CANARY } })];
    for (const value of badEnvValues) {
      await errorOf('bad DOCKER_AUTH_CONFIG', async () => parseDockerAuthConfigEnv({ DOCKER_AUTH_CONFIG: value }));
      await errorOf('lookup with bad DOCKER_AUTH_CONFIG', () => lookupCredential({ host: 'x', name: 'a' }, { configDir: made.dir, env: { ...env, DOCKER_AUTH_CONFIG: value } }));
    }
  } finally {
    await helper.cleanup();
    await made.cleanup();
  }
});

test.run();
