import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CredentialsError } from '../errors.ts';
import { parseRepo } from '../registry/reference.ts';
import { basicAuth, makeDockerConfigDir, makeFakeHelper, type FakeHelper, type FakeHelperAnswer } from '../../test/support/credentials.ts';
import { createHelperCache, credentialKeys, credentialProvider, describeCredentialSource, lookupCredential, type LookupOptions } from './lookup.ts';
import { describeCredential, type Credential } from './types.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';

const rejection = (promise: Promise<unknown>): Promise<CredentialsError> => rejectionOf(promise, CredentialsError);

const HUB_KEY = 'https://index.docker.io/v1/';
const cleanups: Array<() => Promise<void>> = [];
test.after.each(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A real config dir plus fake helpers (`test` and `store`) on PATH. */
async function setup(
  config: unknown,
  helpers: Record<string, Record<string, FakeHelperAnswer>> = {},
  extraEnv: Record<string, string> = {},
): Promise<{ options: LookupOptions; file: string; helpers: Record<string, FakeHelper> }> {
  const made = await makeDockerConfigDir(config);
  cleanups.push(made.cleanup);
  const fakes: Record<string, FakeHelper> = {};
  for (const [name, answers] of Object.entries(helpers)) {
    fakes[name] = await makeFakeHelper(name, answers);
    cleanups.push(fakes[name].cleanup);
  }
  const PATH = [...Object.values(fakes).map((f) => f.binDir), '/usr/bin', '/bin'].join(':');
  return { options: { configDir: made.dir, env: { PATH, ...extraEnv } }, file: made.file, helpers: fakes };
}

const repo = (address: string) => {
  const ref = parseRepo(address);
  if (ref.kind !== 'registry') throw new Error('not a registry ref');
  return ref;
};


const user = (credential: Credential | undefined) => credential?.username;

test('keys: the full repository path, then each shorter prefix, then the host', () => {
  assert.equal(credentialKeys(repo('ghcr.io/acme/team/api')), ['ghcr.io/acme/team/api', 'ghcr.io/acme/team', 'ghcr.io/acme', 'ghcr.io']);
  assert.equal(credentialKeys(repo('localhost:5000/app')), ['localhost:5000/app', 'localhost:5000']);
});

test('keys: Docker Hub under every name ends with https://index.docker.io/v1/', () => {
  const expected = ['docker.io/library/alpine', 'docker.io/library', HUB_KEY];
  assert.equal(credentialKeys(repo('alpine')), expected);
  assert.equal(credentialKeys(repo('docker.io/library/alpine')), expected);
  assert.equal(credentialKeys(repo('index.docker.io/library/alpine')), expected);
  assert.equal(credentialKeys({ host: 'registry-1.docker.io', name: 'library/alpine' }), expected);
  assert.equal(credentialKeys({ host: '', name: 'acme/app' }), ['docker.io/acme/app', 'docker.io/acme', HUB_KEY]);
});

test('a missing config file means anonymous access', async () => {
  const { options } = await setup(undefined);
  assert.is(await lookupCredential(repo('ghcr.io/acme/api'), options), undefined);
});

test('an auths entry for the host gives username and password, with its source', async () => {
  const { options, file } = await setup({ auths: { 'ghcr.io': { auth: basicAuth('bot', 'pw') } } });
  assert.equal(await lookupCredential(repo('ghcr.io/acme/api'), options), { username: 'bot', password: 'pw', source: `auths["ghcr.io"] in ${file}` });
});

test('repository-path keys win over the host key, most specific first', async () => {
  const { options } = await setup({
    auths: {
      'ghcr.io': { auth: basicAuth('host', 'x') },
      'ghcr.io/acme': { auth: basicAuth('org', 'x') },
      'ghcr.io/acme/api': { auth: basicAuth('repo', 'x') },
    },
  });
  assert.is(user(await lookupCredential(repo('ghcr.io/acme/api'), options)), 'repo');
  assert.is(user(await lookupCredential(repo('ghcr.io/acme/web'), options)), 'org');
  assert.is(user(await lookupCredential(repo('ghcr.io/other/web'), options)), 'host');
});

test('an empty repository-path entry falls through to the host key', async () => {
  const { options } = await setup({ auths: { 'ghcr.io/acme/api': {}, 'ghcr.io': { auth: basicAuth('host', 'x') } } });
  assert.is(user(await lookupCredential(repo('ghcr.io/acme/api'), options)), 'host');
});

test('Docker Hub: docker.io, index.docker.io and host-less names all use https://index.docker.io/v1/', async () => {
  const { options, file } = await setup({ auths: { [HUB_KEY]: { auth: basicAuth('hubber', 'x') }, 'docker.io': { auth: basicAuth('wrong', 'x') } } });
  for (const address of ['alpine', 'acme/app', 'docker.io/acme/app', 'index.docker.io/acme/app', 'registry-1.docker.io/acme/app']) {
    const found = await lookupCredential(repo(address), options);
    assert.is(user(found), 'hubber', address);
    assert.is(found?.source, `auths["${HUB_KEY}"] in ${file}`);
  }
});

test('Docker Hub: a repository-path key is written docker.io/<path>', async () => {
  const { options } = await setup({ auths: { [HUB_KEY]: { auth: basicAuth('hubber', 'x') }, 'docker.io/acme': { auth: basicAuth('acme', 'x') } } });
  assert.is(user(await lookupCredential(repo('acme/app'), options)), 'acme');
  assert.is(user(await lookupCredential(repo('other/app'), options)), 'hubber');
});

test('legacy URL keys match their host (with port), but an exact key wins', async () => {
  const { options, file } = await setup({
    auths: {
      'https://myreg:5000/v1/': { auth: basicAuth('legacy', 'x') },
      'http://other.example.com/v2/': { auth: basicAuth('other', 'x') },
      'https://exact.example.com/v1/': { auth: basicAuth('legacy-exact', 'x') },
      'exact.example.com': { auth: basicAuth('exact', 'x') },
    },
  });
  const legacy = await lookupCredential(repo('myreg:5000/app'), options);
  assert.is(user(legacy), 'legacy');
  assert.is(legacy?.source, `auths["https://myreg:5000/v1/"] in ${file}`);
  assert.is(user(await lookupCredential(repo('other.example.com/app'), options)), 'other');
  assert.is(user(await lookupCredential(repo('exact.example.com/app'), options)), 'exact');
  assert.is(await lookupCredential(repo('myreg/app'), options), undefined); // host "docker.io": no match for myreg
});

test('auth wins over legacy username/password fields, which work on their own', async () => {
  const { options } = await setup({
    auths: {
      'a.example.com': { auth: basicAuth('from-auth', 'p1'), username: 'from-field', password: 'p2' },
      'b.example.com': { username: 'legacy', password: 'p3' },
    },
  });
  const a = await lookupCredential(repo('a.example.com/x'), options);
  assert.equal([a?.username, a?.password], ['from-auth', 'p1']);
  const b = await lookupCredential(repo('b.example.com/x'), options);
  assert.equal([b?.username, b?.password], ['legacy', 'p3']);
});

test('identitytoken and registrytoken are returned as identityToken and registryToken', async () => {
  const { options, file } = await setup({
    auths: { 'acr.azurecr.io': { auth: basicAuth('00000000-0000-0000-0000-000000000000', ''), identitytoken: 'refresh' }, 'r.example.com': { registrytoken: 'bearer' } },
  });
  assert.equal(await lookupCredential(repo('acr.azurecr.io/app'), options), {
    username: '00000000-0000-0000-0000-000000000000',
    identityToken: 'refresh',
    source: `auths["acr.azurecr.io"] in ${file}`,
  });
  const token = await lookupCredential(repo('r.example.com/app'), options);
  assert.equal(token, { registryToken: 'bearer', source: `auths["r.example.com"] in ${file}` });
  assert.is(describeCredential(token!), `registry token from auths["r.example.com"] in ${file}`);
});

test('an undecodable auth fails the lookup that uses it, naming the entry; other hosts are unaffected', async () => {
  const { options, file } = await setup({ auths: { 'bad.example.com': { auth: Buffer.from('nocolon').toString('base64') }, 'ok.example.com': { auth: basicAuth('ok', 'x') } } });
  const error = await rejection(lookupCredential(repo('bad.example.com/app'), options));
  assert.match(error.message, `auths["bad.example.com"] in ${file}`);
  assert.is(user(await lookupCredential(repo('ok.example.com/app'), options)), 'ok');
});

test('credHelpers beats credsStore, which beats auths', async () => {
  const { options, helpers, file } = await setup(
    { credHelpers: { 'ghcr.io': 'test' }, credsStore: 'store', auths: { 'ghcr.io': { auth: basicAuth('file', 'x') }, 'quay.io': { auth: basicAuth('file', 'x') } } },
    { test: { 'ghcr.io': { username: 'from-cred-helper', secret: 's1' } }, store: { 'ghcr.io': { username: 'from-store', secret: 's2' }, 'quay.io': { username: 'from-store', secret: 's3' } } },
  );
  const ghcr = await lookupCredential(repo('ghcr.io/acme/api'), options);
  assert.is(user(ghcr), 'from-cred-helper');
  assert.is(ghcr?.source, 'credHelpers["ghcr.io"] -> docker-credential-test');
  // the repository-path keys have no credHelpers entry, so the credsStore is asked for them first (and has nothing)
  assert.equal(await helpers['store']!.calls(), ['ghcr.io/acme/api', 'ghcr.io/acme']);
  const quay = await lookupCredential(repo('quay.io/acme/api'), options);
  assert.equal(quay, { username: 'from-store', password: 's3', source: 'credsStore -> docker-credential-store for "quay.io"' });
  assert.ok(file);
});

test('with a credsStore the auths values are not used, as in docker (an entry there only marks a login)', async () => {
  const { options } = await setup({ credsStore: 'store', auths: { 'ghcr.io': { auth: basicAuth('file', 'x') } } }, { store: {} });
  assert.is(await lookupCredential(repo('ghcr.io/acme/api'), options), undefined);
});

test('an empty {} entry means the credentials live in the credsStore', async () => {
  const { options } = await setup({ credsStore: 'store', auths: { 'ghcr.io': {} } }, { store: { 'ghcr.io': { username: 'kept', secret: 'x' } } });
  assert.is(user(await lookupCredential(repo('ghcr.io/acme/api'), options)), 'kept');
  const noStore = await setup({ auths: { 'ghcr.io': {} } });
  assert.is(await lookupCredential(repo('ghcr.io/acme/api'), noStore.options), undefined);
});

test('an empty credHelpers name selects the file store even when a credsStore is set', async () => {
  const { options } = await setup({ credsStore: 'store', credHelpers: { 'ghcr.io': '' }, auths: { 'ghcr.io': { auth: basicAuth('file', 'x') } } }, { store: {} });
  assert.is(user(await lookupCredential(repo('ghcr.io/acme/api'), options)), 'file');
});

test('Docker Hub helpers get the ServerURL https://index.docker.io/v1/; a <token> answer is an identity token', async () => {
  const { options, helpers } = await setup({ credsStore: 'store' }, { store: { [HUB_KEY]: { username: '<token>', secret: 'refresh' } } });
  const found = await lookupCredential(repo('acme/app'), options);
  assert.equal(found, { identityToken: 'refresh', source: `credsStore -> docker-credential-store for "${HUB_KEY}"` });
  assert.equal(await helpers['store']!.calls(), ['docker.io/acme/app', 'docker.io/acme', HUB_KEY]);
});

test("a helper keeps the file entry's registrytoken next to its answer, as docker's native store does", async () => {
  const { options } = await setup({ credHelpers: { 'r.example.com': 'test' }, auths: { 'r.example.com': { registrytoken: 'bearer' } } }, { test: {} });
  const found = await lookupCredential(repo('r.example.com/app'), options);
  assert.equal(found, { registryToken: 'bearer', source: 'credHelpers["r.example.com"] -> docker-credential-test' });
});

test('a missing credHelpers helper fails with a hint to install it or remove the entry', async () => {
  const { options, file } = await setup({ credHelpers: { 'ghcr.io': 'gone' } });
  const error = await rejection(lookupCredential(repo('ghcr.io/acme/api'), options));
  assert.is(error.message, `credential helper docker-credential-gone is not on PATH (configured as credHelpers["ghcr.io"] in ${file})`);
  assert.is(error.hint, `install docker-credential-gone, or remove "ghcr.io" from credHelpers in ${file}`);
});

test('a missing credsStore helper fails with a hint to remove credsStore', async () => {
  const { options, file } = await setup({ credsStore: 'desktop' });
  const error = await rejection(lookupCredential(repo('ghcr.io/acme/api'), options));
  assert.match(error.message, 'credential helper docker-credential-desktop is not on PATH (configured as credsStore in');
  assert.is(error.hint, `install docker-credential-desktop, or remove "credsStore" from ${file}`);
});

test("a failing helper's message reaches the lookup's error", async () => {
  const { options } = await setup({ credHelpers: { 'ghcr.io': 'test' } }, { test: { 'ghcr.io': { fail: 'gh: not logged in', exitCode: 4 } } });
  const error = await rejection(lookupCredential(repo('ghcr.io/acme/api'), options));
  assert.match(error.message, 'credential helper docker-credential-test failed for "ghcr.io" (exit 4): gh: not logged in');
});

test('DOCKER_AUTH_CONFIG is layered over helpers and the file, for the keys it names', async () => {
  const env = { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'ghcr.io': { auth: basicAuth('from-env', 'x') } } }) };
  const { options, helpers } = await setup(
    { credHelpers: { 'ghcr.io': 'test' }, auths: { 'quay.io': { auth: basicAuth('file', 'x') } } },
    { test: { 'ghcr.io': { username: 'helper', secret: 'x' } } },
    env,
  );
  const ghcr = await lookupCredential(repo('ghcr.io/acme/api'), options);
  assert.equal([ghcr?.username, ghcr?.source], ['from-env', 'DOCKER_AUTH_CONFIG["ghcr.io"]']);
  assert.equal(await helpers['test']!.calls(), []);
  assert.is(user(await lookupCredential(repo('quay.io/acme/api'), options)), 'file');
});

