/**
 * The Artifactory driver against its emulator (test/emulators/artifactory.ts): tags over Link pages with digests
 * from HEADs and push times from one Storage API file list (times with an offset, `list.manifest.json` for a
 * multi-arch tag), untag through the REST tag-folder delete (the manifest stays for its other tags), manifest
 * deletes that remove only the folders the listing showed, the repository path and the subdomain/port/repo-key
 * access methods, the three credential kinds, and the errors that name what to fix.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { artifactoryTime, startArtifactoryEmulator, type ArtifactoryEmulator, type ArtifactoryEmulatorOptions } from '../../test/emulators/artifactory.ts';
import { AuthError, RegplanError, StalePlanError } from '../errors.ts';
import type { Credential } from '../credentials/types.ts';
import type { DriverContext } from './driver.ts';
import { artifactoryApi, createArtifactoryDriver } from './artifactory.ts';
import { rejection } from '../../test/support/rejection.ts';

const TOKEN = 'art-access-Token-Secret-42';
const API_KEY = 'AKCp-legacy-Api-Key-Secret-7';
const REPO = 'docker-local/team/web';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

async function withEmulator(body: (emulator: ArtifactoryEmulator) => Promise<void>, options: ArtifactoryEmulatorOptions = {}): Promise<void> {
  const emulator = await startArtifactoryEmulator({ accessTokens: [TOKEN], apiKeys: [API_KEY], users: { ci: 'ci-Password-9' }, ...options });
  try {
    await body(emulator);
  } finally {
    await emulator.stop();
  }
}

function contextFor(emulator: ArtifactoryEmulator, secrets: Record<string, string> = { REGPLAN_REPO_ARTIFACTORY_TOKEN: TOKEN }, extra: { api?: string; docker?: Credential } = {}): DriverContext {
  return {
    host: emulator.host,
    type: 'artifactory',
    registry: { host: emulator.host, insecure: false, ...(extra.api === undefined ? {} : { api: extra.api }) },
    credentials: async () => extra.docker,
    nativeSecret: async (name) => secrets[name],
  };
}

test('the REST base and repo key come from the access method', () => {
  assert.equal(artifactoryApi({ host: 'acme.jfrog.io' }), { base: 'https://acme.jfrog.io/artifactory' });
  assert.equal(artifactoryApi({ host: 'docker-local.art.example.com', registry: { host: 'x', insecure: false, api: 'https://art.example.com/artifactory/api/docker/docker-local' } }), {
    base: 'https://art.example.com/artifactory', repoKey: 'docker-local',
  });
  assert.equal(artifactoryApi({ host: 'art.example.com', registry: { host: 'x', insecure: false, api: 'https://art.example.com' } }), { base: 'https://art.example.com/artifactory' });
});

test('lists tags over Link pages with digests and push times from one Storage API file list', async () => {
  await withEmulator(async (emulator) => {
    for (let i = 0; i < 25; i++) emulator.store.seedImage(REPO, [`pr-${String(i).padStart(2, '0')}`], { pushedAt: day(i), content: `pr ${i}` });
    const shared = emulator.store.seedImage(REPO, ['v1', 'stable'], { pushedAt: day(30), content: 'release' });
    const records = await createArtifactoryDriver(contextFor(emulator)).listTagRecords(REPO);
    assert.is(records.length, 27);
    assert.equal(records.find((r) => r.tag === 'pr-07'), {
      tag: 'pr-07', digest: emulator.store.resolve(REPO, 'pr-07')?.digest ?? '', mediaType: 'application/vnd.oci.image.manifest.v1+json', pushedAt: day(7).toISOString(),
    });
    assert.match(artifactoryTime(day(7)), /\+02:00$/, 'the emulator answers in its own zone');
    assert.equal(records.filter((r) => r.digest === shared.digest).map((r) => r.tag), ['stable', 'v1']);
    assert.equal(emulator.registry.requestsTo(`/v2/${REPO}/tags/list`, 'GET').map((r) => new URLSearchParams(r.query).get('last')), [null, 'pr-09', 'pr-19']);
    const storage = emulator.registry.requestsTo('/artifactory/api/storage/', 'GET');
    assert.equal(storage.map((r) => `${r.path}?${r.query}`), ['/artifactory/api/storage/docker-local/team/web?list=&deep=1']);
  }, { pageSize: 10 });
});

test('a multi-arch tag takes its time from list.manifest.json', async () => {
  await withEmulator(async (emulator) => {
    const index = emulator.store.seedImage(REPO, ['multi'], { pushedAt: day(3), platforms: ['linux/amd64', 'linux/arm64'] });
    const [record] = await createArtifactoryDriver(contextFor(emulator)).listTagRecords(REPO);
    assert.equal(record, { tag: 'multi', digest: index.digest, mediaType: index.mediaType, pushedAt: day(3).toISOString() });
  });
});

test('an unknown repository lists nothing, without asking the Storage API', async () => {
  await withEmulator(async (emulator) => {
    assert.equal(await createArtifactoryDriver(contextFor(emulator)).listTagRecords('docker-local/none'), []);
    assert.is(emulator.registry.requestsTo('/artifactory/').length, 0);
  });
});

test('untag removes one tag folder; the manifest stays for its other tag', async () => {
  await withEmulator(async (emulator) => {
    const shared = emulator.store.seedImage(REPO, ['v1', 'pr-1'], { content: 'shared' });
    await createArtifactoryDriver(contextFor(emulator)).untag(REPO, 'pr-1');
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.ok(emulator.store.manifest(REPO, shared.digest));
    assert.equal(emulator.registry.requestsTo('/artifactory/docker-local/team/web/pr-1', 'DELETE').map((r) => r.status), [204]);
  });
});

test('deleting a manifest removes the folders of the tags the listing showed on it, and it goes with the last', async () => {
  await withEmulator(async (emulator) => {
    const doomed = emulator.store.seedImage(REPO, ['a', 'b'], { content: 'doomed' });
    emulator.store.seedImage(REPO, ['keep'], { content: 'kept' });
    const driver = createArtifactoryDriver(contextFor(emulator));
    await driver.listTagRecords(REPO);
    await driver.deleteManifest(REPO, doomed.digest);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['keep']);
    assert.not.ok(emulator.store.manifest(REPO, doomed.digest));
    assert.equal(emulator.registry.requestsTo('/artifactory/docker-local/', 'DELETE').map((r) => r.path.split('/').at(-1)), ['a', 'b']);
    assert.is(emulator.registry.requestsTo('/v2/', 'DELETE').length, 0, 'no Registry API delete');
  });
});

test('a tag pushed onto the manifest since the listing keeps it; a listed tag moved away since is left where it is', async () => {
  await withEmulator(async (emulator) => {
    const doomed = emulator.store.seedImage(REPO, ['pr-1', 'latest'], { content: 'doomed' });
    const next = emulator.store.seedImage(REPO, ['next'], { content: 'next' });
    const driver = createArtifactoryDriver(contextFor(emulator));
    await driver.listTagRecords(REPO);
    const old = emulator.store.manifest(REPO, doomed.digest);
    const moved = emulator.store.manifest(REPO, next.digest);
    emulator.store.putManifest(REPO, 'rollback', old?.bytes as Uint8Array, old?.mediaType ?? '');
    emulator.store.putManifest(REPO, 'latest', moved?.bytes as Uint8Array, moved?.mediaType ?? '');
    await driver.deleteManifest(REPO, doomed.digest);
    assert.equal(emulator.store.tags(REPO).map((t) => `${t.tag}=${t.digest === next.digest ? 'next' : 'doomed'}`), ['latest=next', 'next=next', 'rollback=doomed']);
    assert.ok(emulator.store.manifest(REPO, doomed.digest), 'rollback still holds it');
  });
});

test('a manifest held only by a tag pushed since the listing is left alone: stale, nothing removed', async () => {
  await withEmulator(async (emulator) => {
    const doomed = emulator.store.seedImage(REPO, ['a'], { content: 'doomed' });
    const driver = createArtifactoryDriver(contextFor(emulator));
    await driver.listTagRecords(REPO);
    const manifest = emulator.store.manifest(REPO, doomed.digest);
    emulator.store.untag(REPO, 'a');
    emulator.store.putManifest(REPO, 'late', manifest?.bytes as Uint8Array, manifest?.mediaType ?? '');
    const error = await rejection(driver.deleteManifest(REPO, doomed.digest), StalePlanError);
    assert.match(error.message, /held by a tag the listing did not show; left alone/);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['late']);
    assert.is(emulator.registry.requestsTo('/artifactory/', 'DELETE').length, 0);
  });
});

test('subdomain / port / repo-key method: the api names the repo key, and the whole name is the image path', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage('team/web', ['v1', 'pr-1'], { pushedAt: day(2), content: 'shared' });
    const driver = createArtifactoryDriver(contextFor(emulator, undefined, { api: `${emulator.base}/api/docker/docker-local` }));
    const records = await driver.listTagRecords('team/web');
    assert.equal(records.map((r) => `${r.tag} ${r.pushedAt ?? ''}`), [`pr-1 ${day(2).toISOString()}`, `v1 ${day(2).toISOString()}`]);
    await driver.untag('team/web', 'pr-1');
    assert.equal(emulator.store.tags('team/web').map((t) => t.tag), ['v1']);
    assert.equal(emulator.registry.requestsTo('/artifactory/', 'DELETE').map((r) => r.path), ['/artifactory/docker-local/team/web/pr-1']);
  }, { repoKey: 'docker-local' });
});

test('the wrong access method is an error naming the folder and what to set, not an empty listing', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage('team/web', ['v1']);
    const error = await rejection(createArtifactoryDriver(contextFor(emulator)).listTagRecords('team/web'), RegplanError);
    assert.match(error.message, /has no folder for .*team\/web/);
    assert.match(error.hint ?? '', /repo key "team" and image "web" were assumed/);
    assert.match(error.hint ?? '', /api\/docker\/<repo-key>/);
  }, { repoKey: 'docker-local' });
});

test('a 404 on a tag delete while the tag is still there is a failure, not "already gone"', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage('team/web', ['pr-1']);
    const driver = createArtifactoryDriver(contextFor(emulator, undefined, { api: `${emulator.base}/api/docker/other-key` }));
    const error = await rejection(driver.untag('team/web', 'pr-1'), RegplanError);
    assert.match(error.message, /answered 404 to DELETE .*yet the tag is still there/);
    assert.equal(emulator.store.tags('team/web').map((t) => t.tag), ['pr-1']);
  }, { repoKey: 'docker-local' });
});

test('a tag delete of a tag already gone is done', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage(REPO, ['v1']);
    await createArtifactoryDriver(contextFor(emulator)).untag(REPO, 'pr-gone');
  });
});

test('credentials: access token as Bearer, API key as X-JFrog-Art-Api, else the Docker login as Basic', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage(REPO, ['v1', 'pr-1', 'pr-2', 'pr-3'], { content: 'shared' });
    await createArtifactoryDriver(contextFor(emulator, { REGPLAN_REPO_ARTIFACTORY_TOKEN: TOKEN })).untag(REPO, 'pr-1');
    await createArtifactoryDriver(contextFor(emulator, { REGPLAN_REPO_ARTIFACTORY_API_KEY: API_KEY })).untag(REPO, 'pr-2');
    await createArtifactoryDriver(contextFor(emulator, {}, { docker: { username: 'ci', password: 'ci-Password-9', source: 'test' } })).untag(REPO, 'pr-3');
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v1']);
  });
});

test('a refused credential is an AuthError with the hint, and no secret in it; anonymous cannot read the Storage API', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage(REPO, ['v1']);
    const wrong = 'wrong-Token-Secret-0';
    const refused = await rejection(createArtifactoryDriver(contextFor(emulator, { REGPLAN_REPO_ARTIFACTORY_TOKEN: wrong })).listTagRecords(REPO), AuthError);
    assert.match(refused.message, /HTTP 401 "Bad credentials"/);
    assert.match(refused.hint ?? '', /REGPLAN_REPO_ARTIFACTORY_TOKEN/);
    assert.not.ok(`${refused.message}${refused.hint ?? ''}`.includes(wrong));
    const anonymous = await rejection(createArtifactoryDriver(contextFor(emulator, {})).listTagRecords(REPO), AuthError);
    assert.match(anonymous.hint ?? '', /refuses anonymous users/);
  });
});

test('with the repository path method a name without an image under the repo key is an error', async () => {
  await withEmulator(async (emulator) => {
    const error = await rejection(createArtifactoryDriver(contextFor(emulator)).untag('web', 'v1'), RegplanError);
    assert.match(error.message, /must be <repo-key>\/<image>/);
    assert.is(emulator.registry.requestsTo('/artifactory/').length, 0);
  });
});

test('a hostile tag name is refused before any REST request', async () => {
  await withEmulator(async (emulator) => {
    await rejection(createArtifactoryDriver(contextFor(emulator)).untag(REPO, '..'));
    assert.is(emulator.registry.requestsTo('/artifactory/').length, 0);
  });
});

test.run();
