import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REGISTRY_TYPES } from '../config/types.ts';
import { isNotFound, RegplanError } from '../errors.ts';
import { canListUntagged, canPush, canReadManifests, canUntag, type DriverContext, hasDetailedListing, refusesCleanup } from './driver.ts';
import { capabilitiesFor, DRIVER_FACTORIES, driverFactory, needsNativeCredentials, supportMatrix } from './index.ts';
import { cleanupPendingDriver } from './unavailable.ts';

/** Registry DELETE semantics of three real registries (shared/reference/registry-apis.md §1.9). */
type Semantics = 'distribution-2.8' | 'gcr' | 'gcr-unnamed' | 'quay';

const REPO = 'team/app';
const MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** A small in-memory registry on 127.0.0.1 speaking just enough of the Registry API for drivers. */
async function startRegistry(semantics: Semantics, tags: Record<string, string>) {
  const manifests = new Map<string, Buffer>();
  const tagMap = new Map<string, string>();
  for (const [tag, seed] of Object.entries(tags)) {
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE, seed }));
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    manifests.set(digest, bytes);
    tagMap.set(tag, digest);
  }
  const requests: string[] = [];
  const fail = (res: import('node:http').ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code, message }] }));
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    if (url.pathname === '/v2/') return void res.writeHead(200).end('{}');
    const match = /^\/v2\/(.+)\/(tags\/list|manifests\/(.+))$/.exec(url.pathname);
    if (!match || match[1] !== REPO) return fail(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry');
    if (match[2] === 'tags/list') {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: REPO, tags: [...tagMap.keys()].sort() }));
    }
    const ref = decodeURIComponent(match[3] ?? '');
    const isDigestRef = ref.startsWith('sha256:');
    const digest = isDigestRef ? (manifests.has(ref) ? ref : undefined) : tagMap.get(ref);
    if (req.method === 'GET' || req.method === 'HEAD') {
      const bytes = digest === undefined ? undefined : manifests.get(digest);
      if (digest === undefined || bytes === undefined) return fail(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      res.writeHead(200, { 'content-type': MEDIA_TYPE, 'docker-content-digest': digest, 'content-length': String(bytes.length) });
      return void res.end(req.method === 'GET' ? bytes : undefined);
    }
    if (req.method !== 'DELETE') return fail(res, 405, 'UNSUPPORTED', 'method not allowed');
    if (digest === undefined) return fail(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
    if (!isDigestRef) {
      if (semantics === 'distribution-2.8') return fail(res, 400, 'UNSUPPORTED', 'The operation is unsupported.');
      tagMap.delete(ref);
      return void res.writeHead(202).end();
    }
    const pointing = [...tagMap].filter(([, d]) => d === digest).map(([t]) => t);
    if ((semantics === 'gcr' || semantics === 'gcr-unnamed') && pointing.length > 0) {
      const message = semantics === 'gcr' ? `Manifest is still referenced by tag: ${pointing[0]}` : 'Manifest is still referenced by tags';
      return fail(res, 400, 'GOOGLE_MANIFEST_DANGLING_TAG', message);
    }
    for (const tag of pointing) tagMap.delete(tag);
    manifests.delete(digest);
    return void res.writeHead(202).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    requests,
    tags: () => [...tagMap.keys()].sort(),
    digestOf: (tag: string) => tagMap.get(tag) ?? '',
    hasManifest: (digest: string) => manifests.has(digest),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const contextFor = (host: string, type: DriverContext['type']): DriverContext => ({
  host,
  type,
  credentials: async () => undefined,
  nativeSecret: async () => undefined,
});

test('every registry type has a factory of that type, with a title and a cleanup path', () => {
  for (const type of REGISTRY_TYPES) {
    const factory = driverFactory(type);
    assert.is(factory.type, type);
    assert.ok(factory.title.length > 0);
    assert.ok(factory.capabilities.cleanupPath.length > 0);
    for (const credential of factory.capabilities.nativeCredentials) {
      if (credential.source === 'chain' || credential.source === 'ci') {
        assert.ok((credential.chainEnv ?? []).length > 0, `${type}: a chain or CI variable names the env vars that enable it`);
        assert.is(credential.flag, '', `${type}: no regplan flag for a ${credential.source} credential`);
        continue;
      }
      assert.match(credential.flag, /^--repo-/, `${type}: ${credential.flag}`);
      assert.is(credential.env, `REGPLAN_${credential.flag.slice(2).toUpperCase().replaceAll('-', '_')}`);
    }
  }
});

test('capabilities follow design §2 and §5.3: untag where the registry can, *ok where native credentials are needed', () => {
  const untag = REGISTRY_TYPES.filter((t) => DRIVER_FACTORIES[t].capabilities.untag).sort();
  assert.equal(untag, ['acr', 'artifactory', 'dockerhub', 'ecr', 'gcr', 'gitlab', 'harbor', 'oci', 'quay']);
  const starred = REGISTRY_TYPES.filter((t) => needsNativeCredentials(DRIVER_FACTORIES[t].capabilities)).sort();
  assert.equal(starred, ['acr', 'dockerhub', 'ecr', 'github', 'gitlab', 'selectel']);
  assert.ok(REGISTRY_TYPES.every((t) => DRIVER_FACTORIES[t].capabilities.push));
});

test('GitHub: ghcr.io takes bundles, docker.pkg.github.com refuses them with a reason', () => {
  const github = driverFactory('github');
  assert.is(capabilitiesFor(github, 'ghcr.io').bundles, true);
  const legacy = capabilitiesFor(github, 'docker.pkg.github.com:443');
  assert.is(legacy.bundles, false);
  assert.match(legacy.bundlesRefusal ?? '', 'does not store OCI artifacts');
  assert.is(capabilitiesFor(driverFactory('quay'), 'docker.pkg.github.com'), driverFactory('quay').capabilities);
});

test('the support matrix has a row per type plus the legacy GitHub host', () => {
  const rows = supportMatrix();
  assert.is(rows.length, REGISTRY_TYPES.length + 1);
  const legacy = rows.find((r) => r.detect === 'docker.pkg.github.com');
  assert.is(legacy?.bundles, false);
  assert.is(rows.find((r) => r.type === 'github' && r !== legacy)?.detect, 'ghcr.io');
  assert.is(rows.find((r) => r.type === 'nexus')?.detect, 'set explicitly');
});

test('a type whose native driver is pending reads and pushes through the Registry API but refuses cleanup, saying what to do', async () => {
  // Every type has its native driver now; cleanupPendingDriver stays the honest answer for a future one.
  const pending = { type: 'ecr', title: 'Future Registry', capabilities: driverFactory('default').capabilities } as const;
  const driver = cleanupPendingDriver(pending, contextFor('registry.example.com', 'ecr'), { why: 'it deletes through its own API', workaround: 'use type default' });
  assert.ok(refusesCleanup(driver), 'refuses cleanup');
  assert.ok(canPush(driver), 'can still push bundles');
  const refusal = driver.cleanupRefusal();
  assert.instance(refusal, RegplanError);
  assert.match(refusal.message, 'the Future Registry driver is not built yet');
  assert.is(refusal.hint, 'use type default');
  try {
    await driver.deleteManifest('acme/app', `sha256:${'0'.repeat(64)}`);
    assert.unreachable('must not delete');
  } catch (error) {
    assert.instance(error, RegplanError);
    assert.match((error as RegplanError).message, 'driver is not built yet');
  }
});

test('ecr: untags, lists tag records and untagged images through the AWS API, and does not refuse cleanup up front', () => {
  const driver = driverFactory('ecr').create(contextFor('123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'ecr'));
  assert.is(driverFactory('ecr').status, 'ready');
  assert.ok(canUntag(driver) && hasDetailedListing(driver) && canListUntagged(driver) && canPush(driver));
  assert.is(driver.capabilities.untag, true);
  assert.is(driver.capabilities.listUntagged, true);
  assert.not.ok(refusesCleanup(driver));
});

test('Registry-API fallbacks say honestly that they cannot untag or list untagged manifests (nexus: without api)', () => {
  for (const type of ['default', 'nexus'] as const) {
    const driver = driverFactory(type).create(contextFor('registry.example.com', type));
    assert.is(driver.type, type);
    assert.is(driver.capabilities.untag, false, type);
    assert.is(canUntag(driver), false, type);
    assert.is(driver.capabilities.listUntagged, false, type);
    assert.is(canListUntagged(driver), false, type);
  }
});

test('yandex: lists tags and untagged images through the images API, ready, and says it cannot untag', () => {
  const driver = driverFactory('yandex').create(contextFor('cr.yandex', 'yandex'));
  assert.is(driverFactory('yandex').status, 'ready');
  assert.ok(hasDetailedListing(driver) && canListUntagged(driver) && canPush(driver));
  assert.is(driver.capabilities.listUntagged, true);
  assert.is(driver.capabilities.untag, false);
  assert.not.ok(canUntag(driver));
});

test('gitlab: untags and lists through the GitLab API on gitlab.com; a self-hosted host without an api base refuses cleanup', () => {
  const hosted = driverFactory('gitlab').create(contextFor('registry.gitlab.com', 'gitlab'));
  assert.ok(canUntag(hosted) && hasDetailedListing(hosted));
  assert.is(hosted.capabilities.untag, true);
  assert.not.ok(refusesCleanup(hosted));
  const selfHosted = driverFactory('gitlab').create(contextFor('registry.example.com', 'gitlab'));
  assert.ok(refusesCleanup(selfHosted));
  assert.match(refusesCleanup(selfHosted) ? (selfHosted.cleanupRefusal().hint ?? '') : '', 'registries."registry.example.com".api');
});

test('default: lists, resolves and deletes by digest; a missing repo has no tags; a second delete is a 404 left for apply to confirm', async () => {
  const registry = await startRegistry('distribution-2.8', { v1: 'a', v2: 'b', latest: 'b' });
  try {
    const driver = driverFactory('default').create(contextFor(registry.host, 'default'));
    assert.equal((await driver.listTags(REPO)).sort(), ['latest', 'v1', 'v2']);
    assert.equal(await driver.listTags('team/missing'), []);
    const v2 = await driver.resolveTag(REPO, 'v2');
    assert.is(v2?.digest, registry.digestOf('v2'));
    assert.is(await driver.resolveTag(REPO, 'nope'), undefined);
    assert.ok(canReadManifests(driver));
    if (canReadManifests(driver)) {
      const read = await driver.readManifest(REPO, registry.digestOf('v1'));
      assert.is(read.descriptor.digest, registry.digestOf('v1'));
      assert.is(read.manifest.schemaVersion, 2);
    }
    await driver.deleteManifest(REPO, registry.digestOf('v2'));
    assert.equal(registry.tags(), ['v1']); // the digest took both of its tags
    // 404 now: the driver reports it; apply calls it "already gone" only after a fresh lookup (a 404 is not proof).
    const again = await driver.deleteManifest(REPO, v2?.digest ?? '').then(() => undefined, (e: unknown) => e);
    assert.ok(isNotFound(again), 'the 404 reaches apply');
  } finally {
    await registry.close();
  }
});

test('quay: untag removes one tag and keeps the manifest for the other', async () => {
  const registry = await startRegistry('quay', { v1: 'a', latest: 'a' });
  try {
    const driver = driverFactory('quay').create(contextFor(registry.host, 'quay'));
    assert.ok(canUntag(driver));
    assert.is(driver.capabilities.untag, true);
    const digest = registry.digestOf('v1');
    if (canUntag(driver)) await driver.untag(REPO, 'v1');
    assert.equal(registry.tags(), ['latest']);
    assert.ok(registry.hasManifest(digest));
  } finally {
    await registry.close();
  }
});

// GCR's dangling-tag deletes are tested against the GCR emulator in gcr.test.ts.

test.run();
