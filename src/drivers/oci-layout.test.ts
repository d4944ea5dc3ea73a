import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { RegplanError } from '../errors.ts';
import { MediaType } from '../registry/oci.ts';
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

test('listTagRecords gives digest, media type and push time per tag; unknown times stay absent', async () => {
  const dir = await copyDemoLayout();
  const driver = fullDriver(`oci:${dir}`);
  if (!hasDetailedListing(driver)) throw new Error('unreachable');
  const records = await driver.listTagRecords('');
  assert.equal(records.map((r) => r.tag), await driver.listTags(''));
  const byTag = new Map(records.map((r) => [r.tag, r]));
  assert.equal(byTag.get('v1.0.0')?.pushedAt, '2026-01-12T10:15:00.000Z');
  assert.equal(byTag.get('v1.1.0')?.pushedAt, '2026-02-16T14:02:00.000Z');
  const latest = byTag.get('latest');
  assert.is(latest?.mediaType, MediaType.ociIndex);
  assert.is(latest?.digest, await skopeoDigest(dir, 'latest'));
  assert.is(latest?.digest, byTag.get('v2.0.0')?.digest);
  const sig = byTag.get(`${latest?.digest.replace(':', '-')}.sig`);
  assert.ok(sig);
  assert.not.ok('pushedAt' in (sig ?? {}), 'a signature without a build time has no pushedAt');
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

test('listUntagged gives the demo layout\'s one untagged manifest with its time', async () => {
  const driver = fullDriver(`oci:${await copyDemoLayout()}`);
  if (!canListUntagged(driver)) throw new Error('unreachable');
  const untagged = await driver.listUntagged('');
  assert.is(untagged.length, 1);
  assert.is(untagged[0]?.pushedAt, '2026-01-05T09:00:00.000Z');
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
