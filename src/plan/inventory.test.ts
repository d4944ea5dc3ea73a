import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pLimit from 'p-limit';
import type { Capabilities, DetailedLister, Driver, ManifestReader } from '../drivers/driver.ts';
import type { Descriptor, ImageConfig, Manifest } from '../registry/oci.ts';
import { evaluateCleanup } from './evaluate.ts';
import { takeInventory } from './inventory.ts';
import { ManifestCache } from './manifest-cache.ts';
import type { TagRecord } from '../model/inventory.ts';

const NOW = new Date('2026-12-01T00:00:00Z');
const capabilities: Capabilities = { push: true, bundles: true, customArtifactType: true, cleanupPath: '-', untag: false, listUntagged: false, nativeCredentials: [] };
const digestOf = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
const IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** A registry-API-like driver (HEAD or GET by tag, manifest by digest, config `created`) over fixed content. */
function registryDriver(created: Record<string, string | undefined>): Driver & ManifestReader {
  const tags = Object.keys(created);
  return {
    type: 'default',
    capabilities,
    listTags: async () => tags,
    resolveTag: async (_name, tag) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(tags.indexOf(tag) + 1), size: 1 }),
    deleteManifest: async () => undefined,
    readManifest: async (_name, ref) => {
      const digest = ref.startsWith('sha256:') ? ref : digestOf(tags.indexOf(ref) + 1);
      const index = Number(digest.slice(7)) - 1;
      const config: Descriptor = { mediaType: IMAGE_CONFIG, digest: digestOf(1000 + index), size: 1 };
      const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [] } as Manifest;
      return { descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1 }, manifest, bytes: json(manifest) };
    },
    readImageConfig: async (_name, config) => {
      const tag = tags[Number(config.digest.slice(7)) - 1000] ?? '';
      const when = created[tag];
      return json((when === undefined ? {} : { created: when }) satisfies ImageConfig);
    },
  };
}

/** A native-listing driver that reports the given push times as they come from the vendor. */
function listingDriver(pushed: Record<string, string>): Driver & DetailedLister {
  return {
    type: 'github',
    capabilities,
    listTags: async () => Object.keys(pushed),
    resolveTag: async () => undefined,
    deleteManifest: async () => undefined,
    listTagRecords: async () => Object.entries(pushed).map(([tag, pushedAt], i): TagRecord => ({ tag, digest: digestOf(i + 1), pushedAt })),
  };
}

const times = {
  'pr-zero-epoch': '1970-01-01T00:00:00Z',
  'pr-go-zero': '0001-01-01T00:00:00Z',
  'pr-future': '2031-01-01T00:00:00Z',
  'pr-garbled': 'not a time',
  'pr-old': '2026-01-01T00:00:00Z',
};

for (const [label, driver] of [['config created (Registry API)', registryDriver(times)], ['a native listing', listingDriver(times)]] as const) {
  test(`zeroed, future and unparsable push times from ${label} are unknown, so pushedWithin cannot delete them`, async () => {
    const inventory = await takeInventory({ repo: 'r.example/app', name: 'app', driver }, { cache: new ManifestCache(undefined), limit: pLimit(4), now: NOW.getTime() });
    const pushed = Object.fromEntries(inventory.tags.map((t) => [t.tag, t.pushedAt]));
    assert.equal(pushed, { 'pr-zero-epoch': undefined, 'pr-go-zero': undefined, 'pr-future': undefined, 'pr-garbled': undefined, 'pr-old': '2026-01-01T00:00:00.000Z' });
    const decision = evaluateCleanup(
      [{ inventory, policy: { name: 'p', keep: [{ kind: 'pushedWithin', durationMs: 30 * 86_400_000, text: '30d' }], deleteTags: '^pr-', untagged: 'keep' } }],
      { facts: { git: {}, listed: {} }, now: NOW, graceMs: 0 },
    );
    assert.equal(decision.actions.map((a) => (a.type === 'delete' ? a.tag : '')), ['pr-old']);
    const reasons = Object.fromEntries(decision.kept.map((k) => [k.tag, k.rules]));
    assert.equal(reasons['pr-zero-epoch'], ['push time unknown']);
    assert.equal(reasons['pr-go-zero'], ['push time unknown']);
  });
}

test.run();
