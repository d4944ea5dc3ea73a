import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { isNotFound, RegplanError } from '../errors.ts';
import { MediaType, REF_NAME_ANNOTATION } from '../registry/oci.ts';
import { OciLayout } from './store.ts';
import { copyDemoLayout, jsonBytes, putTestImage, removeTempDirs, skopeo, skopeoDigest, tempDir } from '../../test/support/oci-layout.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';

const rejection = (promise: Promise<unknown>): Promise<RegplanError> => rejectionOf(promise, RegplanError);

const DEMO_TAGS = [
  'v1.0.0', 'v1.1.0', 'v1.2.0', 'main-1a2b3c4', 'main-5d6e7f8', 'v1.2.1', 'pr-101', 'pr-102', 'v2.0.0-rc.1', 'main-9a8b7c6',
  'main-3e4f5a6', 'v2.0.0', 'latest', 'SIG', 'pr-103', 'branch-feature-x', 'main-0f1e2d3', 'pr-104',
];

test.after.each(removeTempDirs);


test('open: a directory without oci-layout is refused, saying what a layout holds', async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
  const error = await rejection(OciLayout.open(dir));
  assert.match(error.message, `"${dir}" is not an OCI image layout: it has no oci-layout file`);
  assert.match(error.hint ?? '', 'oci-layout, index.json and blobs/');
});

test('open: a missing directory and a broken index.json are clear errors', async () => {
  const dir = await tempDir();
  const missing = await rejection(OciLayout.open(path.join(dir, 'nope')));
  assert.match(missing.message, 'the directory does not exist');
  assert.match(missing.hint ?? '', 'oci:');
  await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(path.join(dir, 'index.json'), '{"manifests": [');
  assert.match((await rejection(OciLayout.open(dir))).message, 'index.json: it is not valid JSON');
  await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
  assert.match((await rejection(OciLayout.open(dir))).message, 'imageLayoutVersion "2.0.0"');
});

