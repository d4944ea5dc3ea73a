import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import pLimit from 'p-limit';
import { RegplanError } from '../errors.ts';
import { takeInventory } from '../plan/inventory.ts';
import { ManifestCache } from '../plan/manifest-cache.ts';
import { CREATED_ANNOTATION, MediaType } from '../registry/oci.ts';
import { canListUntagged, canUntag, collectsGarbage, type Driver, type DriverContext, hasDetailedListing } from './driver.ts';
import { driverFactory } from './index.ts';
import { layoutDir, ociLayoutDriver } from './oci-layout.ts';
import { blobDigests, copyDemoLayout, removeTempDirs, skopeoDigest, tempDir } from '../../test/support/oci-layout.ts';

test.after.each(removeTempDirs);

const contextFor = (host: string): DriverContext => ({
  host,
  type: 'oci',
  credentials: async () => undefined,
  nativeSecret: async () => undefined,
});

function fullDriver(host: string) {
  const driver: Driver = ociLayoutDriver.create(contextFor(host));
  assert.ok(canUntag(driver) && hasDetailedListing(driver) && canListUntagged(driver) && collectsGarbage(driver));
  return driver;
}

test('the oci factory is registered and declares untag, untagged listing, push and bundles', () => {
  assert.is(driverFactory('oci'), ociLayoutDriver);
  const { capabilities } = ociLayoutDriver;
  assert.ok(capabilities.push && capabilities.bundles && capabilities.untag && capabilities.listUntagged);
  assert.is(capabilities.cleanupPath, 'edits index.json (tags), removes unreferenced blobs');
  assert.equal(capabilities.nativeCredentials, []);
});

test('the layout directory comes from the oci: address; the repo name is ignored', () => {
  assert.is(layoutDir({ host: 'oci:./examples/demo-layout' }, 'anything'), './examples/demo-layout');
  assert.is(layoutDir({ host: '/srv/layout' }), '/srv/layout');
  assert.is(layoutDir({ host: 'oci' }, 'oci:/srv/layout'), '/srv/layout');
});

/** The inventory a plan takes of a layout through the driver (times come from content there, see oci-layout.ts). */
const inventoryOf = (driver: Driver) => takeInventory({ repo: 'oci:layout', name: '', driver }, { cache: new ManifestCache(undefined), limit: pLimit(4) });

test('listTagRecords gives digest and media type per tag from index.json; the plan reads push times from the content', async () => {
  const dir = await copyDemoLayout();
  const driver = fullDriver(`oci:${dir}`);
  if (!hasDetailedListing(driver)) throw new Error('unreachable');
  const records = await driver.listTagRecords('');
  assert.equal(records.map((r) => r.tag), await driver.listTags(''));
  assert.ok(records.every((r) => r.pushedAt === undefined), 'no demo index.json entry records a time itself');
  const byTag = new Map(records.map((r) => [r.tag, r]));
  const times = new Map((await inventoryOf(driver)).tags.map((r) => [r.tag, r.pushedAt]));
  assert.is(times.get('v1.0.0'), '2026-01-12T10:15:00.000Z');
  assert.is(times.get('v1.1.0'), '2026-02-16T14:02:00.000Z');
  assert.is(times.get('latest'), '2026-08-03T10:00:00.000Z', 'an index: its newest child');
  const latest = byTag.get('latest');
  assert.is(latest?.mediaType, MediaType.ociIndex);
  assert.is(latest?.digest, await skopeoDigest(dir, 'latest'));
  assert.is(latest?.digest, byTag.get('v2.0.0')?.digest);
  const sig = `${latest?.digest.replace(':', '-')}.sig`;
  assert.ok(byTag.has(sig));
  assert.ok(times.has(sig) && times.get(sig) === undefined, 'a signature without a build time (cosign writes 0001-01-01) has no pushedAt');
  assert.is(byTag.get('pr-104')?.digest, byTag.get('main-0f1e2d3')?.digest);
});

