/** Files bundles: the ORAS manifest shape, streamed digests, and the errors a user can fix. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MediaType, TITLE_ANNOTATION, type ImageManifest } from '../registry/oci.ts';
import { DEFAULT_ARTIFACT_TYPE, EMPTY_CONFIG, FILE_LAYER_MEDIA_TYPE, packageFiles } from './files.ts';
import { parseLayoutImage } from './image.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'regplan-files-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

const write = (name: string, content: string): string => {
  const file = path.join(scratch, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
};
const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

async function failure(pending: Promise<unknown>): Promise<string> {
  try {
    await pending;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
}

test('the manifest is what oras push writes: artifactType, empty config with data, one titled layer per file, in order', async () => {
  const docs = write('dist/docs.tar.gz', 'docs archive');
  const index = write('dist/index.json', '{"pages":3}');
  const bundle = await packageFiles({ files: [docs, index], artifactType: 'application/vnd.acme.docs.v1', annotations: { 'z.last': '1', 'a.first': '2' } });
  const text = new TextDecoder().decode(bundle.manifest.bytes);
  const manifest = JSON.parse(text) as ImageManifest & { config: { data?: string } };
  assert.is(manifest.mediaType, MediaType.ociManifest);
  assert.is(manifest.artifactType, 'application/vnd.acme.docs.v1');
  assert.equal(manifest.config, { ...EMPTY_CONFIG });
  assert.is(EMPTY_CONFIG.digest, sha('{}'));
  assert.equal(manifest.layers, [
    { mediaType: FILE_LAYER_MEDIA_TYPE, digest: sha('docs archive'), size: 12, annotations: { [TITLE_ANNOTATION]: 'docs.tar.gz' } },
    { mediaType: FILE_LAYER_MEDIA_TYPE, digest: sha('{"pages":3}'), size: 11, annotations: { [TITLE_ANNOTATION]: 'index.json' } },
  ]);
  assert.equal(Object.keys(manifest.annotations ?? {}), ['a.first', 'z.last'], 'annotations sorted, as Go writes a map');
  assert.ok(text.indexOf('"artifactType"') < text.indexOf('"config"'), 'ORAS field order');
  assert.is(bundle.manifest.digest, sha(text));
  assert.equal(bundle.blobs.map((b) => b.digest), [EMPTY_CONFIG.digest, sha('docs archive'), sha('{"pages":3}')]);
  assert.equal(bundle.blobs[1]?.content, { path: docs }, 'files are pushed from disk');
});

test('without artifactType the ORAS default is used, and no annotations means no annotations field', async () => {
  const bundle = await packageFiles({ files: [write('one.txt', '1')] });
  const manifest = JSON.parse(new TextDecoder().decode(bundle.manifest.bytes)) as ImageManifest;
  assert.is(manifest.artifactType, DEFAULT_ARTIFACT_TYPE);
  assert.is(bundle.manifest.artifactType, DEFAULT_ARTIFACT_TYPE);
  assert.is(manifest.annotations, undefined);
});

test('the same files give the same digest; changed content gives another', async () => {
  const file = write('same.txt', 'v1');
  const a = await packageFiles({ files: [file] });
  const b = await packageFiles({ files: [file] });
  assert.is(a.manifest.digest, b.manifest.digest);
  writeFileSync(file, 'v2');
  assert.is.not((await packageFiles({ files: [file] })).manifest.digest, a.manifest.digest);
});

test('a missing file, a directory and two files with one name are errors that say what to do', async () => {
  assert.match(await failure(packageFiles({ files: [path.join(scratch, 'nope.txt')] })), /bundle file ".*nope\.txt" does not exist/);
  mkdirSync(path.join(scratch, 'adir'), { recursive: true });
  assert.match(await failure(packageFiles({ files: [path.join(scratch, 'adir')] })), /is not a regular file/);
  const a = write('a/same.txt', 'a');
  const b = write('b/same.txt', 'b');
  assert.match(await failure(packageFiles({ files: [a, b] })), /have the same name "same\.txt"/);
});

test('image references split into layout directory and tag or digest', () => {
  assert.equal(parseLayoutImage('oci:/srv/build/layout:web'), { dir: '/srv/build/layout', ref: 'web' });
  assert.equal(parseLayoutImage('oci:/srv/build/layout'), { dir: '/srv/build/layout' });
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.equal(parseLayoutImage(`oci:/srv/a:b/layout@${digest}`), { dir: '/srv/a:b/layout', ref: digest });
  assert.equal(parseLayoutImage(`oci:/srv/layout:${digest}`), { dir: '/srv/layout', ref: digest });
});

test.run();
