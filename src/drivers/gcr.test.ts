/**
 * The GCR / Artifact Registry driver against its emulator (test/emulators/gcr.ts): tag records and untagged
 * manifests from Google's tags/list `manifest` map (no HEAD per tag), Link pages followed where the registry
 * pages, "0" upload times passed on for inventory to judge, untag by tag, and digest deletes that untag the listed
 * tags first (GOOGLE_MANIFEST_DANGLING_TAG) and never a tag pushed since the listing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startGcrEmulator, type GcrEmulator, type GcrEmulatorOptions } from '../../test/emulators/gcr.ts';
import { startMemoryRegistry } from '../../test/emulators/memory-registry.ts';
import { ProtocolError, StalePlanError } from '../errors.ts';
import type { DriverContext } from './driver.ts';
import { createGcrDriver, danglingTags, googleManifests } from './gcr.ts';
import { rejection } from '../../test/support/rejection.ts';

const REPO = 'acme-project/web/api';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

async function withEmulator(body: (emulator: GcrEmulator) => Promise<void>, options: GcrEmulatorOptions = {}): Promise<void> {
  const emulator = await startGcrEmulator(options);
  try {
    await body(emulator);
  } finally {
    await emulator.stop();
  }
}

const contextFor = (host: string): DriverContext => ({ host, type: 'gcr', credentials: async () => undefined, nativeSecret: async () => undefined });
const driverFor = (emulator: GcrEmulator) => createGcrDriver(contextFor(emulator.host));

test('lists tags with digests and upload times from the manifest map in one request, no HEAD per tag', async () => {
  await withEmulator(async (emulator) => {
    for (let i = 0; i < 30; i++) emulator.store.seedImage(REPO, [`pr-${String(i).padStart(2, '0')}`], { pushedAt: day(i), content: `pr ${i}` });
    const shared = emulator.store.seedImage(REPO, ['v1', 'stable'], { pushedAt: day(40), content: 'release' });
    const records = await driverFor(emulator).listTagRecords(REPO);
    assert.is(records.length, 32);
    assert.equal(records.find((r) => r.tag === 'pr-07'), {
      tag: 'pr-07', digest: emulator.store.resolve(REPO, 'pr-07')?.digest ?? '', mediaType: 'application/vnd.oci.image.manifest.v1+json', pushedAt: day(7).toISOString(),
    });
    assert.equal(records.filter((r) => r.digest === shared.digest).map((r) => r.tag), ['stable', 'v1']);
    assert.equal(emulator.registry.requests.filter((r) => r.path !== '/v2/').map((r) => `${r.method} ${r.path}`), [`GET /v2/${REPO}/tags/list`]);
  });
});

test('lists manifests whose tag list is empty as untagged, with their upload time', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage(REPO, ['v1'], { pushedAt: day(1), content: 'kept' });
    const orphan = emulator.store.seedImage(REPO, ['gone'], { pushedAt: day(2), content: 'orphan' });
    emulator.store.untag(REPO, 'gone');
    const driver = driverFor(emulator);
    assert.equal(await driver.listUntagged(REPO), [{ digest: orphan.digest, pushedAt: day(2).toISOString() }]);
    assert.equal((await driver.listTagRecords(REPO)).map((r) => r.tag), ['v1']);
    assert.ok(driver.capabilities.listUntagged && driver.capabilities.untag);
  });
});

test('follows Link pages where the registry pages, each page with its part of the map', async () => {
  await withEmulator(async (emulator) => {
    for (let i = 0; i < 25; i++) emulator.store.seedImage(REPO, [`t-${String(i).padStart(2, '0')}`], { pushedAt: day(i), content: `t ${i}` });
    const records = await driverFor(emulator).listTagRecords(REPO);
    assert.is(records.length, 25);
    assert.equal(records.map((r) => r.pushedAt), Array.from({ length: 25 }, (_, i) => day(i).toISOString()));
    assert.equal(emulator.registry.requestsTo(`/v2/${REPO}/tags/list`, 'GET').map((r) => new URLSearchParams(r.query).get('last')), [null, 't-09', 't-19']);
  }, { pageSize: 10 });
});

test('an upload time of "0" is passed on as parsed (1970), for inventory to judge as unknown', async () => {
  await withEmulator(async (emulator) => {
    const { digest } = emulator.store.seedImage(REPO, ['v0'], { pushedAt: day(3), content: 'zero' });
    emulator.zeroUploadTime(digest);
    const [record] = await driverFor(emulator).listTagRecords(REPO);
    assert.equal(record, { tag: 'v0', digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', pushedAt: '1970-01-01T00:00:00.000Z' });
  });
});

test('Artifact Registry sends timeUploadedMs as a number and timeCreatedMs "0": upload times still read', async () => {
  await withEmulator(async (emulator) => {
    const { digest } = emulator.store.seedImage(REPO, ['v1'], { pushedAt: day(5), content: 'ar' });
    const orphan = emulator.store.seedImage(REPO, ['gone'], { pushedAt: day(6), content: 'orphan' });
    emulator.store.untag(REPO, 'gone');
    const driver = driverFor(emulator);
    assert.equal(await driver.listTagRecords(REPO), [{ tag: 'v1', digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', pushedAt: day(5).toISOString() }]);
    assert.equal(await driver.listUntagged(REPO), [{ digest: orphan.digest, pushedAt: day(6).toISOString() }]);
  }, { artifactRegistry: true });
});

test('an unknown repository lists nothing', async () => {
  await withEmulator(async (emulator) => {
    const driver = driverFor(emulator);
    assert.equal(await driver.listTagRecords('acme-project/none'), []);
    assert.equal(await driver.listUntagged('acme-project/none'), []);
  });
});

test('a registry without the manifest map is an error, not an empty untagged listing', async () => {
  const plain = await startMemoryRegistry({ tagDelete: 'untag' });
  try {
    plain.store.seedImage(REPO, ['v1']);
    const error = await rejection(createGcrDriver(contextFor(plain.host)).listUntagged(REPO), ProtocolError);
    assert.match(error.message, /without Google's "manifest" map/);
  } finally {
    await plain.stop();
  }
});

test('names outside the grammar in the map are passed on for inventory to reject, and never put into a URL', async () => {
  const good = `sha256:${'a'.repeat(64)}`;
  const found = googleManifests([{ manifest: { [good]: { tag: ['v1', '../x', 'a/b'], timeUploadedMs: '1700000000000' }, 'sha256:../../x': { tag: ['v2'] } } }], REPO, 'gcr.io');
  assert.equal(found, [
    { digest: good, tags: ['v1', '../x', 'a/b'], uploadedAt: new Date(1_700_000_000_000).toISOString() },
    { digest: 'sha256:../../x', tags: ['v2'] },
  ]);
  const registry = await startMemoryRegistry({
    tagDelete: 'untag',
    digestDelete: 'dangling-tag-400',
    routes: (req, res, url, store, helpers) => {
      if (req.method !== 'GET' || url.pathname !== `/v2/${REPO}/tags/list`) return false;
      const digest = store.resolve(REPO, 'pr-1')?.digest ?? '';
      helpers.sendJson(req, res, 200, { name: REPO, tags: [], manifest: { [digest]: { tag: [...store.tagsOf(REPO, digest), '../../v1', 'pr-1/../v1'] } } });
      return true;
    },
  });
  try {
    const doomed = registry.store.seedImage(REPO, ['pr-1'], { content: 'doomed' });
    registry.store.seedImage(REPO, ['v1'], { content: 'kept' });
    const driver = createGcrDriver(contextFor(registry.host));
    assert.equal((await driver.listTagRecords(REPO)).map((r) => r.tag), ['../../v1', 'pr-1', 'pr-1/../v1']);
    await driver.deleteManifest(REPO, doomed.digest);
    assert.equal(registry.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.equal(registry.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path.split('/').at(-1)}`), ['HEAD pr-1', 'DELETE pr-1', `DELETE ${doomed.digest}`]);
  } finally {
    await registry.stop();
  }
});

test('untag removes one tag and keeps the manifest for its other tag', async () => {
  await withEmulator(async (emulator) => {
    const shared = emulator.store.seedImage(REPO, ['v1', 'pr-1'], { content: 'shared' });
    await driverFor(emulator).untag(REPO, 'pr-1');
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.ok(emulator.store.manifest(REPO, shared.digest));
  });
});

test('deleting a tagged manifest untags the tags the listing showed on it, then deletes it', async () => {
  await withEmulator(async (emulator) => {
    const doomed = emulator.store.seedImage(REPO, ['a', 'b', 'c'], { content: 'doomed' });
    emulator.store.seedImage(REPO, ['keep'], { content: 'kept' });
    const driver = driverFor(emulator);
    await driver.listTagRecords(REPO); // apply re-lists right before deleting
    await driver.deleteManifest(REPO, doomed.digest);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['keep']);
    assert.not.ok(emulator.store.manifest(REPO, doomed.digest));
    const deletes = emulator.registry.requestsTo(`/v2/${REPO}/manifests/`, 'DELETE').map((r) => `${r.path.split('/').at(-1)} ${r.status}`);
    assert.equal(deletes, ['a 202', 'b 202', 'c 202', `${doomed.digest} 202`], 'no refused digest delete first');
    assert.is(emulator.registry.requestsTo(`/v2/${REPO}/tags/list`).length, 1, 'no listing per delete');
  });
});

test('without an earlier listing, deleting lists once to learn the tags', async () => {
  await withEmulator(async (emulator) => {
    const doomed = emulator.store.seedImage(REPO, ['pr-9'], { content: 'pr 9' });
    await driverFor(emulator).deleteManifest(REPO, doomed.digest);
    assert.not.ok(emulator.store.manifest(REPO, doomed.digest));
    assert.is(emulator.registry.requestsTo(`/v2/${REPO}/tags/list`).length, 1);
  });
});

test('a tag pushed onto the manifest since the listing is never untagged: the delete is stale and the manifest stays', async () => {
  await withEmulator(async (emulator) => {
    const doomed = emulator.store.seedImage(REPO, ['pr-1'], { content: 'doomed' });
    const driver = driverFor(emulator);
    await driver.listTagRecords(REPO);
    const manifest = emulator.store.manifest(REPO, doomed.digest);
    emulator.store.putManifest(REPO, 'rollback', manifest?.bytes as Uint8Array, manifest?.mediaType ?? ''); // a rollback re-tag
    const error = await rejection(driver.deleteManifest(REPO, doomed.digest), StalePlanError);
    assert.match(error.message, /now also tagged "rollback"; left alone/);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['rollback']);
    assert.ok(emulator.store.manifest(REPO, doomed.digest));
    assert.is(emulator.registry.requestsTo(`/v2/${REPO}/manifests/rollback`, 'DELETE').length, 0);
  });
});

test('a listed tag moved to another manifest since is left on it', async () => {
  await withEmulator(async (emulator) => {
    const doomed = emulator.store.seedImage(REPO, ['pr-1', 'latest'], { content: 'doomed' });
    const next = emulator.store.seedImage(REPO, ['next'], { content: 'next' });
    const driver = driverFor(emulator);
    await driver.listTagRecords(REPO);
    const moved = emulator.store.manifest(REPO, next.digest);
    emulator.store.putManifest(REPO, 'latest', moved?.bytes as Uint8Array, moved?.mediaType ?? '');
    await driver.deleteManifest(REPO, doomed.digest);
    assert.equal(emulator.store.resolve(REPO, 'latest')?.digest, next.digest);
    assert.not.ok(emulator.store.manifest(REPO, doomed.digest));
  });
});

test('with GCR\'s Bearer auth (user oauth2accesstoken), listing and deleting share one client: one token per scope, not one per path', async () => {
  await withEmulator(async (emulator) => {
    const doomed = emulator.store.seedImage(REPO, ['pr-1'], { content: 'doomed' });
    emulator.store.seedImage(REPO, ['v1'], { content: 'kept' });
    const driver = createGcrDriver({ ...contextFor(emulator.host), credentials: async () => ({ username: 'oauth2accesstoken', password: 'ya29.access-Token', source: 'test' }) });
    assert.equal((await driver.listTagRecords(REPO)).map((r) => r.tag), ['pr-1', 'v1']);
    await driver.deleteManifest(REPO, doomed.digest);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v1']);
    const tokens = emulator.registry.requestsTo('/token', 'GET').map((r) => new URLSearchParams(r.query).get('scope'));
    assert.equal(tokens, [`repository:${REPO}:pull`, `repository:${REPO}:delete`]);
  }, { auth: { kind: 'bearer', users: { oauth2accesstoken: 'ya29.access-Token' } } });
});

test('the dangling-tag error names the tag to untag', () => {
  const error = { errors: [{ code: 'GOOGLE_MANIFEST_DANGLING_TAG', message: 'Manifest is still referenced by tag: v1.2' }] };
  assert.equal(danglingTags(error as never), ['v1.2']);
  assert.equal(danglingTags({ errors: [{ code: 'UNSUPPORTED', message: 'referenced by tag: x' }] } as never), []);
});

test.run();
