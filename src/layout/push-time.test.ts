import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { CREATED_ANNOTATION, MediaType } from '../registry/oci.ts';
import { normalizeTime } from './push-time.ts';
import { OciLayout } from './store.ts';
import { copyDemoLayout, jsonBytes, putTestImage, removeTempDirs, tempDir } from '../../test/support/oci-layout.ts';

test.after.each(removeTempDirs);

test('normalizeTime: ISO output; placeholders of reproducible builds and garbage are unknown', () => {
  assert.is(normalizeTime('2026-03-01T10:00:00+02:00'), '2026-03-01T08:00:00.000Z');
  assert.is(normalizeTime('0001-01-01T00:00:00Z'), undefined);
  assert.is(normalizeTime('1970-01-01T00:00:00Z'), undefined);
  assert.is(normalizeTime('yesterday'), undefined);
  assert.is(normalizeTime(42), undefined);
});

test('the manifest annotation wins over the config; the config is the fallback; none means unknown', async () => {
  const layout = await OciLayout.create(path.join(await tempDir(), 'l'));
  const both = await putTestImage(layout, 'a', { tag: 'both', annotationCreated: '2026-03-01T00:00:00Z', configCreated: '2026-01-01T00:00:00Z' });
  const config = await putTestImage(layout, 'b', { tag: 'config', configCreated: '2026-02-01T00:00:00Z' });
  const none = await putTestImage(layout, 'c', { tag: 'none' });
  assert.is(await layout.pushedAt(both.manifest), '2026-03-01T00:00:00.000Z');
  assert.is(await layout.pushedAt(config.manifest), '2026-02-01T00:00:00.000Z');
  assert.is(await layout.pushedAt(none.manifest), undefined);
  const annotatedEntry = { ...none.manifest, annotations: { [CREATED_ANNOTATION]: '2026-04-01T00:00:00Z' } };
  assert.is(await layout.pushedAt(annotatedEntry), '2026-04-01T00:00:00.000Z', 'an index.json entry annotation comes first');
});

test('an index without its own time takes the newest of its children', async () => {
  const layout = await OciLayout.create(path.join(await tempDir(), 'l'));
  const older = await putTestImage(layout, 'amd64', { child: true, configCreated: '2026-05-01T00:00:00Z' });
  const newer = await putTestImage(layout, 'arm64', { child: true, configCreated: '2026-05-02T00:00:00Z' });
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [older.manifest, newer.manifest] };
  const descriptor = await layout.putManifest(jsonBytes(index), MediaType.ociIndex, { tag: 'multi' });
  assert.is(await layout.pushedAt(descriptor), '2026-05-02T00:00:00.000Z');
});

test('demo layout: annotated, config-only, index and signature times read as generated', async () => {
  const layout = await OciLayout.open(await copyDemoLayout());
  const at = async (tag: string) => {
    const descriptor = await layout.resolveTag(tag);
    assert.ok(descriptor, tag);
    return layout.pushedAt(descriptor);
  };
  assert.is(await at('v1.0.0'), '2026-01-12T10:15:00.000Z');
  assert.is(await at('v1.1.0'), '2026-02-16T14:02:00.000Z');
  assert.is(await at('latest'), '2026-08-03T10:00:00.000Z');
  const release = await layout.resolveTag('v2.0.0');
  assert.is(await at(`${release?.digest.replace(':', '-')}.sig`), undefined, 'cosign writes 0001-01-01: unknown, planned as new');
});

test.run();