test('describe: names the auths entry and the credential kind, never a username or secret', async () => {
  const { options, file } = await setup({ auths: { 'ghcr.io': { auth: basicAuth('bot-user', 'pw') } } });
  const text = await describeCredentialSource(repo('ghcr.io/acme/api'), options);
  assert.is(text, `auths["ghcr.io"] in ${file} (basic auth)`);
  assert.not.match(text, 'bot-user');
});

test('describe: anonymous access suggests docker login for the host', async () => {
  const { options } = await setup(undefined);
  assert.is(await describeCredentialSource(repo('ghcr.io/acme/api'), options), 'none: anonymous access (run docker login ghcr.io)');
  assert.is(await describeCredentialSource(repo('alpine'), options), 'none: anonymous access (run docker login)');
});

test('describe: lists the helpers lookup would ask, with their paths, without running them', async () => {
  const { options, helpers } = await setup(
    { credsStore: 'store', credHelpers: { 'ghcr.io': 'test' } },
    { store: { 'ghcr.io/acme/api': { username: 'u', secret: 's' } }, test: { 'ghcr.io': { username: 'u', secret: 's' } } },
  );
  const text = await describeCredentialSource(repo('ghcr.io/acme/api'), options);
  assert.is(
    text,
    `credsStore -> docker-credential-store for "ghcr.io/acme/api", "ghcr.io/acme" (${helpers['store']!.binDir}/docker-credential-store), ` +
      `then credHelpers["ghcr.io"] -> docker-credential-test (${helpers['test']!.binDir}/docker-credential-test), else anonymous access`,
  );
  assert.equal(await helpers['store']!.calls(), []);
  assert.equal(await helpers['test']!.calls(), []);
});