test('create: makes an empty layout skopeo accepts, and refuses a non-empty non-layout directory', async () => {
  const dir = path.join(await tempDir(), 'new');
  const layout = await OciLayout.create(dir);
  assert.equal(await layout.listTags(), []);
  assert.equal(JSON.parse(await readFile(path.join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  await putTestImage(layout, 'hello', { tag: 'one' });
  assert.is((await skopeo(['inspect', '--raw', `oci:${dir}:one`])).code, 0);
  const busy = await tempDir();
  await writeFile(path.join(busy, 'notes.txt'), 'mine');
  assert.match((await rejection(OciLayout.create(busy))).message, 'the directory is not empty and holds no oci-layout file');
});

test('listTags gives every tag of the demo layout in index.json order', async () => {
  const layout = await OciLayout.open(await copyDemoLayout());
  const tags = await layout.listTags();
  const release = await layout.resolveTag('v2.0.0');
  const expected = DEMO_TAGS.map((t) => (t === 'SIG' ? `${release?.digest.replace(':', '-')}.sig` : t));
  assert.equal(tags, expected);
});

test('resolveTag agrees with the digest skopeo reads; latest and v2.0.0 share the index; unknown is undefined', async () => {
  const dir = await copyDemoLayout();
  const layout = await OciLayout.open(dir);
  for (const tag of ['v1.0.0', 'v2.0.0', 'latest', 'pr-104']) {
    assert.is((await layout.resolveTag(tag))?.digest, await skopeoDigest(dir, tag), tag);
  }
  const latest = await layout.resolveTag('latest');
  assert.is(latest?.mediaType, MediaType.ociIndex);
  assert.is(latest?.digest, (await layout.resolveTag('v2.0.0'))?.digest);
  assert.is(await layout.resolveTag('v9.9.9'), undefined);
});

test('untag removes one tag and leaves the manifest for its other tags (skopeo agrees)', async () => {
  const dir = await copyDemoLayout();
  const layout = await OciLayout.open(dir);
  const digest = (await layout.resolveTag('latest'))?.digest;
  assert.ok(await layout.untag('latest'));
  assert.not.ok(await layout.untag('latest'), 'a second untag finds nothing');
  assert.not.ok((await layout.listTags()).includes('latest'));
  assert.is((await layout.resolveTag('v2.0.0'))?.digest, digest);
  assert.is(await skopeoDigest(dir, 'latest'), undefined);
  assert.is(await skopeoDigest(dir, 'v2.0.0'), digest);
  assert.is(await skopeoDigest(dir, 'main-3e4f5a6'), digest);
  JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8'));
});

test('deleteManifest removes every tag of that digest and nothing else', async () => {
  const dir = await copyDemoLayout();
  const layout = await OciLayout.open(dir);
  const before = await layout.listTags();
  const digest = (await layout.resolveTag('pr-104'))?.digest ?? '';
  assert.is(await layout.deleteManifest(digest), 2);
  assert.equal(await layout.listTags(), before.filter((t) => t !== 'pr-104' && t !== 'main-0f1e2d3'));
  assert.is(await skopeoDigest(dir, 'pr-104'), undefined);
  assert.is(await skopeoDigest(dir, 'main-0f1e2d3'), undefined);
  assert.ok(await skopeoDigest(dir, 'pr-103'));
  assert.is(await layout.deleteManifest(digest), 0, 'already gone');
  assert.throws(() => layout.blobPath('sha256:../../etc/passwd'), /invalid digest/);
});

test('listUntagged gives entries without a tag, not digests that also carry a tag', async () => {
  const dir = await copyDemoLayout();
  const layout = await OciLayout.open(dir);
  const untagged = await layout.listUntagged();
  assert.is(untagged.length, 1);
  const tagged = await layout.resolveTag('v1.0.0');
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8'));
  index.manifests.push({ mediaType: tagged?.mediaType, digest: tagged?.digest, size: tagged?.size });
  await writeFile(path.join(dir, 'index.json'), JSON.stringify(index));
  assert.equal((await layout.listUntagged()).map((d) => d.digest), untagged.map((d) => d.digest));
});

test('putBlob stores bytes and files under their digest; readBlob refuses corrupt content and reports missing as not found', async () => {
  const layout = await OciLayout.create(path.join(await tempDir(), 'l'));
  const fromBytes = await layout.putBlob(new TextEncoder().encode('abc'));
  assert.is(fromBytes.digest, 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  const file = path.join(await tempDir(), 'big.bin');
  const big = new Uint8Array(3 << 20).map((_, i) => i % 251);
  await writeFile(file, big);
  const fromFile = await layout.putBlob({ path: file });
  assert.is(fromFile.size, big.length);
  assert.ok(Buffer.from(await layout.readBlob(fromFile.digest)).equals(Buffer.from(big)));
  assert.is((await layout.putBlob({ path: file })).digest, fromFile.digest, 'storing again is idempotent');
  await rejection(layout.putBlob(new TextEncoder().encode('abd'), { digest: fromBytes.digest }));
  await writeFile(layout.blobPath(fromBytes.digest), 'abd');
  assert.match((await rejection(layout.readBlob(fromBytes.digest))).message, 'is corrupt');
  const missing = await rejection(layout.readBlob(`sha256:${'0'.repeat(64)}`));
  assert.ok(isNotFound(missing));
});

test('putManifest refuses a manifest naming blobs the layout lacks', async () => {
  const layout = await OciLayout.create(path.join(await tempDir(), 'l'));
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: `sha256:${'1'.repeat(64)}`, size: 2 },
    layers: [],
  };
  const error = await rejection(layout.putManifest(jsonBytes(manifest), MediaType.ociManifest, { tag: 'x' }));
  assert.match(error.message, 'which is not in the layout');
  assert.equal(await layout.listTags(), []);
  await rejection(layout.putManifest(jsonBytes(manifest), MediaType.ociIndex, { tag: 'x' }));
  await rejection(layout.putManifest(jsonBytes({}), MediaType.ociManifest, { tag: 'bad tag' }));
});

test('putManifest with a tag moves the tag, and skopeo copies what the store wrote', async () => {
  const dir = path.join(await tempDir(), 'src');
  const layout = await OciLayout.create(dir);
  const first = await putTestImage(layout, 'first', { tag: 'app' });
  const second = await putTestImage(layout, 'second', { tag: 'app' });
  assert.equal(await layout.listTags(), ['app']);
  assert.is((await layout.resolveTag('app'))?.digest, second.manifest.digest);
  assert.ok(await layout.hasBlob(first.manifest.digest), 'the old manifest stays until garbage collection');
  const other = path.join(await tempDir(), 'dst');
  const copy = await skopeo(['copy', '--preserve-digests', `oci:${dir}:app`, `oci:${other}:app`]);
  assert.is(copy.code, 0, copy.stderr);
  assert.is(await skopeoDigest(other, 'app'), second.manifest.digest);
  const copied = await OciLayout.open(other);
  assert.is((await copied.resolveTag('app'))?.digest, second.manifest.digest);
  assert.is(new TextDecoder().decode(await copied.readBlob(second.layer.digest)), 'second');
});

test('parallel untags through one layout all land', async () => {
  const dir = await copyDemoLayout();
  const layout = await OciLayout.open(dir);
  const gone = ['pr-101', 'pr-102', 'pr-103', 'pr-104', 'branch-feature-x', 'main-1a2b3c4'];
  await Promise.all(gone.map((tag) => layout.untag(tag)));
  const reopened = await OciLayout.open(dir);
  for (const tag of gone) assert.not.ok((await reopened.listTags()).includes(tag), tag);
  assert.is((await reopened.listTags()).length, DEMO_TAGS.length - gone.length);
});

test('a kept index.json is read again once another writer changed it: renamed over, or rewritten in place', async () => {
  const dir = await copyDemoLayout();
  const reader = await OciLayout.open(dir);
  const writer = await OciLayout.open(dir);
  assert.ok(await reader.resolveTag('pr-101'), 'read (and kept) before the change');
  await writer.untag('pr-101'); // another instance (as another process would): temp file, then rename
  assert.is(await reader.resolveTag('pr-101'), undefined);
  assert.not.ok((await reader.listTags()).includes('pr-101'));
  // A tool that rewrites index.json in place (same inode): the size and times still tell.
  const file = path.join(dir, 'index.json');
  const index = JSON.parse(await readFile(file, 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((d) => d.annotations?.[REF_NAME_ANNOTATION] === 'pr-102');
  if (!entry?.annotations) throw new Error('the demo layout has pr-102');
  entry.annotations[REF_NAME_ANNOTATION] = 'pr-999';
  await writeFile(file, JSON.stringify(index));
  assert.is(await reader.resolveTag('pr-102'), undefined);
  assert.ok(await reader.resolveTag('pr-999'));
});

test('untags asked for together are written together, and each resolves only once its write is published', async () => {
  const dir = await copyDemoLayout();
  const debug: string[] = [];
  const layout = await OciLayout.open(dir, { onDebug: (line) => debug.push(line) });
  const gone = ['pr-101', 'pr-102', 'pr-103', 'pr-104', 'branch-feature-x', 'main-1a2b3c4'];
  await Promise.all(gone.map(async (tag) => {
    await layout.untag(tag);
    const onDisk = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
    assert.not.ok(onDisk.manifests.some((d) => d.annotations?.[REF_NAME_ANNOTATION] === tag), `${tag} is gone from the file when its untag resolves`);
  }));
  const writes = debug.filter((line) => line.includes('wrote index.json'));
  assert.ok(writes.length >= 1 && writes.length <= 2, writes.join('\n'));
});

test('a concurrent reader never sees a half-written index.json', async () => {
  const dir = await copyDemoLayout();
  const layout = await OciLayout.open(dir);
  const manyTags = Array.from({ length: 60 }, (_, i) => `load-${i}`);
  const image = await layout.resolveTag('v1.0.0');
  let writing = true;
  let reads = 0;
  const reader = (async () => {
    while (writing) {
      const parsed = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: unknown[] };
      assert.ok(Array.isArray(parsed.manifests));
      reads++;
    }
  })();
  const bytes = await layout.readBlob(image?.digest ?? '');
  for (const tag of manyTags) await layout.putManifest(bytes, MediaType.ociManifest, { tag });
  for (const tag of manyTags) await layout.untag(tag);
  writing = false;
  await reader;
  assert.ok(reads > 0);
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  assert.not.ok(index.manifests.some((d) => d.annotations?.[REF_NAME_ANNOTATION]?.startsWith('load-')));
});

test('a layout with a nested blobs dir and stray files still opens (skopeo-written layouts)', async () => {
  const dir = path.join(await tempDir(), 'l');
  const copy = await skopeo(['copy', `oci:${await copyDemoLayout()}:v1.2.0`, `oci:${dir}:v1.2.0`]);
  assert.is(copy.code, 0, copy.stderr);
  await mkdir(path.join(dir, 'blobs', 'sha512'), { recursive: true });
  const layout = await OciLayout.open(dir);
  assert.equal(await layout.listTags(), ['v1.2.0']);
});

test.run();
