/**
 * The ACR driver against the ACR emulator (test/emulators/acr.ts): every identity path (service principal with a
 * secret or a federated token, Docker identity token, null-GUID login, admin user), listing with Link paging and
 * push times, untag vs. manifest delete, untagged manifests, locks, 429 with Retry-After, and errors that say
 * what to do without showing a secret.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAcrEmulator, NULL_GUID, type AcrEmulator, type AcrEmulatorOptions } from '../../test/emulators/acr.ts';
import type { Credential } from '../credentials/types.ts';
import { AuthError, CredentialsError, ProtocolError, RegplanError, RegistryError } from '../errors.ts';
import { acrApiBase, acrDriver, createAcrDriver } from './acr.ts';
import { canListUntagged, canUntag, hasDetailedListing, refusesCleanup, type DriverContext } from './driver.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';
import { ociError, startScriptedServer, type ScriptedServer } from '../../test/support/scripted-server.ts';

const rejection = (promise: Promise<unknown>): Promise<RegplanError> => rejectionOf(promise, RegplanError);

const REPO = 'team/app';
const SECRET = 'sp-secret-value-1234';
const TENANT = 'tenant-1';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

const IDENTITIES: AcrEmulatorOptions['identities'] = {
  admin: { username: 'myreg', password: 'admin-password-5678' },
  principals: [
    { tenant: TENANT, clientId: 'sp-owner', clientSecret: SECRET },
    { tenant: TENANT, clientId: 'sp-reader', clientSecret: SECRET, role: 'reader' },
    { tenant: TENANT, clientId: 'sp-workload', federatedToken: 'federated-jwt-abcdef' },
  ],
};

/** Starts an emulator, runs `body`, and stops it whatever happens. */
async function withAcr(options: Partial<AcrEmulatorOptions>, body: (acr: AcrEmulator) => Promise<void>): Promise<void> {
  const acr = await startAcrEmulator({ identities: IDENTITIES, ...options });
  try {
    await body(acr);
  } finally {
    await acr.stop();
  }
}

/** A driver context for the emulator: env for the Azure variables, an optional Docker credential. */
function context(acr: AcrEmulator, env: Record<string, string>, credential?: Omit<Credential, 'source'>): DriverContext {
  return {
    host: acr.host,
    type: 'acr',
    registry: { host: acr.host, type: 'acr', insecure: false, api: acr.url },
    credentials: async () => (credential === undefined ? undefined : { ...credential, source: 'test docker config' }),
    nativeSecret: async (name) => env[name],
  };
}

const servicePrincipal = (acr: AcrEmulator, clientId = 'sp-owner'): Record<string, string> => ({
  AZURE_CLIENT_ID: clientId,
  AZURE_TENANT_ID: TENANT,
  AZURE_CLIENT_SECRET: SECRET,
  AZURE_AUTHORITY_HOST: acr.authorityHost,
});


/** Everything a user could see of an error. */
const visible = (error: RegplanError): string => `${error.message}\n${error.hint ?? ''}\n${JSON.stringify(error.context)}`;

test('the factory is ready and declares untag and untagged listing; the driver has both abilities and no refusal', () => {
  assert.is(acrDriver.status, 'ready');
  assert.is(acrDriver.capabilities.untag, true);
  assert.is(acrDriver.capabilities.listUntagged, true);
  const driver = acrDriver.create({ host: 'myreg.azurecr.io', type: 'acr', credentials: async () => undefined, nativeSecret: async () => undefined });
  assert.ok(canUntag(driver) && hasDetailedListing(driver) && canListUntagged(driver));
  assert.is(refusesCleanup(driver), false);
});

test('the API base is registries.<host>.api when set, else https on the login server (http only for loopback)', () => {
  assert.is(acrApiBase({ host: 'myreg.azurecr.io' }), 'https://myreg.azurecr.io');
  assert.is(acrApiBase({ host: 'myreg.azurecr.io', registry: { host: 'myreg.azurecr.io', type: 'acr', insecure: false, api: 'https://proxy.example.com/acr' } }), 'https://proxy.example.com/acr');
  assert.is(acrApiBase({ host: '127.0.0.1:5000' }), 'http://127.0.0.1:5000');
});