test('describe: a helper that is not installed is reported as such, and ends the description (lookup stops there)', async () => {
  const { options } = await setup({ credHelpers: { 'ghcr.io': 'gh' }, credsStore: 'desktop' });
  assert.is(await describeCredentialSource(repo('ghcr.io/acme/api'), options), 'credsStore -> docker-credential-desktop for "ghcr.io/acme/api", "ghcr.io/acme" (not found on PATH)');
  const only = await setup({ credHelpers: { 'ghcr.io': 'gh' } });
  assert.is(await describeCredentialSource(repo('ghcr.io/acme/api'), only.options), 'credHelpers["ghcr.io"] -> docker-credential-gh (not found on PATH)');
});

test('describe: a helper for a repository-path key, then the auths entry for the host', async () => {
  const { options, file, helpers } = await setup(
    { credHelpers: { 'ghcr.io/acme': 'test' }, auths: { 'ghcr.io': { identitytoken: 'refresh' } } },
    { test: {} },
  );
  assert.is(
    await describeCredentialSource(repo('ghcr.io/acme/api'), options),
    `credHelpers["ghcr.io/acme"] -> docker-credential-test (${helpers['test']!.binDir}/docker-credential-test), then auths["ghcr.io"] in ${file} (identity token)`,
  );
  const found = await lookupCredential(repo('ghcr.io/acme/api'), options);
  assert.equal(found, { identityToken: 'refresh', source: `auths["ghcr.io"] in ${file}` });
  assert.equal(await helpers['test']!.calls(), ['ghcr.io/acme']);
});

