import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { estimateReclaimable } from './reclaim.ts';
import type { ManifestFacts, RepoInventory } from '../model/inventory.ts';
import type { DeleteAction } from './types.ts';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const image = (size: number, blobs: [string, number][]): ManifestFacts => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', children: [], size, blobs: blobs.map(([digest, bytes]) => ({ digest: d(digest), size: bytes })) });
const del = (tag: string | undefined, digest: string, mode: 'manifest' | 'untag' = 'manifest'): DeleteAction => ({ type: 'delete', repo: 'r', digest, mode, reason: 'x', ...(tag === undefined ? {} : { tag }) });

/** base layer "b" (1000) shared by all; v1 keeps layer "k"; pr-1 and pr-2 have own layers; pr-2 shares layer "s" with v1. */
const inventory: RepoInventory = {
  repo: 'r',
  driver: { type: 'default', untag: false, listUntagged: true },
  tags: [{ tag: 'v1', digest: d('1') }, { tag: 'pr-1', digest: d('2') }, { tag: 'pr-2', digest: d('3') }, { tag: 'pr-2b', digest: d('3') }],
  untagged: [{ digest: d('4') }],
  manifests: {
    [d('1')]: image(500, [['c', 10], ['b', 1000], ['k', 200], ['s', 300]]),
    [d('2')]: image(400, [['e', 20], ['b', 1000], ['p', 5000]]),
    [d('3')]: image(450, [['f', 30], ['b', 1000], ['s', 300], ['q', 7000]]),
    [d('4')]: image(100, [['g', 40], ['u', 60]]),
  },
};

test('counts deleted manifests and the blobs only they hold: shared layers once, layers a kept image holds not at all', () => {
  const estimate = estimateReclaimable(inventory, [del('pr-1', d('2')), del('pr-2', d('3')), del('pr-2b', d('3'))]);
  // manifests 400 + 450; blobs e 20, p 5000, f 30, q 7000 (b and s stay with v1)
  assert.equal(estimate, { repo: 'r', bytes: 400 + 450 + 20 + 5000 + 30 + 7000, manifests: 2 });
});

test('untag actions and untagged manifests that stay free nothing; an untagged delete frees its own blobs', () => {
  assert.is(estimateReclaimable(inventory, [del('pr-2b', d('3'), 'untag')]), undefined);
  assert.equal(estimateReclaimable(inventory, [del(undefined, d('4'))]), { repo: 'r', bytes: 100 + 40 + 60, manifests: 1 });
});

test('a manifest a kept index holds frees nothing; an index takes its children no survivor holds', () => {
  const index: RepoInventory = {
    ...inventory,
    tags: [{ tag: 'multi', digest: d('9') }, { tag: 'v1', digest: d('1') }],
    untagged: [],
    manifests: { ...inventory.manifests, [d('9')]: { mediaType: 'application/vnd.oci.image.index.v1+json', children: [d('2'), d('1')], size: 300 } },
  };
  // the index (300) and child 2 (400 + e 20 + p 5000) go; child 1 stays under v1
  assert.equal(estimateReclaimable(index, [del('multi', d('9'))]), { repo: 'r', bytes: 300 + 400 + 20 + 5000, manifests: 2 });
  const kept: RepoInventory = { ...index, tags: [...index.tags, { tag: 'pr-1', digest: d('2') }] };
  assert.equal(estimateReclaimable(kept, [del('pr-1', d('2'))]), { repo: 'r', bytes: 0, manifests: 0 }, 'a child of the kept index multi frees nothing');
});

test('manifests the inventory did not read make the estimate a lower bound, said as unknownManifests', () => {
  const unread: RepoInventory = { ...inventory, manifests: {} };
  assert.equal(estimateReclaimable(unread, [del('pr-1', d('2'))]), { repo: 'r', bytes: 0, manifests: 1, unknownManifests: 1 });
});

test.run();