test('a service principal lists every tag across Link pages with its digest and lastUpdateTime, without az', async () => {
  await withAcr({ pageSize: 2 }, async (acr) => {
    const tags = ['a', 'b', 'c', 'd', 'e'];
    const digests = tags.map((tag, i) => acr.store.seedImage(REPO, [tag], { pushedAt: day(i) }).digest);
    const driver = createAcrDriver(context(acr, servicePrincipal(acr)));
    const records = await driver.listTagRecords(REPO);
    assert.equal(records, tags.map((tag, i) => ({ tag, digest: digests[i], pushedAt: day(i).toISOString() })));
    assert.is(acr.registry.requestsTo(`/acr/v1/${REPO}/_tags`, 'GET').length, 3);
    assert.equal(acr.auth.calls, ['POST aad client_credentials', 'POST /oauth2/exchange access_token', 'POST /oauth2/token refresh_token']);
    assert.equal(await driver.listTags(REPO), tags);
  });
});

test('a repo that cannot be listed (404) is an error naming the URL tried; a repo that exists and is empty lists nothing', async () => {
  await withAcr({ pageSize: 2 }, async (acr) => {
    const { digest } = acr.store.seedImage('team/emptied', ['only']);
    acr.store.deleteManifest('team/emptied', digest);
    const driver = createAcrDriver(context(acr, servicePrincipal(acr)));
    assert.equal(await driver.listTagRecords('team/emptied'), []);
    assert.equal(await driver.listUntagged('team/emptied'), []);
    for (const list of [() => driver.listTagRecords('team/missing'), () => driver.listUntagged('team/missing')]) {
      const error = await rejection(list());
      assert.instance(error, RegistryError);
      assert.is((error as RegistryError).status, 404);
      assert.match(error.message, new RegExp(`GET ${acr.url}/acr/v1/team/missing/_(tags|manifests)\\?n=100`));
      assert.match(error.message, `${acr.host}/team/missing`);
    }
  });
});

test('push times are reported as ACR wrote them, zeroed ones included: judging them is inventory\'s job', async () => {
  await withAcr({}, async (acr) => {
    const zero = new Date('0001-01-01T00:00:00Z');
    acr.store.seedImage(REPO, ['reproducible'], { pushedAt: zero });
    acr.store.seedImage(REPO, ['epoch'], { pushedAt: new Date(0), content: 'epoch' });
    const records = await createAcrDriver(context(acr, servicePrincipal(acr))).listTagRecords(REPO);
    assert.equal(records.map((r) => [r.tag, r.pushedAt]), [['epoch', '1970-01-01T00:00:00.000Z'], ['reproducible', '0001-01-01T00:00:00.000Z']]);
  });
});

/** A scripted ACR API on loopback reached with a registry token (no token exchange), answering with `handler`. */
async function withScriptedAcr(handler: Parameters<typeof startScriptedServer>[0], body: (server: ScriptedServer, driver: ReturnType<typeof createAcrDriver>) => Promise<void>): Promise<void> {
  const server = await startScriptedServer(handler);
  try {
    const driver = createAcrDriver({
      host: server.host,
      type: 'acr',
      registry: { host: server.host, type: 'acr', insecure: false, api: server.url },
      credentials: async () => ({ registryToken: 'acr-access-token-0042', source: 'test' }),
      nativeSecret: async () => undefined,
    });
    await body(server, driver);
  } finally {
    await server.close();
  }
}

test('a next page on another origin is refused before anything reaches it: no credential leaves the API origin', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: { tags: [] } }));
  try {
    await withScriptedAcr(
      (request) => ({
        status: 200,
        headers: { link: `<${elsewhere.url}/acr/v1/${REPO}/_tags?last=a&n=100>; rel="next"` },
        body: { tags: [{ name: 'a', digest: `sha256:${'a'.repeat(64)}`, lastUpdateTime: '2025-01-01T00:00:00.0000000Z' }], request: request.path },
      }),
      async (server, driver) => {
        const error = await rejection(driver.listTagRecords(REPO));
        assert.instance(error, ProtocolError);
        assert.match(error.message, new RegExp(`another (origin|host) \\(${elsewhere.url}\\)`));
        assert.is(server.requests.length, 1);
        assert.is(server.requests[0]?.headers['authorization'], 'Bearer acr-access-token-0042');
        assert.is(elsewhere.requests.length, 0, 'the other origin got no request, so no credential');
      },
    );
  } finally {
    await elsewhere.close();
  }
});

