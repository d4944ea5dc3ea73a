/**
 * Which reads inventory asks a Registry-API driver for (issue 11, fast plans): a tag the last plan did not see is
 * read with one GET by tag and its manifest is not read again by digest; a tag it saw is HEADed; manifests and
 * configs shared by many tags are read once, even when the reads would overlap; at most `concurrency` reads
 * are in flight; and a tag's config is read soon after the tag, not after every tag. The driver here is a counting fake over fixed content; the real registry's counts are pinned in
 * test/e2e/request-counts-registry.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pLimit from 'p-limit';
import type { Capabilities, Driver, ManifestReader } from '../drivers/driver.ts';
import type { Descriptor, Manifest } from '../registry/oci.ts';
import { takeInventory } from './inventory.ts';
import { ManifestCache } from './manifest-cache.ts';

const capabilities: Capabilities = { push: true, bundles: true, customArtifactType: true, cleanupPath: '-', untag: false, listUntagged: false, nativeCredentials: [] };
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const bytesOf = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const sha = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** `tags` tags on `images` manifests (tag i on image i % images), every manifest on one shared config. */
function countingDriver(tags: number, images: number) {
  const config = bytesOf({ created: '2026-01-01T00:00:00Z' });
  const configDescriptor: Descriptor = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.byteLength };
  const manifests = Array.from({ length: images }, (_, i) => bytesOf({ schemaVersion: 2, mediaType: MANIFEST, config: configDescriptor, layers: [], annotations: { n: String(i) } }));
  const names = Array.from({ length: tags }, (_, i) => `t${i}`);
  const manifestOf = (ref: string) => (ref.startsWith('sha256:') ? manifests.find((m) => sha(m) === ref) : manifests[names.indexOf(ref) % images]) as Uint8Array;
  const calls = { head: 0, getByTag: 0, getByDigest: 0, config: 0, inFlight: 0, maxInFlight: 0, tagsReadBeforeConfig: -1 };
  const track = async <T>(work: () => T): Promise<T> => {
    calls.maxInFlight = Math.max(calls.maxInFlight, ++calls.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1));
    calls.inFlight--;
    return work();
  };
  const driver: Driver & ManifestReader = {
    type: 'default',
    capabilities,
    listTags: async () => names,
    resolveTag: (_name, tag) => track(() => (calls.head++, { mediaType: MANIFEST, digest: sha(manifestOf(tag)), size: manifestOf(tag).byteLength })),
    deleteManifest: async () => undefined,
    readManifest: (_name, ref) =>
      track(() => {
        if (ref.startsWith('sha256:')) calls.getByDigest++;
        else calls.getByTag++;
        const bytes = manifestOf(ref);
        return { descriptor: { mediaType: MANIFEST, digest: sha(bytes), size: bytes.byteLength }, manifest: JSON.parse(new TextDecoder().decode(bytes)) as Manifest, bytes };
      }),
    readImageConfig: () => track(() => {
      if (calls.config++ === 0) calls.tagsReadBeforeConfig = calls.getByTag;
      return config;
    }),
  };
  return { driver, calls };
}

const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test('cold: one GET by tag per tag, no manifest read again by digest, the shared config read once; warm: one HEAD per tag', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-inventory-'));
  dirs.push(dir);
  const cold = countingDriver(40, 10);
  const first = await takeInventory({ repo: 'r.example/app', name: 'app', driver: cold.driver }, { cache: new ManifestCache(dir), limit: pLimit(4) });
  assert.is(first.tags.length, 40);
  assert.equal(first.tags.map((t) => t.tag), Array.from({ length: 40 }, (_, i) => `t${i}`), 'tags keep the listing order');
  assert.equal({ head: cold.calls.head, getByTag: cold.calls.getByTag, getByDigest: cold.calls.getByDigest, config: cold.calls.config }, { head: 0, getByTag: 40, getByDigest: 0, config: 1 });
  assert.ok(cold.calls.maxInFlight <= 4, `${cold.calls.maxInFlight} reads in flight at concurrency 4`);
  // Facts are derived as tags are read, so the bytes read by tag are not all held until the last tag is in.
  assert.ok(cold.calls.tagsReadBeforeConfig <= 8, `${cold.calls.tagsReadBeforeConfig} tags were read before the first config`);

  const warm = countingDriver(40, 10);
  const second = await takeInventory({ repo: 'r.example/app', name: 'app', driver: warm.driver }, { cache: new ManifestCache(dir), limit: pLimit(4) });
  assert.equal(second.tags, first.tags);
  assert.equal(second.manifests, first.manifests);
  assert.equal({ head: warm.calls.head, getByTag: warm.calls.getByTag, getByDigest: warm.calls.getByDigest, config: warm.calls.config }, { head: 40, getByTag: 0, getByDigest: 0, config: 0 });
});

test('without a disk cache, overlapping reads of one config or one manifest share a single request', async () => {
  const { driver, calls } = countingDriver(30, 6);
  const inventory = await takeInventory({ repo: 'r.example/app', name: 'app', driver }, { cache: new ManifestCache(undefined), limit: pLimit(8) });
  assert.is(Object.keys(inventory.manifests).length, 6);
  assert.is(calls.config, 1, `the shared config was read ${calls.config} times`);
  assert.is(calls.getByTag + calls.getByDigest, 30, 'one manifest read per tag, none again by digest');
});

test.run();
