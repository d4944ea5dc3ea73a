/**
 * The Nexus driver against its emulator (test/emulators/nexus.ts): with `api` set to the Nexus repository URL,
 * tag records from the components search (continuation tokens, loose name matching), per-tag component deletes
 * that leave a shared manifest's other tags, manifest deletes of every tag on a digest, listings that stay complete
 * while deletes run, credentials; without `api`, the Registry-API route and Nexus's redeploy refusal with a hint.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNexusEmulator, type NexusEmulator, type NexusEmulatorOptions } from '../../test/emulators/nexus.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';
import { AuthError, RegistryError, RegplanError } from '../errors.ts';
import type { DriverContext } from './driver.ts';
import { canUntag, hasDetailedListing } from './driver.ts';
import { createNexusDriver, nexusRepositoryUrl } from './nexus.ts';

const rejection = (promise: Promise<unknown>): Promise<RegplanError> => rejectionOf(promise, RegplanError);
const USER = { username: 'cleaner', password: 'Nexus-Secret-pw-31' };
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

async function withEmulator(options: Partial<NexusEmulatorOptions>, body: (emulator: NexusEmulator) => Promise<void>): Promise<void> {
  const emulator = await startNexusEmulator({ user: USER, ...options });
  try {
    await body(emulator);
  } finally {
    await emulator.stop();
  }
}

function driverFor(emulator: NexusEmulator, options: { api?: string | undefined; env?: Record<string, string>; login?: boolean } = {}) {
  const env: Record<string, string> = options.env ?? { REGPLAN_REPO_NEXUS_USERNAME: USER.username, REGPLAN_REPO_NEXUS_PASSWORD: USER.password };
  const api = 'api' in options ? options.api : emulator.api;
  const context: DriverContext = {
    host: emulator.host,
    type: 'nexus',
    registry: { host: emulator.host, insecure: false, ...(api === undefined ? {} : { api }) },
    credentials: async () => (options.login === true ? { ...USER, source: 'test' } : undefined),
    nativeSecret: async (name) => env[name],
  };
  return createNexusDriver(context, { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
}

test('the Nexus repository URL gives the REST base and the repository name; other URLs do not', () => {
  assert.equal(nexusRepositoryUrl('https://nexus.example.com/repository/docker-hosted/'), { rest: 'https://nexus.example.com/service/rest/v1', repository: 'docker-hosted' });
  assert.equal(nexusRepositoryUrl('https://example.com/nexus/repository/dock'), { rest: 'https://example.com/nexus/service/rest/v1', repository: 'dock' });
  assert.is(nexusRepositoryUrl('https://nexus.example.com'), undefined);
  assert.is(nexusRepositoryUrl(undefined), undefined);
});

test('lists every tag with its manifest digest and blobCreated across continuation tokens, ignoring images the search matched loosely', async () => {
  await withEmulator({ pageSize: 2 }, async (emulator) => {
    const release = emulator.store.seedImage('acme/app', ['v1.0.0', 'stable'], { pushedAt: day(1), content: 'release' });
    const builds = [0, 1, 2].map((i) => emulator.store.seedImage('acme/app', [`pr-${i}`], { pushedAt: day(2 + i), content: `pr ${i}` }));
    emulator.store.seedImage('acme/app-other', ['v9'], { content: 'other image' });
    const driver = driverFor(emulator);
    if (!hasDetailedListing(driver)) throw new Error('components route expected');
    const records = await driver.listTagRecords('acme/app');
    assert.equal(records, [
      ...builds.map((b, i) => ({ tag: `pr-${i}`, digest: b.digest, pushedAt: day(2 + i).toISOString() })),
      { tag: 'stable', digest: release.digest, pushedAt: day(1).toISOString() },
      { tag: 'v1.0.0', digest: release.digest, pushedAt: day(1).toISOString() },
    ]);
    const pages = emulator.registry.requestsTo('/service/rest/v1/search', 'GET');
    assert.is(pages.length, 3, 'six components (one of another image), two per page');
    assert.ok(pages.slice(1).every((p) => p.query.includes('continuationToken=')));
    assert.match(pages[0]?.query ?? '', /repository=docker-hosted&format=docker&name=acme%2Fapp/);
  });
});

test('the last download of a tag\'s manifest is its pull time; never downloaded by that path stays unknown', async () => {
  await withEmulator({}, async (emulator) => {
    emulator.store.seedImage('acme/app', ['v1'], { pushedAt: day(1), content: 'pulled' });
    emulator.store.seedImage('acme/app', ['v2'], { pushedAt: day(2), content: 'not pulled' });
    emulator.store.recordPull('acme/app', 'v1', day(5));
    const driver = driverFor(emulator);
    if (!hasDetailedListing(driver)) throw new Error('components route expected');
    assert.is(driver.capabilities.pullTimes, true);
    const records = await driver.listTagRecords('acme/app');
    assert.is(records.find((r) => r.tag === 'v1')?.pulled, day(5).toISOString());
    assert.ok(records.find((r) => r.tag === 'v2') !== undefined && !('pulled' in (records.find((r) => r.tag === 'v2') ?? {})));
  });
});

test('untag deletes that tag\'s component only: the shared manifest and its other tag stay', async () => {
  await withEmulator({}, async (emulator) => {
    const shared = emulator.store.seedImage('acme/app', ['v1.0.0', 'pr-1']);
    const driver = driverFor(emulator);
    assert.ok(canUntag(driver) && driver.capabilities.untag);
    if (!canUntag(driver)) return;
    await driver.untag('acme/app', 'pr-1');
    assert.equal(emulator.store.tags('acme/app').map((t) => t.tag), ['v1.0.0']);
    assert.ok(emulator.store.manifest('acme/app', shared.digest));
    assert.is(emulator.deleted.length, 1);
  });
});

test('a manifest delete removes the component of every tag on that digest and nothing else', async () => {
  await withEmulator({}, async (emulator) => {
    const doomed = emulator.store.seedImage('acme/app', ['pr-1', 'pr-1-alias'], { content: 'doomed' });
    emulator.store.seedImage('acme/app', ['v1'], { content: 'kept' });
    await driverFor(emulator).deleteManifest('acme/app', doomed.digest);
    assert.equal(emulator.store.tags('acme/app').map((t) => t.tag), ['v1']);
    assert.is(emulator.deleted.length, 2);
  });
});

test('a 404 on a component DELETE counts as gone only when the component is gone: still there, the untag fails', async () => {
  await withEmulator({ deleteAnswers404: true }, async (emulator) => {
    emulator.store.seedImage('acme/app', ['v1', 'pr-1']);
    const driver = driverFor(emulator);
    if (!canUntag(driver)) throw new Error('components route expected');
    const error = await rejection(driver.untag('acme/app', 'pr-1'));
    assert.instance(error, RegistryError);
    assert.match(error.message, /Nexus answered the DELETE with HTTP 404, but the component is still there/);
    assert.equal(emulator.store.tags('acme/app').map((t) => t.tag), ['pr-1', 'v1']);
  });
});

test('untag of a tag Nexus no longer has is a 404 for apply to confirm', async () => {
  await withEmulator({}, async (emulator) => {
    emulator.store.seedImage('acme/app', ['v1']);
    const driver = driverFor(emulator);
    if (!canUntag(driver)) throw new Error('components route expected');
    const error = await rejection(driver.untag('acme/app', 'pr-9'));
    assert.instance(error, RegistryError);
    assert.is((error as RegistryError).status, 404);
    assert.is(emulator.deleted.length, 0);
  });
});

test('manifest deletes after a listing use its component ids, re-read each, and leave a tag that moved to another manifest', async () => {
  await withEmulator({}, async (emulator) => {
    const doomed = [0, 1, 2, 3].map((i) => emulator.store.seedImage('acme/app', [`pr-${i}`], { content: `pr ${i}` }).digest);
    const driver = driverFor(emulator);
    if (!hasDetailedListing(driver)) throw new Error('components route expected');
    await driver.listTagRecords('acme/app');
    const moved = emulator.store.seedImage('acme/app', ['pr-3'], { content: 'pr 3, rebuilt' }); // pr-3 now names another manifest
    for (const digest of doomed) await driver.deleteManifest('acme/app', digest);
    assert.equal(emulator.store.tags('acme/app').map((t) => [t.tag, t.digest]), [['pr-3', moved.digest]], 'the moved tag stays');
    assert.is(emulator.registry.requestsTo('/service/rest/v1/search', 'GET').length, 1, 'no listing per delete');
    assert.is(emulator.deleted.length, 3);
  });
});

test('deletes running while the search pages: every survivor is listed', async () => {
  await withEmulator({ pageSize: 3 }, async (emulator) => {
    const doomed = Array.from({ length: 12 }, (_, i) => emulator.store.seedImage('acme/app', [`pr-${i}`], { content: `pr ${i}` }).digest);
    const kept = Array.from({ length: 6 }, (_, i) => emulator.store.seedImage('acme/app', [`v${i}`], { content: `v ${i}` }).digest);
    const lister = driverFor(emulator);
    const deleter = driverFor(emulator);
    if (!hasDetailedListing(lister)) throw new Error('components route expected');
    const [listed] = await Promise.all([lister.listTagRecords('acme/app'), ...doomed.map((d) => deleter.deleteManifest('acme/app', d))]);
    for (const digest of kept) assert.ok(listed.some((r) => r.digest === digest));
    assert.equal(emulator.store.tags('acme/app').map((t) => t.tag), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
  });
});

test('the Docker login is used for the REST API when no Nexus user is set; a refusal is an AuthError without the password', async () => {
  await withEmulator({}, async (emulator) => {
    emulator.store.seedImage('acme/app', ['v1']);
    const viaLogin = driverFor(emulator, { env: {}, login: true });
    if (!hasDetailedListing(viaLogin)) throw new Error('components route expected');
    assert.is((await viaLogin.listTagRecords('acme/app')).length, 1);
    const wrong = driverFor(emulator, { env: { REGPLAN_REPO_NEXUS_USERNAME: 'cleaner', REGPLAN_REPO_NEXUS_PASSWORD: 'wrong-Secret-7' } });
    if (!hasDetailedListing(wrong)) throw new Error('components route expected');
    const error = await rejection(wrong.listTagRecords('acme/app'));
    assert.instance(error, AuthError);
    assert.match(error.hint ?? '', 'nx-repository-view-docker-docker-hosted');
    assert.not.ok(`${error.message}${error.hint ?? ''}`.includes('wrong-Secret-7'));
  });
});

test('a Nexus whose REST API answers 404 is an error naming the api setting, never an empty repository', async () => {
  await withEmulator({ restDisabled: true }, async (emulator) => {
    emulator.store.seedImage('acme/app', ['v1']);
    const driver = driverFor(emulator);
    if (!hasDetailedListing(driver)) throw new Error('components route expected');
    const error = await rejection(driver.listTagRecords('acme/app'));
    assert.instance(error, RegistryError);
    assert.match(error.hint ?? '', /registries.<host>.api: it must be the Nexus repository URL.*remove api to clean up through the Registry API/);
  });
});

test('without api: the Registry-API route (no untag), and a repository refusing redeploy gets a hint naming the deployment policy', async () => {
  await withEmulator({ allowRedeploy: false }, async (emulator) => {
    const image = emulator.store.seedImage('acme/app', ['pr-1']);
    const driver = driverFor(emulator, { api: undefined });
    assert.not.ok(canUntag(driver));
    assert.not.ok(hasDetailedListing(driver));
    assert.is(driver.capabilities.untag, false);
    assert.match(driver.capabilities.cleanupPath, /Registry API.*set registries.<host>.api to the Nexus repository URL/);
    const error = await rejection(driver.deleteManifest('acme/app', image.digest));
    assert.instance(error, RegistryError);
    assert.is((error as RegistryError).status, 400);
    assert.match(error.hint ?? '', /deployment policy is "Allow redeploy"/);
    assert.ok(emulator.store.manifest('acme/app', image.digest));
  });
});

test.run();