test('a 404 on DELETE is "already gone" only when a lookup of that tag or manifest agrees; otherwise it fails', async () => {
  const digest = `sha256:${'d'.repeat(64)}`;
  let present = true;
  await withScriptedAcr(
    (request) => {
      if (request.method === 'DELETE') return { status: 404, body: ociError('NAME_UNKNOWN', 'repository name not known to registry') };
      if (!present) return { status: 404, body: ociError('TAG_UNKNOWN', 'the specified tag does not exist') };
      if (request.path === `/acr/v1/${REPO}/_tags/pr-1`) return { status: 200, body: { tag: { name: 'pr-1', digest } } };
      if (request.path === `/acr/v1/${REPO}/_manifests/${digest}`) return { status: 200, body: { manifest: { digest } } };
      return { status: 500, body: 'unexpected' };
    },
    async (server, driver) => {
      const untag = await rejection(driver.untag(REPO, 'pr-1'));
      assert.match(untag.message, `"pr-1"`);
      assert.match(untag.message, /404/);
      const manifest = await rejection(driver.deleteManifest(REPO, digest));
      assert.match(manifest.message, digest);
      assert.equal(server.requests.filter((r) => r.method === 'GET').map((r) => r.path), [`/acr/v1/${REPO}/_tags/pr-1`, `/acr/v1/${REPO}/_manifests/${digest}`]);
      present = false;
      await driver.untag(REPO, 'pr-1');
      await driver.deleteManifest(REPO, digest);
    },
  );
});

test('untag removes one tag and leaves the manifest for its other tag; untagging it again counts as done', async () => {
  await withAcr({}, async (acr) => {
    const { digest } = acr.store.seedImage(REPO, ['keep', 'pr-1']);
    const driver = createAcrDriver(context(acr, servicePrincipal(acr)));
    await driver.untag(REPO, 'pr-1');
    assert.equal(acr.store.tags(REPO).map((t) => t.tag), ['keep']);
    assert.ok(acr.store.manifest(REPO, digest));
    await driver.untag(REPO, 'pr-1');
    assert.is(acr.registry.requestsTo(`/acr/v1/${REPO}/_tags/pr-1`, 'DELETE').map((r) => r.status).join(','), '202,404');
  });
});

