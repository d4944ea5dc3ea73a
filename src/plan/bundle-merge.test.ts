/**
 * Bundle tags and cleanup in one plan: a tag a bundle pushes or keeps is never deleted, nor is its manifest
 * through another tag; the merged plan shows a push once and an unchanged bundle as kept by "bundle unchanged".
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Policy } from '../config/types.ts';
import { assemblePlan } from './assemble.ts';
import { evaluateCleanup } from './evaluate.ts';
import type { PushAction } from './types.ts';
import { mergeBundleDecision, withPlannedTags } from './bundle-merge.ts';
import type { BundleDecision, PlannedTag } from './bundles.ts';
import type { RepoInventory } from '../model/inventory.ts';

const REPO = 'r.example.com/docs';
const NOW = new Date('2024-06-01T00:00:00Z');
const OLD = '2020-01-01T00:00:00Z';
const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const policy: Policy = { name: 'docs', keep: [{ kind: 'newest', count: 1 }], deleteTags: '^docs-', untagged: 'keep' };
const facts = { git: {}, listed: {} };

function inventory(untag: boolean): RepoInventory {
  return {
    repo: REPO,
    driver: { type: untag ? 'quay' : 'default', untag, listUntagged: false },
    tags: [
      { tag: 'docs-1', digest: d(1), pushedAt: OLD },
      { tag: 'docs-2', digest: d(2), pushedAt: OLD },
      { tag: 'docs-9', digest: d(9), pushedAt: '2021-01-01T00:00:00Z' },
    ],
    untagged: [],
    manifests: {},
  };
}

/** docs-1 is an unchanged bundle; docs-new is pushed with the manifest docs-2 already has. */
function bundles(): BundleDecision {
  const push: PushAction = { type: 'push', repo: REPO, tag: 'docs-new', digest: d(2), reason: 'new tag', source: 'files' };
  const planned = new Map<string, PlannedTag>([
    ['docs-1', { digest: d(1), mediaType: 'application/vnd.oci.image.manifest.v1+json', children: [], pushed: false }],
    ['docs-new', { digest: d(2), mediaType: 'application/vnd.oci.image.manifest.v1+json', children: [], pushed: true }],
  ]);
  return {
    actions: [push],
    kept: [{ repo: REPO, tag: 'docs-1', digest: d(1), rules: ['bundle unchanged'] }],
    skipped: [{ repo: 'docker.pkg.github.com/acme/x/y', tag: '1', reason: 'refused' }],
    planned: new Map([[REPO, planned]]),
  };
}

function plan(untag: boolean) {
  const decision = bundles();
  const cleanup = evaluateCleanup([{ inventory: withPlannedTags(inventory(untag), decision.planned.get(REPO)), policy }], { facts, now: NOW, graceMs: 0 });
  return assemblePlan(mergeBundleDecision(cleanup, decision), { createdAt: NOW, configDigest: d(7) });
}

test('without the bundle, cleanup would delete docs-1 and docs-2 (the scenario can fail)', () => {
  const cleanup = evaluateCleanup([{ inventory: inventory(false), policy }], { facts, now: NOW, graceMs: 0 });
  assert.equal(cleanup.actions.map((a) => a.tag).sort(), ['docs-1', 'docs-2']);
});

test('an unchanged bundle tag is kept by "bundle unchanged" and never deleted', () => {
  const result = plan(false);
  assert.not.ok(result.actions.some((a) => a.tag === 'docs-1'));
  assert.equal(result.kept.find((k) => k.tag === 'docs-1'), { repo: REPO, tag: 'docs-1', digest: d(1), rules: ['bundle unchanged'] });
});

test('a tag sharing the pushed manifest is skipped where the registry cannot untag, so the push survives', () => {
  const result = plan(false);
  assert.not.ok(result.actions.some((a) => a.type === 'delete' && a.digest === d(2)));
  assert.match(result.skipped.find((s) => s.tag === 'docs-2')?.reason ?? '', /shares manifest .* with kept tag docs-new/);
});

test('where the registry can untag, only that tag goes and the pushed manifest stays', () => {
  const result = plan(true);
  const docs2 = result.actions.find((a) => a.tag === 'docs-2');
  assert.is(docs2?.type === 'delete' ? docs2.mode : undefined, 'untag');
});

test('a pushed tag appears once, as its push, before deletions; refused bundles are skipped; counts add up', () => {
  const result = plan(true);
  assert.is(result.actions[0]?.type, 'push');
  assert.not.ok(result.kept.some((k) => k.tag === 'docs-new'));
  assert.ok(result.skipped.some((s) => s.tag === '1' && s.digest === undefined));
  const deletes = result.actions.filter((a) => a.type === 'delete');
  assert.equal(result.summary, { push: 1, delete: deletes.length, kept: result.kept.length, skipped: 1 });
  assert.not.ok(deletes.some((a) => a.tag === 'docs-1' || a.tag === 'docs-new'));
});

test('with no bundles the cleanup decision passes through unchanged', () => {
  const cleanup = evaluateCleanup([{ inventory: inventory(false), policy }], { facts, now: NOW, graceMs: 0 });
  const merged = mergeBundleDecision(cleanup, { actions: [], kept: [], skipped: [], planned: new Map() });
  assert.equal(merged, cleanup);
  assert.is(withPlannedTags(inventory(false), undefined).tags.length, 3);
});

test.run();