test('untag through the driver removes only that tag; skopeo still reads the shared manifest', async () => {
  const dir = await copyDemoLayout();
  const driver = fullDriver(`oci:${dir}`);
  if (!canUntag(driver)) throw new Error('unreachable');
  const shared = await driver.resolveTag('', 'pr-104');
  await driver.untag('', 'pr-104');
  await driver.untag('', 'pr-104'); // already gone counts as done
  assert.is(await driver.resolveTag('', 'pr-104'), undefined);
  assert.is(await skopeoDigest(dir, 'pr-104'), undefined);
  assert.is(await skopeoDigest(dir, 'main-0f1e2d3'), shared?.digest);
});

test('deleteManifest then collectGarbage removes the tags and the content (skopeo agrees)', async () => {
  const dir = await copyDemoLayout();
  const driver = fullDriver(`oci:${dir}`);
  if (!collectsGarbage(driver)) throw new Error('unreachable');
  const before = await blobDigests(dir);
  const digest = (await driver.resolveTag('', 'branch-feature-x'))?.digest ?? '';
  await driver.deleteManifest('', digest);
  await driver.deleteManifest('', digest);
  assert.not.ok((await driver.listTags('')).includes('branch-feature-x'));
  const report = await driver.collectGarbage('');
  assert.is(report.removed.length, 3);
  assert.ok(report.removed.includes(digest));
  assert.is((await blobDigests(dir)).length, before.length - 3);
  assert.is(await skopeoDigest(dir, 'branch-feature-x'), undefined);
  assert.ok(await skopeoDigest(dir, 'pr-103'));
});

test('listUntagged gives the demo layout\'s one untagged manifest; the plan reads its time from the content', async () => {
  const driver = fullDriver(`oci:${await copyDemoLayout()}`);
  if (!canListUntagged(driver)) throw new Error('unreachable');
  const untagged = await driver.listUntagged('');
  assert.is(untagged.length, 1);
  assert.equal((await inventoryOf(driver)).untagged, [{ digest: untagged[0]?.digest ?? '', pushedAt: '2026-01-05T09:00:00.000Z' }]);
});

test('a time recorded on the index.json entry itself is the listing\'s push time, ahead of the content\'s', async () => {
  const dir = await copyDemoLayout();
  const indexFile = path.join(dir, 'index.json');
  const index = JSON.parse(await readFile(indexFile, 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === 'v1.0.0');
  if (!entry?.annotations) throw new Error('the demo layout has v1.0.0');
  entry.annotations[CREATED_ANNOTATION] = '2026-04-01T00:00:00+02:00';
  await writeFile(indexFile, JSON.stringify(index));
  const driver = fullDriver(`oci:${dir}`);
  if (!hasDetailedListing(driver)) throw new Error('unreachable');
  assert.is((await driver.listTagRecords('')).find((r) => r.tag === 'v1.0.0')?.pushedAt, '2026-03-31T22:00:00.000Z');
  assert.is((await inventoryOf(driver)).tags.find((r) => r.tag === 'v1.0.0')?.pushedAt, '2026-03-31T22:00:00.000Z');
});

test('a directory that does not exist is an empty repo; one that is not a layout is a clear error', async () => {
  const root = await tempDir();
  const missing = fullDriver(`oci:${path.join(root, 'nothing-here')}`);
  assert.equal(await missing.listTags(''), []);
  assert.is(await missing.resolveTag('', 'v1'), undefined);
  await missing.deleteManifest('', `sha256:${'a'.repeat(64)}`);
  const plain = path.join(root, 'plain');
  await mkdir(plain);
  try {
    await fullDriver(`oci:${plain}`).listTags('');
    assert.unreachable('a non-layout directory must be refused');
  } catch (e) {
    assert.instance(e, RegplanError);
    assert.match((e as RegplanError).message, `"${plain}" is not an OCI image layout`);
  }
});

test.run();
