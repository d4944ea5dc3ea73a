/**
 * The Selectel CRaaS driver against its emulator (test/emulators/selectel.ts): the Keystone token flow and its
 * scopes, tag records with digests and push times from one images request, untagged images, nested repository
 * names, delete by digest with CRaaS's semantics (every tag goes, 404 is done, 409 during garbage collection is
 * waited out, then a clear error), missing and wrong credentials, and no secret in any message.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSelectelEmulator, type SelectelEmulator, type SelectelEmulatorOptions } from '../../test/emulators/selectel.ts';
import { AuthError, CredentialsError, RegistryError, RegplanError } from '../errors.ts';
import type { DriverContext } from './driver.ts';
import { createSelectelDriver, selectelDriver } from './selectel.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';
import { startScriptedServer, type ScriptHandler, type ScriptedServer } from '../../test/support/scripted-server.ts';
import { captureIo } from '../../test/support/io.ts';
import { runCli } from '../cli/main.ts';

const rejection = (promise: Promise<unknown>): Promise<RegplanError> => rejectionOf(promise, RegplanError);

const USER = { account: '123456', username: 'regplan-bot', password: 'pw-Very-Secret-42', project: { name: 'prod', id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' } };
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

/** Starts an emulator, runs `body`, stops it whatever happens. */
async function withEmulator(options: Partial<SelectelEmulatorOptions>, body: (emulator: SelectelEmulator) => Promise<void>): Promise<void> {
  const emulator = await startSelectelEmulator({ user: USER, ...options });
  try {
    await body(emulator);
  } finally {
    await emulator.stop();
  }
}

function contextFor(emulator: SelectelEmulator, env: Record<string, string | undefined> = {}): DriverContext {
  const values: Record<string, string | undefined> = {
    REGPLAN_REPO_SELECTEL_ACCOUNT: USER.account,
    REGPLAN_REPO_SELECTEL_USERNAME: USER.username,
    REGPLAN_REPO_SELECTEL_PASSWORD: USER.password,
    REGPLAN_REPO_SELECTEL_PROJECT: USER.project.name,
    REGPLAN_REPO_SELECTEL_IDENTITY_URL: emulator.identity,
    ...env,
  };
  return {
    host: emulator.host,
    type: 'selectel',
    registry: { host: emulator.host, insecure: false, api: emulator.api },
    credentials: async () => undefined,
    nativeSecret: async (name) => values[name],
  };
}

const driverFor = (emulator: SelectelEmulator, env: Record<string, string | undefined> = {}) =>
  createSelectelDriver(contextFor(emulator, env), { retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 20 }, gcWaitMs: 5 });


const assertNoSecret = (error: RegplanError, emulator: SelectelEmulator) => {
  const text = `${error.message}\n${error.hint ?? ''}`;
  assert.not.ok(text.includes(USER.password), `password in: ${text}`);
  for (const token of emulator.tokens.keys()) assert.not.ok(text.includes(token), `token in: ${text}`);
};

test('lists every tag with its digest and push time from one images request, in a nested repository', async () => {
  await withEmulator({}, async (emulator) => {
    const old = emulator.store.seedImage('acme/team/api', ['v1.0.0', 'stable'], { pushedAt: day(1) });
    const fresh = emulator.store.seedImage('acme/team/api', ['pr-7'], { pushedAt: day(30), content: 'pr-7' });
    const driver = driverFor(emulator);
    const records = await driver.listTagRecords('acme/team/api');
    assert.equal(records, [
      { tag: 'pr-7', digest: fresh.digest, pushedAt: day(30).toISOString() },
      { tag: 'stable', digest: old.digest, pushedAt: day(1).toISOString() },
      { tag: 'v1.0.0', digest: old.digest, pushedAt: day(1).toISOString() },
    ]);
    const imageCalls = emulator.registry.requestsTo('/api/v1/registries/', 'GET').filter((r) => r.path.endsWith('/images'));
    assert.is(imageCalls.length, 1);
    assert.match(imageCalls[0]?.path ?? '', /\/repositories\/team%2Fapi\/images$/);
    assert.is(emulator.registry.requestsTo('/v2/').length, 0, 'listing needs no Registry API call');
  });
});

