/**
 * The manifest cache is keyed by digest, so what it returns must be what that digest says: an entry edited on
 * disk (a `created` moved back, facts swapped in from another digest, a torn file) is ignored and read from the
 * registry again, with a debug line. Its files are 0600 and its directories 0700 whatever the umask.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ManifestCache } from './manifest-cache.ts';

const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
const cacheDir = async (): Promise<string> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-cache-'));
  dirs.push(dir);
  return path.join(dir, 'regplan');
};

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const entryFile = (dir: string, digest: string): string => path.join(dir, 'manifests', 'sha256', `${digest.slice(7)}.json`);
const FACTS = { mediaType: 'application/vnd.oci.image.manifest.v1+json', children: [], created: '2026-06-01T00:00:00.000Z' };

test('an entry reads back as stored, in a fresh process too', async () => {
  const dir = await cacheDir();
  await new ManifestCache(dir).set(A, FACTS);
  assert.equal(await new ManifestCache(dir).get(A), FACTS);
});

test('an entry whose created time was edited is ignored, with a debug line', async () => {
  const dir = await cacheDir();
  await new ManifestCache(dir).set(A, FACTS);
  const file = entryFile(dir, A);
  await writeFile(file, (await readFile(file, 'utf8')).replaceAll('2026-06-01', '2020-06-01'));
  const lines: string[] = [];
  const cache = new ManifestCache(dir, { debug: (line) => lines.push(line) });
  assert.is(await cache.get(A), undefined);
  assert.is(lines.length, 1);
  assert.match(lines[0] ?? '', `manifest cache entry for ${A}`);
  assert.match(lines[0] ?? '', 'reading it from the registry again');
  // the fresh read replaces it
  await cache.set(A, FACTS);
  assert.equal(await new ManifestCache(dir).get(A), FACTS);
});

test('facts of another digest copied over an entry, a torn file and an old-format entry are ignored', async () => {
  const dir = await cacheDir();
  const cache = new ManifestCache(dir);
  await cache.set(A, FACTS);
  await cache.set(B, { ...FACTS, created: '2019-01-01T00:00:00.000Z' });
  await copyFile(entryFile(dir, B), entryFile(dir, A));
  assert.is(await new ManifestCache(dir).get(A), undefined, 'B\'s entry under A\'s name');
  await writeFile(entryFile(dir, B), (await readFile(entryFile(dir, B), 'utf8')).slice(0, 40));
  assert.is(await new ManifestCache(dir).get(B), undefined, 'torn');
  await writeFile(entryFile(dir, B), JSON.stringify({ ...FACTS, created: '2019-01-01T00:00:00.000Z' }));
  assert.is(await new ManifestCache(dir).get(B), undefined, 'plain facts without a seal');
});

test('under umask 000 cache files are 0600 and the directories it creates 0700', async () => {
  const dir = await cacheDir();
  const previous = process.umask(0o000);
  try {
    await new ManifestCache(dir).set(A, FACTS);
  } finally {
    process.umask(previous);
  }
  assert.is((await stat(entryFile(dir, A))).mode & 0o777, 0o600);
  for (const d of [dir, path.join(dir, 'manifests'), path.join(dir, 'manifests', 'sha256')]) assert.is((await stat(d)).mode & 0o777, 0o700, d);
  for (const name of await readdir(dir)) {
    const s = await stat(path.join(dir, name));
    assert.is(s.mode & 0o777, s.isDirectory() ? 0o700 : 0o600, name);
  }
});

test.run();
