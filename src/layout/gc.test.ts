import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { type ImageIndex, type ImageManifest, MediaType } from '../registry/oci.ts';
import { OciLayout } from './store.ts';
import { blobDigests, copyDemoLayout, putTestImage, removeTempDirs, skopeo, skopeoDigest, tempDir } from '../../test/support/oci-layout.ts';

test.after.each(removeTempDirs);

/** The digests one manifest owns: itself, its config and layers (for an index: its children's too). */
async function ownedBlobs(layout: OciLayout, digest: string): Promise<string[]> {
  const { manifest } = await layout.readManifest(digest);
  if (Array.isArray((manifest as ImageIndex).manifests)) {
    const children = await Promise.all((manifest as ImageIndex).manifests.map((child) => ownedBlobs(layout, child.digest)));
    return [digest, ...children.flat()].sort();
  }
  const image = manifest as ImageManifest;
  return [digest, image.config.digest, ...image.layers.map((l) => l.digest)].sort();
}

test('on an intact layout garbage collection removes nothing', async () => {
  const dir = await copyDemoLayout();
  const before = await blobDigests(dir);
  const report = await (await OciLayout.open(dir)).garbageCollect();
  assert.equal(report, { removed: [], bytesFreed: 0 });
  assert.equal(await blobDigests(dir), before);
});

test('after deleteManifest it removes exactly the blobs only that manifest reached', async () => {
  const dir = await copyDemoLayout();
  const layout = await OciLayout.open(dir);
  const before = await blobDigests(dir);
  const digest = (await layout.resolveTag('pr-101'))?.digest ?? '';
  const owned = await ownedBlobs(layout, digest);
  assert.is(owned.length, 3);
  await layout.deleteManifest(digest);
  const report = await layout.garbageCollect();
  assert.equal(report.removed, owned);
  assert.ok(report.bytesFreed > 0);
  assert.equal(await blobDigests(dir), before.filter((d) => !owned.includes(d)));
});

test('an index that keeps one tag keeps its children, their configs and layers (skopeo copies all platforms)', async () => {
  const dir = await copyDemoLayout();
  const layout = await OciLayout.open(dir);
  const index = (await layout.resolveTag('v2.0.0'))?.digest ?? '';
  await layout.untag('v2.0.0');
  await layout.untag('main-3e4f5a6');
  assert.equal((await layout.garbageCollect()).removed, []);
  const copy = await skopeo(['copy', '--all', '--preserve-digests', `oci:${dir}:latest`, `oci:${path.join(await tempDir(), 'out')}:latest`]);
  assert.is(copy.code, 0, copy.stderr);
  // Deleting the index itself frees it and everything below it: 1 index + 2 x (manifest, config, layer).
  const owned = await ownedBlobs(layout, index);
  assert.is(owned.length, 7);
  await layout.deleteManifest(index);
  assert.equal((await layout.garbageCollect()).removed, owned);
  // The signature tag is content of its own; removing it is the planner's decision, not the collector's.
  assert.ok(await skopeoDigest(dir, `${index.replace(':', '-')}.sig`));
});

test('a blob shared with a remaining image is never removed', async () => {
  const layout = await OciLayout.create(path.join(await tempDir(), 'l'));
  const a = await putTestImage(layout, 'shared-layer', { tag: 'a', configCreated: '2026-01-01T00:00:00Z' });
  const b = await putTestImage(layout, 'shared-layer', { tag: 'b', configCreated: '2026-02-01T00:00:00Z' });
  assert.is(a.layer.digest, b.layer.digest);
  await layout.untag('a');
  const report = await layout.garbageCollect();
  assert.equal(report.removed, [a.config.digest, a.manifest.digest].sort());
  assert.ok(await layout.hasBlob(b.layer.digest));
  assert.is(await skopeoDigest(layout.dir, 'b'), b.manifest.digest);
});

test('a referrer keeps its subject reachable; temp files and foreign names are left alone', async () => {
  const layout = await OciLayout.create(path.join(await tempDir(), 'l'));
  const image = await putTestImage(layout, 'image', { tag: 'app' });
  const referrer = await putTestImage(layout, 'sbom', { tag: 'app-sbom', subject: image.manifest });
  await layout.untag('app');
  const stray = [path.join(layout.dir, 'blobs', 'sha256', 'upload.tmp-1-abc'), path.join(layout.dir, 'blobs', 'sha256', 'README')];
  for (const file of stray) await writeFile(file, 'x');
  assert.equal((await layout.garbageCollect()).removed, []);
  for (const file of stray) assert.is(await readFile(file, 'utf8'), 'x');
  await layout.untag('app-sbom');
  const everything = [image.manifest, image.config, image.layer, referrer.manifest, referrer.config, referrer.layer].map((d) => d.digest).sort();
  assert.equal((await layout.garbageCollect()).removed, everything);
});

test('an unreadable manifest stops collection before anything is removed', async () => {
  const layout = await OciLayout.create(path.join(await tempDir(), 'l'));
  const doomed = await putTestImage(layout, 'doomed', { tag: 'old' });
  const kept = await putTestImage(layout, 'kept', { tag: 'new' });
  await layout.untag('old');
  await writeFile(layout.blobPath(kept.manifest.digest), '{"schemaVersion": 2, "layers": [');
  const before = await blobDigests(layout.dir);
  let failure: unknown;
  try {
    await layout.garbageCollect();
  } catch (e) {
    failure = e;
  }
  assert.match(String((failure as Error | undefined)?.message), /stopped, nothing was removed: manifest sha256:\w+ cannot be read \(.*is corrupt/);
  assert.equal(await blobDigests(layout.dir), before);
  assert.ok(await layout.hasBlob(doomed.manifest.digest));
});

test('a child manifest stored with child: true is reachable only through its index', async () => {
  const layout = await OciLayout.create(path.join(await tempDir(), 'l'));
  const child = await putTestImage(layout, 'child', { child: true });
  assert.equal(await layout.listUntagged(), [], 'a child is not listed in index.json');
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [child.manifest] };
  await layout.putManifest(new TextEncoder().encode(JSON.stringify(index)), MediaType.ociIndex, { tag: 'multi' });
  assert.equal((await layout.garbageCollect()).removed, []);
  await layout.untag('multi');
  assert.is((await layout.garbageCollect()).removed.length, 4);
});

test.run();