test('logs in once with a project-scoped Keystone token and sends it as X-Auth-Token', async () => {
  await withEmulator({ requireProjectScope: true }, async (emulator) => {
    emulator.store.seedImage('acme/app', ['a']);
    const driver = driverFor(emulator);
    await driver.listTagRecords('acme/app');
    await driver.listUntagged('acme/app');
    assert.is(emulator.registry.requestsTo('/identity/v3/auth/tokens', 'POST').length, 1);
    assert.equal([...emulator.tokens.values()], ['project']);
    assert.is(emulator.registry.requestsTo('/api/v1/registries', 'GET').filter((r) => r.path === '/api/v1/registries').length, 1, 'the registry id is looked up once');
  });
});

test('a project id works as well as a project name', async () => {
  await withEmulator({ requireProjectScope: true }, async (emulator) => {
    emulator.store.seedImage('acme/app', ['a']);
    assert.is((await driverFor(emulator, { REGPLAN_REPO_SELECTEL_PROJECT: USER.project.id }).listTagRecords('acme/app')).length, 1);
  });
});

test('without a project the token is account-scoped; CRaaS refusing it gives an AuthError naming the project setting', async () => {
  await withEmulator({ requireProjectScope: true }, async (emulator) => {
    emulator.store.seedImage('acme/app', ['a']);
    const error = await rejection(driverFor(emulator, { REGPLAN_REPO_SELECTEL_PROJECT: undefined }).listTagRecords('acme/app'));
    assert.equal([...emulator.tokens.values()], ['account']);
    assert.instance(error, AuthError);
    assert.match(error.message, /CRaaS API refused GET .*HTTP 401/);
    assert.match(error.hint ?? '', 'REGPLAN_REPO_SELECTEL_PROJECT');
    assertNoSecret(error, emulator);
  });
});

test('a wrong password is an AuthError from Keystone that names the settings and never shows the password', async () => {
  await withEmulator({}, async (emulator) => {
    const error = await rejection(driverFor(emulator, { REGPLAN_REPO_SELECTEL_PASSWORD: 'wrong-Secret-99' }).listTagRecords('acme/app'));
    assert.instance(error, AuthError);
    assert.match(error.message, /Selectel identity API refused POST .*HTTP 401.*requires authentication/);
    assert.match(error.hint ?? '', /REGPLAN_REPO_SELECTEL_ACCOUNT, REGPLAN_REPO_SELECTEL_USERNAME and REGPLAN_REPO_SELECTEL_PASSWORD/);
    assert.not.ok(`${error.message}${error.hint ?? ''}`.includes('wrong-Secret-99'));
  });
});

test('missing credentials fail before any request, naming each env var and flag to set', async () => {
  await withEmulator({}, async (emulator) => {
    const error = await rejection(driverFor(emulator, { REGPLAN_REPO_SELECTEL_ACCOUNT: undefined, REGPLAN_REPO_SELECTEL_PASSWORD: '' }).listTagRecords('acme/app'));
    assert.instance(error, CredentialsError);
    assert.match(error.message, /cannot clean up ".*\/acme\/app" as type selectel: .*REGPLAN_REPO_SELECTEL_ACCOUNT, REGPLAN_REPO_SELECTEL_PASSWORD are not set/);
    assert.match(error.hint ?? '', '--repo-selectel-account');
    assert.is(emulator.registry.requests.length, 0);
  });
});

test('untagged images are listed with their push times; a missing repository lists nothing', async () => {
  await withEmulator({}, async (emulator) => {
    const orphan = emulator.store.seedImage('acme/app', ['temp'], { pushedAt: day(3), content: 'orphan' });
    emulator.store.seedImage('acme/app', ['keep'], { pushedAt: day(4) });
    emulator.store.untag('acme/app', 'temp');
    const driver = driverFor(emulator);
    assert.equal(await driver.listUntagged('acme/app'), [{ digest: orphan.digest, pushedAt: day(3).toISOString() }]);
  });
});

test('a repository that cannot be listed (404) is an error naming the URL tried; one that exists and is empty lists nothing', async () => {
  await withEmulator({}, async (emulator) => {
    const gone = emulator.store.seedImage('acme/emptied', ['only']);
    emulator.store.deleteManifest('acme/emptied', gone.digest);
    const driver = driverFor(emulator);
    assert.equal(await driver.listTagRecords('acme/emptied'), []);
    assert.equal(await driver.listUntagged('acme/emptied'), []);
    const error = await rejection(driver.listTagRecords('acme/nothing-here'));
    assert.instance(error, RegistryError);
    assert.is((error as RegistryError).status, 404);
    assert.match(error.message, `GET ${emulator.api}/registries/${emulator.registries['acme']}/repositories/nothing-here/images`);
    assert.match(error.message, `${emulator.host}/acme/nothing-here`);
    assertNoSecret(error, emulator);
  });
});

