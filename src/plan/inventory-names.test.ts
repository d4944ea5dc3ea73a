import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pLimit from 'p-limit';
import type { Capabilities, DetailedLister, Driver, UntaggedLister } from '../drivers/driver.ts';
import { takeInventory } from './inventory.ts';
import { ManifestCache } from './manifest-cache.ts';
import type { TagRecord } from '../model/inventory.ts';

const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const capabilities: Capabilities = { push: false, bundles: false, customArtifactType: false, cleanupPath: 'test', untag: false, listUntagged: true, nativeCredentials: [] };
const HOSTILE = ['pr-1/../v1.0.0', '../../../v2/other/manifests/latest', 'pr-2%2f..%2fv1', 'pr-3\u001b[2J', `pr-${'x'.repeat(197)}`];

/** A driver method inventory must not call. */
const forbidden = (why: string) => async (): Promise<never> => {
  throw new Error(why);
};
const options = () => ({ cache: new ManifestCache(undefined), limit: pLimit(2) });

test('a plain listing: only valid tag names are resolved; the others are rejected, quoted, with the reason', async () => {
  const resolved: string[] = [];
  const driver: Driver = {
    type: 'default',
    capabilities,
    listTags: async () => [...HOSTILE, 'v1.0.0', 'pr-9', 'pr-1/../v1.0.0'],
    resolveTag: async (_name, tag) => {
      resolved.push(tag);
      return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: tag === 'pr-9' ? 'sha256:nope' : digest('a'), size: 1 };
    },
    deleteManifest: forbidden('inventory never deletes'),
  };
  const inventory = await takeInventory({ repo: 'r.example/app', name: 'app', driver }, options());
  assert.equal(resolved.sort(), ['pr-9', 'v1.0.0'], 'no request for an invalid name');
  assert.equal(inventory.tags.map((t) => t.tag), ['v1.0.0']);
  assert.equal(inventory.rejected?.map((r) => [r.kind, r.name, r.tag, r.reason]), [
    ['digest', '"sha256:nope"', 'pr-9', 'invalid digest from registry'],
    ['tag', '"../../../v2/other/manifests/latest"', undefined, 'invalid tag name from registry'],
    ['tag', '"pr-1/../v1.0.0"', undefined, 'invalid tag name from registry'],
    ['tag', '"pr-2%2f..%2fv1"', undefined, 'invalid tag name from registry'],
    ['tag', '"pr-3\\u001b[2J"', undefined, 'invalid tag name from registry'],
    ['tag', `"pr-${'x'.repeat(97)}..." (200 characters)`, undefined, 'invalid tag name from registry'],
  ]);
});

test('a native listing: records with an invalid tag or digest, and untagged manifests with an invalid digest, are rejected', async () => {
  const records: TagRecord[] = [
    { tag: 'v1', digest: digest('a') },
    { tag: 'pr-1/../v1', digest: digest('a') },
    { tag: 'v2', digest: 'sha256:../../x' },
  ];
  const driver: Driver & DetailedLister & UntaggedLister = {
    type: 'harbor',
    capabilities,
    listTags: forbidden('the native listing is used'),
    resolveTag: forbidden('the native listing has digests'),
    deleteManifest: forbidden('inventory never deletes'),
    listTagRecords: async () => records,
    listUntagged: async () => [{ digest: digest('b') }, { digest: 'md5:\u001b]0;x' }],
  };
  const inventory = await takeInventory({ repo: 'h.example/app', name: 'app', driver }, options());
  assert.equal(inventory.tags.map((t) => t.tag), ['v1']);
  assert.equal(inventory.untagged.map((u) => u.digest), [digest('b')]);
  assert.equal(inventory.rejected, [
    { repo: 'h.example/app', kind: 'digest', name: '"md5:\\u001b]0;x"', reason: 'invalid digest from registry' },
    { repo: 'h.example/app', kind: 'digest', name: '"sha256:../../x"', tag: 'v2', reason: 'invalid digest from registry' },
    { repo: 'h.example/app', kind: 'tag', name: '"pr-1/../v1"', reason: 'invalid tag name from registry' },
  ]);
});

test('a clean listing has no rejected names', async () => {
  const driver: Driver = {
    type: 'default',
    capabilities,
    listTags: async () => ['v1'],
    resolveTag: async () => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest('c'), size: 1 }),
    deleteManifest: async () => undefined,
  };
  const inventory = await takeInventory({ repo: 'r.example/app', name: 'app', driver }, options());
  assert.is(inventory.rejected, undefined);
});

test.run();