test('deleting a manifest removes it with every tag on it; a second delete counts as done', async () => {
  await withAcr({}, async (acr) => {
    const { digest } = acr.store.seedImage(REPO, ['pr-1', 'pr-1-alias']);
    acr.store.seedImage(REPO, ['v1']);
    const driver = createAcrDriver(context(acr, servicePrincipal(acr)));
    await driver.deleteManifest(REPO, digest);
    assert.equal(acr.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.is(acr.store.manifest(REPO, digest), undefined);
    await driver.deleteManifest(REPO, digest);
  });
});

test('untagged manifests come from _manifests with their times; locked ones are left out', async () => {
  await withAcr({ pageSize: 1 }, async (acr) => {
    const { digest: orphan } = acr.store.seedImage(REPO, ['old'], { pushedAt: day(3) });
    const { digest: lockedOrphan } = acr.store.seedImage(REPO, ['locked-old'], { pushedAt: day(4) });
    acr.store.seedImage(REPO, ['v1'], { pushedAt: day(5) });
    acr.store.untag(REPO, 'old');
    acr.store.untag(REPO, 'locked-old');
    acr.lock(`${REPO}@${lockedOrphan}`, { deleteEnabled: false });
    const driver = createAcrDriver(context(acr, servicePrincipal(acr)));
    assert.equal(await driver.listUntagged(REPO), [{ digest: orphan, pushedAt: day(3).toISOString() }]);
  });
});

test('a locked tag is refused with a hint to unlock it or keep it, and stays', async () => {
  await withAcr({}, async (acr) => {
    const { digest } = acr.store.seedImage(REPO, ['release', 'other']);
    acr.lock(`${REPO}:release`, { deleteEnabled: false });
    acr.lock(`${REPO}:other`, { writeEnabled: false });
    const driver = createAcrDriver(context(acr, servicePrincipal(acr)));
    for (const tag of ['release', 'other']) {
      const error = await rejection(driver.untag(REPO, tag));
      assert.instance(error, RegistryError);
      assert.match(error.message, `cannot delete tag "${tag}" in "${acr.host}/${REPO}": ACR refuses it`);
      assert.match(error.hint ?? '', `az acr repository update --name ${acr.host} --image ${REPO}:${tag} --delete-enabled true`);
      assert.match(error.hint ?? '', 'add a keep rule');
    }
    const manifest = await rejection(driver.deleteManifest(REPO, digest));
    assert.match(manifest.message, `cannot delete manifest "${digest}"`);
    assert.equal(acr.store.tags(REPO).map((t) => t.tag), ['other', 'release']);
  });
});

test('a locked repository refuses every delete', async () => {
  await withAcr({}, async (acr) => {
    acr.store.seedImage(REPO, ['pr-1']);
    acr.lock(REPO, { deleteEnabled: false });
    const driver = createAcrDriver(context(acr, servicePrincipal(acr)));
    assert.match((await rejection(driver.untag(REPO, 'pr-1'))).hint ?? '', `--repository ${REPO}`);
    assert.equal(acr.store.tags(REPO).map((t) => t.tag), ['pr-1']);
  });
});

test('429 TOOMANYREQUESTS with Retry-After is waited out and the listing completes', async () => {
  await withAcr({}, async (acr) => {
    acr.store.seedImage(REPO, ['v1']);
    const driver = createAcrDriver(context(acr, servicePrincipal(acr)));
    await driver.listTagRecords(REPO); // tokens first, so the throttle hits the listing
    acr.throttle(2, '1');
    const started = Date.now();
    assert.equal((await driver.listTagRecords(REPO)).map((t) => t.tag), ['v1']);
    assert.ok(Date.now() - started >= 1900, 'waited Retry-After twice');
    assert.is(acr.registry.requests.filter((r) => r.status === 429).length, 2);
  });
});

test('Docker config credentials work without Azure env: identity token, null-GUID login, admin user', async () => {
  await withAcr({}, async (acr) => {
    acr.store.seedImage(REPO, ['v1', 'pr-1', 'pr-2', 'pr-3']);
    const refresh = acr.auth.issueRefreshToken('sp-owner');
    const logins: Omit<Credential, 'source'>[] = [
      { username: NULL_GUID, identityToken: refresh },
      { username: NULL_GUID, password: refresh },
      { username: 'myreg', password: 'admin-password-5678' },
    ];
    for (const [i, login] of logins.entries()) {
      const driver = createAcrDriver(context(acr, {}, login));
      assert.ok((await driver.listTags(REPO)).includes(`pr-${i + 1}`));
      await driver.untag(REPO, `pr-${i + 1}`);
      assert.ok((await driver.resolveTag(REPO, 'v1'))?.digest.startsWith('sha256:'));
    }
    assert.equal(acr.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.ok(acr.auth.calls.includes('GET /oauth2/token'), 'the admin user went to GET /oauth2/token with Basic');
  });
});

test('with only a service principal, Registry API reads (resolve, manifests) use its refresh token too', async () => {
  await withAcr({}, async (acr) => {
    const { digest } = acr.store.seedImage(REPO, ['v1'], { created: day(7) });
    const driver = createAcrDriver(context(acr, servicePrincipal(acr)));
    assert.is((await driver.resolveTag(REPO, 'v1'))?.digest, digest);
    const read = await driver.readManifest(REPO, digest);
    assert.is(read.descriptor.digest, digest);
  });
});

test('a workload identity (AZURE_FEDERATED_TOKEN_FILE) signs in with its federated token', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-acr-'));
  try {
    await writeFile(path.join(dir, 'token'), 'federated-jwt-abcdef\n');
    await withAcr({}, async (acr) => {
      acr.store.seedImage(REPO, ['v1']);
      const env = { AZURE_CLIENT_ID: 'sp-workload', AZURE_TENANT_ID: TENANT, AZURE_FEDERATED_TOKEN_FILE: path.join(dir, 'token'), AZURE_AUTHORITY_HOST: acr.authorityHost };
      assert.equal(await createAcrDriver(context(acr, env)).listTags(REPO), ['v1']);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a wrong client secret fails with Entra ID\'s message and a hint naming the variables, never the secret', async () => {
  await withAcr({}, async (acr) => {
    acr.store.seedImage(REPO, ['v1']);
    const wrong = 'wrong-secret-value-9876';
    const error = await rejection(createAcrDriver(context(acr, { ...servicePrincipal(acr), AZURE_CLIENT_SECRET: wrong })).listTagRecords(REPO));
    assert.instance(error, AuthError);
    assert.match(error.message, 'AADSTS7000215');
    assert.match(error.hint ?? '', 'AZURE_CLIENT_SECRET');
    assert.not.match(visible(error), wrong);
  });
});

test('an identity without delete rights is refused with the AcrDelete hint; nothing is deleted and no token shows', async () => {
  await withAcr({}, async (acr) => {
    const { digest } = acr.store.seedImage(REPO, ['pr-1']);
    const driver = createAcrDriver(context(acr, servicePrincipal(acr, 'sp-reader')));
    assert.equal(await driver.listTags(REPO), ['pr-1']);
    const error = await rejection(driver.deleteManifest(REPO, digest));
    assert.instance(error, AuthError);
    assert.match(error.hint ?? '', 'AcrDelete');
    assert.not.match(visible(error), SECRET);
    for (const token of acr.registry.auth.tokens.keys()) assert.not.match(visible(error), token);
    assert.ok(acr.store.manifest(REPO, digest));
  });
});

test('no credentials at all is a clear error naming the Azure variables and the login to make', async () => {
  await withAcr({}, async (acr) => {
    acr.store.seedImage(REPO, ['v1']);
    const error = await rejection(createAcrDriver(context(acr, {})).listTagRecords(REPO));
    assert.instance(error, CredentialsError);
    assert.match(error.message, `cannot clean up "${acr.host}": the ACR API needs credentials`);
    assert.match(error.hint ?? '', 'AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET');
    assert.match(error.hint ?? '', 'az acr login');
  });
});

test('a half-configured service principal names what is missing', async () => {
  await withAcr({}, async (acr) => {
    const error = await rejection(createAcrDriver(context(acr, { AZURE_CLIENT_ID: 'sp-owner' })).listTagRecords(REPO));
    assert.instance(error, CredentialsError);
    assert.match(error.message, 'AZURE_TENANT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE) are not set');
  });
});

test('repo discovery: the catalog across 3 Link pages while a tag is deleted and a repo pushed, filtered by prefix', async () => {
  let acr: AcrEmulator | undefined;
  const options: Partial<AcrEmulatorOptions> = {
    pageSize: 10,
    beforeCatalogPage: ({ last }) => {
      if (last !== null && acr?.store.repo('team/000-new') === undefined) acr?.store.seedImage('team/000-new', ['v1']); // sorts before the page read
    },
  };
  await withAcr(options, async (emulator) => {
    acr = emulator;
    const expected = Array.from({ length: 22 }, (_, i) => `team/${i < 4 ? 'tools/' : ''}app-${String(i).padStart(2, '0')}`).sort();
    for (const repo of expected) emulator.store.seedImage(repo, ['v1', 'pr-1']);
    emulator.store.seedImage('zzz/other', ['v1']);
    const driver = createAcrDriver(context(emulator, servicePrincipal(emulator)));
    const [repos] = await Promise.all([driver.listRepositories('team/'), driver.untag('team/app-10', 'pr-1')]);
    for (const repo of expected) assert.ok(repos.includes(repo), `${repo} is listed`);
    assert.not.ok(repos.includes('zzz/other'));
    const pages = emulator.registry.requests.filter((r) => r.path === '/acr/v1/_catalog');
    assert.equal(pages.map((r) => r.status), [200, 200, 200]);
    assert.equal(await driver.listRepositories('team/tools/'), expected.filter((r) => r.startsWith('team/tools/')));
    assert.equal(await driver.listRepositories('nobody/'), [], 'ACR has no namespaces: a prefix nothing matches lists nothing');
  });
});

test('repo discovery: an identity the catalog scope is refused to gets an AuthError naming the scope, with no secret', async () => {
  await withAcr({}, async (acr) => {
    acr.store.seedImage(REPO, ['v1']);
    const error = await rejection(createAcrDriver(context(acr, servicePrincipal(acr, 'sp-reader'))).listRepositories(''));
    assert.instance(error, AuthError);
    assert.match(error.hint ?? '', 'registry:catalog:*');
    assert.not.ok(visible(error).includes(SECRET));
  });
});

test('repo discovery: a catalog page on another origin is refused, and that origin receives nothing', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: { repositories: [] } }));
  try {
    await withAcr({ pageSize: 2, nextOrigin: elsewhere.url }, async (acr) => {
      for (const repo of ['team/a', 'team/b', 'team/c']) acr.store.seedImage(repo, ['v1']);
      const error = await rejection(createAcrDriver(context(acr, servicePrincipal(acr))).listRepositories('team/'));
      assert.match(error.message, `another origin (${elsewhere.url})`);
      assert.is(elsewhere.requests.length, 0);
    });
  } finally {
    await elsewhere.close();
  }
});

test.run();
