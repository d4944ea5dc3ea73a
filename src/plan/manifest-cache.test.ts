/**
 * The manifest cache is keyed by digest and holds content, so what it returns must hash to that digest: an entry
 * edited on disk (a config's `created` moved back), a forged well-formed manifest, another digest's content copied
 * over it, a torn or oversized file — each is a miss, with a debug line, and is read from the registry again. Its
 * files are 0600 and its directories 0700 whatever the umask.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ManifestCache } from './manifest-cache.ts';
import { configCreated, manifestContent } from './manifest-facts.ts';

const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
const cacheDir = async (): Promise<string> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-cache-'));
  dirs.push(dir);
  return path.join(dir, 'regplan');
};

const bytesOf = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const digestOf = (bytes: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): string => `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
const entryFile = (dir: string, kind: 'manifests' | 'configs', digest: string): string => {
  const [algorithm = '', encoded = ''] = digest.split(':');
  return path.join(dir, kind, algorithm, encoded);
};

const CONFIG = bytesOf({ created: '2026-06-01T00:00:00Z', architecture: 'amd64', os: 'linux' });
const CONFIG_DIGEST = digestOf(CONFIG);
const MANIFEST = bytesOf({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: CONFIG_DIGEST, size: CONFIG.byteLength },
  layers: [],
});
const MANIFEST_DIGEST = digestOf(MANIFEST);

test('content reads back as stored, in a fresh process too, and derives the same facts', async () => {
  const dir = await cacheDir();
  const cache = new ManifestCache(dir);
  await cache.store('manifest', MANIFEST_DIGEST, MANIFEST);
  await cache.store('config', CONFIG_DIGEST, CONFIG);
  const again = new ManifestCache(dir);
  const manifest = await again.read('manifest', MANIFEST_DIGEST);
  const config = await again.read('config', CONFIG_DIGEST);
  assert.ok(manifest && config);
  assert.equal(manifestContent(manifest), manifestContent(MANIFEST));
  assert.is(configCreated(config), '2026-06-01T00:00:00.000Z');
});

test('sha512 content is verified with sha512; a digest of another algorithm is not cached', async () => {
  const dir = await cacheDir();
  const sha512 = digestOf(CONFIG, 'sha512');
  await new ManifestCache(dir).store('config', sha512, CONFIG);
  assert.equal(await new ManifestCache(dir).read('config', sha512), CONFIG);
  const other = `blake3:${'a'.repeat(64)}`;
  await new ManifestCache(dir).store('config', other, CONFIG);
  assert.is(await new ManifestCache(dir).read('config', other), undefined);
  assert.equal(await readdir(path.join(dir, 'configs')), ['sha512']);
});

test('a cached config whose created time was edited is a miss, with a debug line; the fresh copy replaces it', async () => {
  const dir = await cacheDir();
  await new ManifestCache(dir).store('config', CONFIG_DIGEST, CONFIG);
  const file = entryFile(dir, 'configs', CONFIG_DIGEST);
  await writeFile(file, (await readFile(file, 'utf8')).replaceAll('2026-06-01', '2020-06-01'));
  const lines: string[] = [];
  const cache = new ManifestCache(dir, { debug: (line) => lines.push(line) });
  assert.is(await cache.read('config', CONFIG_DIGEST), undefined);
  assert.is(lines.length, 1);
  assert.match(lines[0] ?? '', `manifest cache entry for ${CONFIG_DIGEST} (image config`);
  assert.match(lines[0] ?? '', 'reading it from the registry again');
  await cache.store('config', CONFIG_DIGEST, CONFIG);
  assert.equal(await new ManifestCache(dir).read('config', CONFIG_DIGEST), CONFIG);
});

test('content that does not hash to its digest is never stored', async () => {
  const dir = await cacheDir();
  const forged = bytesOf({ created: '2020-01-01T00:00:00Z' });
  await new ManifestCache(dir).store('config', CONFIG_DIGEST, forged);
  assert.is(await new ManifestCache(dir).read('config', CONFIG_DIGEST), undefined);
});

test('a forged well-formed entry, another digest\'s content, a torn file and an old sealed entry are misses', async () => {
  const dir = await cacheDir();
  const cache = new ManifestCache(dir);
  await cache.store('manifest', MANIFEST_DIGEST, MANIFEST);
  const otherConfig = bytesOf({ created: '2019-01-01T00:00:00Z' });
  const otherManifest = bytesOf({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(otherConfig), size: 1 }, layers: [] });
  const otherDigest = digestOf(otherManifest);
  await cache.store('manifest', otherDigest, otherManifest);
  const file = entryFile(dir, 'manifests', MANIFEST_DIGEST);
  const check = async (label: string, bytes: Uint8Array | string) => {
    await writeFile(file, bytes);
    const lines: string[] = [];
    assert.is(await new ManifestCache(dir, { debug: (line) => lines.push(line) }).read('manifest', MANIFEST_DIGEST), undefined, label);
    assert.match(lines.join('\n'), `manifest cache entry for ${MANIFEST_DIGEST} (manifest`, label);
  };
  await check('a forged manifest with a created annotation', bytesOf({ ...JSON.parse(new TextDecoder().decode(MANIFEST)), annotations: { 'org.opencontainers.image.created': '2020-01-01T00:00:00Z' } }));
  await copyFile(entryFile(dir, 'manifests', otherDigest), file);
  await check('another digest\'s content under this name', await readFile(file));
  await check('torn', MANIFEST.subarray(0, 40));
  await check('an old sealed entry', JSON.stringify({ v: 2, digest: MANIFEST_DIGEST, facts: '{"mediaType":"x","children":[]}', mac: '0'.repeat(64) }));
  assert.equal(await new ManifestCache(dir).read('manifest', otherDigest), otherManifest, 'the other entry is untouched');
});

test('a file larger than the content cap, or not a regular file, is a miss without reading it whole', async () => {
  const dir = await cacheDir();
  const file = entryFile(dir, 'manifests', MANIFEST_DIGEST);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, new Uint8Array(4 * 1024 * 1024 + 1));
  const lines: string[] = [];
  assert.is(await new ManifestCache(dir, { debug: (line) => lines.push(line) }).read('manifest', MANIFEST_DIGEST), undefined);
  assert.match(lines[0] ?? '', 'is refused');
  await rm(file);
  await mkdir(file);
  assert.is(await new ManifestCache(dir).read('manifest', MANIFEST_DIGEST), undefined);
});

test('under umask 000 cache files are 0600 and the directories it creates 0700', async () => {
  const dir = await cacheDir();
  const previous = process.umask(0o000);
  try {
    await new ManifestCache(dir).store('manifest', MANIFEST_DIGEST, MANIFEST);
    await new ManifestCache(dir).store('config', CONFIG_DIGEST, CONFIG);
  } finally {
    process.umask(previous);
  }
  for (const [kind, digest] of [['manifests', MANIFEST_DIGEST], ['configs', CONFIG_DIGEST]] as const) {
    assert.is((await stat(entryFile(dir, kind, digest))).mode & 0o777, 0o600);
    for (const d of [path.join(dir, kind), path.join(dir, kind, 'sha256')]) assert.is((await stat(d)).mode & 0o777, 0o700, d);
  }
  assert.is((await stat(dir)).mode & 0o777, 0o700);
  assert.equal((await readdir(dir)).sort(), ['configs', 'manifests'], 'no key file any more');
});

test.run();