test('without registries.<host>.api the CRaaS API is derived by the native layer\'s rule: http for a loopback registry', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage('acme/app', ['v1']);
    const context = { ...contextFor(emulator), registry: { host: emulator.host, insecure: false } };
    const driver = createSelectelDriver(context, { retry: { attempts: 1 } });
    assert.equal((await driver.listTagRecords('acme/app')).map((r) => r.digest), [image.digest]);
  });
});

test('regplan detect lists REGPLAN_REPO_SELECTEL_IDENTITY_URL, the Keystone endpoint setting the driver reads', async () => {
  const io = captureIo({ HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent/docker', PATH: '', REGPLAN_REPO_SELECTEL_IDENTITY_URL: 'https://keystone.example/identity/v3' });
  const code = await runCli(['detect', 'cr.selcloud.ru/acme/app', '-c', '/nonexistent/regplan.yaml'], io);
  assert.is(code, 0, io.err());
  assert.match(io.out(), /--repo-selectel-identity-url \/ \$REGPLAN_REPO_SELECTEL_IDENTITY_URL: set \(\$REGPLAN_REPO_SELECTEL_IDENTITY_URL\)/);
  assert.ok(selectelDriver.capabilities.nativeCredentials.find((c) => c.env === 'REGPLAN_REPO_SELECTEL_IDENTITY_URL')?.optional, 'optional: the public endpoint is the default');
});

const REGISTRY_ID = '7c1e0b6a-2f4d-4e8a-9b3c-5d6e7f8a9b0c';
const TOKEN = 'gAAAAscripted-keystone-token';

/** A scripted Keystone + CRaaS on one loopback origin: `craas` answers every /api/v1 request but the registry list. */
async function withScriptedCraas(craas: ScriptHandler, body: (server: ScriptedServer, driver: ReturnType<typeof createSelectelDriver>) => Promise<void>): Promise<void> {
  const server = await startScriptedServer((request, self) => {
    if (request.path === '/identity/v3/auth/tokens') return { status: 201, headers: { 'x-subject-token': TOKEN }, body: { token: {} } };
    if (request.path === '/api/v1/registries') return { status: 200, body: [{ id: REGISTRY_ID, name: 'acme' }] };
    return craas(request, self);
  });
  try {
    const values: Record<string, string> = {
      REGPLAN_REPO_SELECTEL_ACCOUNT: USER.account,
      REGPLAN_REPO_SELECTEL_USERNAME: USER.username,
      REGPLAN_REPO_SELECTEL_PASSWORD: USER.password,
      REGPLAN_REPO_SELECTEL_IDENTITY_URL: `${server.url}/identity/v3`,
    };
    const context: DriverContext = {
      host: server.host,
      type: 'selectel',
      registry: { host: server.host, insecure: false, api: `${server.url}/api/v1` },
      credentials: async () => undefined,
      nativeSecret: async (name) => values[name],
    };
    await body(server, createSelectelDriver(context, { retry: { attempts: 1 } }));
  } finally {
    await server.close();
  }
}

test('a next-page pointer to another origin is never followed: CRaaS lists images in one answer, and no credential leaves its origin', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: [] }));
  try {
    const digest = `sha256:${'e'.repeat(64)}`;
    await withScriptedCraas(
      () => ({ status: 200, headers: { link: `<${elsewhere.url}/api/v1/registries/${REGISTRY_ID}/repositories/app/images?page=2>; rel="next"` }, body: [{ digest, tags: ['v1'], createdAt: '2025-01-01T00:00:00.123456789Z' }] }),
      async (server, driver) => {
        assert.equal(await driver.listTagRecords('acme/app'), [{ tag: 'v1', digest, pushedAt: '2025-01-01T00:00:00.123Z' }]);
        assert.ok(server.requests.some((r) => r.headers['x-auth-token'] === TOKEN));
        assert.is(elsewhere.requests.length, 0, 'the other origin got no request, so no token');
      },
    );
  } finally {
    await elsewhere.close();
  }
});