test('describe: DOCKER_AUTH_CONFIG entries and undecodable auths are described, not thrown', async () => {
  const env = { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'ghcr.io': { auth: basicAuth('u', 'p') } } }) };
  const { options, file } = await setup({ auths: { 'bad.example.com': { auth: '!!!!' } } }, {}, env);
  assert.is(await describeCredentialSource(repo('ghcr.io/acme/api'), options), 'DOCKER_AUTH_CONFIG["ghcr.io"] (basic auth)');
  assert.is(await describeCredentialSource(repo('bad.example.com/app'), options), `auths["bad.example.com"] in ${file} (unusable: its "auth" value cannot be decoded)`);
});

test('credentialProvider looks up lazily and only once', async () => {
  const { options, helpers } = await setup({ credHelpers: { 'ghcr.io': 'test' } }, { test: { 'ghcr.io': { username: 'u', secret: 's' } } });
  const provide = credentialProvider(repo('ghcr.io/acme/api'), options);
  assert.equal(await helpers['test']!.calls(), []);
  const [first, second] = await Promise.all([provide(), provide()]);
  assert.is(first, second);
  assert.is(user(await provide()), 'u');
  assert.equal(await helpers['test']!.calls(), ['ghcr.io']);
});

test('a shared helper cache asks the helper once per server URL across repositories', async () => {
  const { options, helpers } = await setup({ credsStore: 'store' }, { store: { 'ghcr.io': { username: 'u', secret: 's' } } });
  const shared = { ...options, helperCache: createHelperCache() };
  for (const address of ['ghcr.io/acme/api', 'ghcr.io/acme/web', 'ghcr.io/acme/api']) assert.is(user(await lookupCredential(repo(address), shared)), 'u');
  assert.equal(await helpers['store']!.calls(), ['ghcr.io/acme/api', 'ghcr.io/acme', 'ghcr.io', 'ghcr.io/acme/web']);
});

test.run();
