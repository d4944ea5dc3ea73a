import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import pLimit from 'p-limit';
import { ociLayoutDriver } from '../drivers/oci-layout.ts';
import { takeInventory } from '../plan/inventory.ts';
import { ManifestCache } from '../plan/manifest-cache.ts';
import { CREATED_ANNOTATION, MediaType } from '../registry/oci.ts';
import { entryPushTime, normalizeTime } from './push-time.ts';
import { OciLayout } from './store.ts';
import { copyDemoLayout, jsonBytes, putTestImage, removeTempDirs, tempDir } from '../../test/support/oci-layout.ts';

test.after.each(removeTempDirs);

/** Push time per tag as a plan sees it: the driver's listing, then inventory's reading of the content. */
async function planTimes(dir: string): Promise<Map<string, string | undefined>> {
  const driver = ociLayoutDriver.create({ host: `oci:${dir}`, type: 'oci', credentials: async () => undefined, nativeSecret: async () => undefined });
  const inventory = await takeInventory({ repo: `oci:${dir}`, name: '', driver }, { cache: new ManifestCache(undefined), limit: pLimit(4) });
  return new Map(inventory.tags.map((record) => [record.tag, record.pushedAt]));
}

test('normalizeTime: ISO output; placeholders of reproducible builds and garbage are unknown', () => {
  assert.is(normalizeTime('2026-03-01T10:00:00+02:00'), '2026-03-01T08:00:00.000Z');
  assert.is(normalizeTime('0001-01-01T00:00:00Z'), undefined);
  assert.is(normalizeTime('1970-01-01T00:00:00Z'), undefined);
  assert.is(normalizeTime('yesterday'), undefined);
  assert.is(normalizeTime(42), undefined);
});

test('an index.json entry records its own time in its created annotation; without one it records none', () => {
  const entry = { mediaType: MediaType.ociManifest, digest: `sha256:${'a'.repeat(64)}`, size: 1 };
  assert.is(entryPushTime({ ...entry, annotations: { [CREATED_ANNOTATION]: '2026-04-01T00:00:00Z' } }), '2026-04-01T00:00:00.000Z');
  assert.is(entryPushTime({ ...entry, annotations: { [CREATED_ANNOTATION]: '0001-01-01T00:00:00Z' } }), undefined);
  assert.is(entryPushTime(entry), undefined);
});

test('the manifest annotation wins over the config; the config is the fallback; none means unknown', async () => {
  const dir = path.join(await tempDir(), 'l');
  const layout = await OciLayout.create(dir);
  await putTestImage(layout, 'a', { tag: 'both', annotationCreated: '2026-03-01T00:00:00Z', configCreated: '2026-01-01T00:00:00Z' });
  await putTestImage(layout, 'b', { tag: 'config', configCreated: '2026-02-01T00:00:00Z' });
  await putTestImage(layout, 'c', { tag: 'none' });
  const times = await planTimes(dir);
  assert.is(times.get('both'), '2026-03-01T00:00:00.000Z');
  assert.is(times.get('config'), '2026-02-01T00:00:00.000Z');
  assert.ok(times.has('none') && times.get('none') === undefined);
});

test('an index without its own time takes the newest of its children', async () => {
  const dir = path.join(await tempDir(), 'l');
  const layout = await OciLayout.create(dir);
  const older = await putTestImage(layout, 'amd64', { child: true, configCreated: '2026-05-01T00:00:00Z' });
  const newer = await putTestImage(layout, 'arm64', { child: true, configCreated: '2026-05-02T00:00:00Z' });
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [older.manifest, newer.manifest] };
  await layout.putManifest(jsonBytes(index), MediaType.ociIndex, { tag: 'multi' });
  assert.is((await planTimes(dir)).get('multi'), '2026-05-02T00:00:00.000Z');
});

test('demo layout: annotated, config-only, index and signature times read as generated', async () => {
  const dir = await copyDemoLayout();
  const times = await planTimes(dir);
  assert.is(times.get('v1.0.0'), '2026-01-12T10:15:00.000Z');
  assert.is(times.get('v1.1.0'), '2026-02-16T14:02:00.000Z');
  assert.is(times.get('latest'), '2026-08-03T10:00:00.000Z');
  const release = await (await OciLayout.open(dir)).resolveTag('v2.0.0');
  const signature = `${release?.digest.replace(':', '-')}.sig`;
  assert.ok(times.has(signature) && times.get(signature) === undefined, 'cosign writes 0001-01-01: unknown, planned as new');
});

test.run();