test('a 404 on DELETE is "already gone" only when a lookup of that digest agrees; otherwise the delete fails', async () => {
  const digest = `sha256:${'f'.repeat(64)}`;
  let present = true;
  await withScriptedCraas(
    (request) => {
      if (request.method === 'DELETE') return { status: 404, body: { error: { id: digest, message: 'manifest not found' } } };
      if (request.path === `/api/v1/registries/${REGISTRY_ID}/repositories/app/${digest}`) {
        return present ? { status: 200, body: [{ digest: `sha256:${'1'.repeat(64)}`, size: 10 }] } : { status: 404, body: { error: { id: digest, message: 'manifest not found' } } };
      }
      return { status: 500, body: 'unexpected' };
    },
    async (server, driver) => {
      const error = await rejection(driver.deleteManifest('acme/app', digest));
      assert.match(error.message, digest);
      assert.match(error.message, /404/);
      assert.is(server.requests.filter((r) => r.method === 'GET' && r.path.endsWith(digest)).length, 1, 'looked the digest up once');
      present = false;
      await driver.deleteManifest('acme/app', digest);
    },
  );
});

test('an unknown registry name or an address without a repository is a clear error', async () => {
  await withEmulator({}, async (emulator) => {
    const driver = driverFor(emulator);
    const unknown = await rejection(driver.listTagRecords('other/app'));
    assert.match(unknown.message, 'CRaaS has no registry named "other"');
    assert.match(unknown.hint ?? '', 'REGPLAN_REPO_SELECTEL_PROJECT');
    const bare = await rejection(driver.listTagRecords('app'));
    assert.match(bare.message, /needs a registry and a repository/);
  });
});

test('deleting a digest removes the manifest and every tag on it; an already-deleted digest counts as done', async () => {
  await withEmulator({}, async (emulator) => {
    const shared = emulator.store.seedImage('acme/app', ['pr-1', 'pr-1-alias'], { content: 'shared' });
    emulator.store.seedImage('acme/app', ['v1'], { content: 'kept' });
    const driver = driverFor(emulator);
    await driver.deleteManifest('acme/app', shared.digest);
    assert.equal(emulator.store.tags('acme/app').map((t) => t.tag), ['v1']);
    assert.is(emulator.store.manifest('acme/app', shared.digest), undefined);
    await driver.deleteManifest('acme/app', shared.digest);
    assert.equal(emulator.registry.requestsTo('/api/v1/registries/', 'DELETE').map((r) => r.status), [204, 404]);
  });
});

test('a 409 while garbage collection runs is waited out and the delete then succeeds', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage('acme/app', ['pr-2']);
    emulator.startGarbageCollection(2);
    await driverFor(emulator).deleteManifest('acme/app', image.digest);
    assert.equal(emulator.registry.requestsTo('/api/v1/registries/', 'DELETE').map((r) => r.status), [409, 409, 204]);
    assert.equal(emulator.store.tags('acme/app'), []);
  });
});

test('a garbage collection that outlasts the retries fails the delete with a clear 409 error', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage('acme/app', ['pr-3']);
    emulator.startGarbageCollection(Number.POSITIVE_INFINITY);
    const error = await rejection(driverFor(emulator).deleteManifest('acme/app', image.digest));
    assert.instance(error, RegistryError);
    assert.is((error as RegistryError).status, 409);
    assert.match(error.message, /garbage collection of CRaaS registry "acme" is still running \(HTTP 409 on 4 attempts/);
    assert.match(error.hint ?? '', 'run the same apply again');
    assert.is(emulator.registry.requestsTo('/api/v1/registries/', 'DELETE').length, 4);
    assert.equal(emulator.store.tags('acme/app').map((t) => t.tag), ['pr-3']);
    assertNoSecret(error, emulator);
  });
});

test('reads still go through the Registry API: a tag resolves to the digest CRaaS lists', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage('acme/app', ['v2']);
    const driver = driverFor(emulator);
    assert.is((await driver.resolveTag('acme/app', 'v2'))?.digest, image.digest);
    assert.is(await driver.resolveTag('acme/app', 'gone'), undefined);
  });
});

test('the factory is ready, cannot untag, lists untagged images, and needs account, user and password', () => {
  assert.is(selectelDriver.status, 'ready');
  assert.is(selectelDriver.capabilities.untag, false);
  assert.is(selectelDriver.capabilities.listUntagged, true);
  assert.equal(selectelDriver.capabilities.nativeCredentials.filter((c) => !c.optional).map((c) => c.env), ['REGPLAN_REPO_SELECTEL_ACCOUNT', 'REGPLAN_REPO_SELECTEL_USERNAME', 'REGPLAN_REPO_SELECTEL_PASSWORD']);
  const driver = selectelDriver.create({ host: 'cr.selcloud.ru', type: 'selectel', credentials: async () => undefined, nativeSecret: async () => undefined });
  assert.not.ok('untag' in driver);
  assert.not.ok('cleanupRefusal' in driver);
});

test.run();
