import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { evaluateRepo } from './evaluate.ts';
import type { DeleteAction } from './types.ts';
import { NOW } from '../../test/plan/fixtures.ts';
import { factsArb, graceArb, inventoryArb, policyArb } from '../../test/plan/arbitraries.ts';
import { referenceCleanup } from '../../test/plan/reference-model.ts';
import type { RepoInventory } from '../model/inventory.ts';

const RUNS = Number(process.env['REGPLAN_PROPERTY_RUNS'] ?? 500);
const scenario = fc.record({ inventory: inventoryArb, policy: policyArb, facts: factsArb, graceMs: graceArb });

const deletes = (actions: readonly unknown[]) => actions as DeleteAction[];

/** Every digest reachable from `digest` through index children (the manifest itself included). */
function withDescendants(inventory: RepoInventory, digest: string): Set<string> {
  const seen = new Set<string>();
  const walk = (d: string) => {
    if (seen.has(d)) return;
    seen.add(d);
    for (const child of inventory.manifests[d]?.children ?? []) walk(child);
  };
  walk(digest);
  return seen;
}

/** The subject a tag refers to, read directly from the inventory (manifest field, or cosign-style name). */
function subjectsOfTag(inventory: RepoInventory, tagName: string, digest: string): string[] {
  const subjects: string[] = [];
  const fromManifest = inventory.manifests[digest]?.subject;
  if (fromManifest !== undefined && fromManifest !== digest) subjects.push(fromManifest);
  const named = /^sha256-([0-9a-f]{64})/.exec(tagName);
  if (named && `sha256:${named[1]}` !== digest) subjects.push(`sha256:${named[1]}`);
  return subjects;
}

test('no deleted manifest is on a kept or skipped tag, under a kept index, or the subject of a kept tag', () => {
  fc.assert(
    fc.property(scenario, ({ inventory, policy, facts, graceMs }) => {
      const decision = evaluateRepo(inventory, policy, { facts, now: NOW, graceMs });
      const actions = deletes(decision.actions);
      const deletedDigests = new Set(actions.filter((a) => a.mode === 'manifest').map((a) => a.digest));
      const survivors = [...decision.kept, ...decision.skipped];
      for (const kept of survivors) {
        for (const d of withDescendants(inventory, kept.digest)) assert.not.ok(deletedDigests.has(d), `${d} is under kept ${kept.tag}`);
      }
      for (const kept of decision.kept) {
        for (const subject of subjectsOfTag(inventory, kept.tag, kept.digest)) {
          assert.not.ok(deletedDigests.has(subject), `subject ${subject} of kept ${kept.tag} is deleted`);
        }
      }
      for (const untag of actions.filter((a) => a.mode === 'untag')) {
        assert.ok(inventory.driver.untag, 'untag only where the driver can');
        assert.not.ok(deletedDigests.has(untag.digest), 'an untagged tag keeps its manifest');
      }
      // a manifest delete takes every tag on the digest: each of them must be a planned deletion
      const deletedTags = new Set(actions.filter((a) => a.mode === 'manifest' && a.tag !== undefined).map((a) => a.tag));
      for (const record of inventory.tags) if (deletedDigests.has(record.digest)) assert.ok(deletedTags.has(record.tag), `${record.tag} would vanish unplanned`);
      // untagged deletions: never a child of any index, never the target of a tag
      for (const a of actions.filter((x) => x.tag === undefined)) {
        assert.ok(policy.untagged === 'delete' && inventory.driver.listUntagged);
        assert.not.ok(Object.values(inventory.manifests).some((m) => m.children.includes(a.digest)), 'child of an index deleted');
        assert.not.ok(inventory.tags.some((t) => t.digest === a.digest), 'tagged manifest deleted as untagged');
      }
      // every tag has exactly one fate
      const fates = [...decision.kept.map((k) => k.tag), ...decision.skipped.map((s) => s.tag), ...actions.filter((a) => a.tag !== undefined).map((a) => a.tag)];
      assert.equal([...fates].sort(), inventory.tags.map((t) => t.tag).sort());
      // nothing pushed within grace is deleted
      for (const a of actions) {
        if (a.pushedAt === undefined) continue;
        const time = Date.parse(a.pushedAt);
        if (!Number.isNaN(time)) assert.ok(NOW.getTime() - time > graceMs, `${a.tag ?? a.digest} is within grace`);
      }
    }),
    { numRuns: RUNS },
  );
});

test('the kept, deleted, untagged and skipped sets equal the separately written reference model', () => {
  fc.assert(
    fc.property(scenario, ({ inventory, policy, facts, graceMs }) => {
      const decision = evaluateRepo(inventory, policy, { facts, now: NOW, graceMs });
      const actions = deletes(decision.actions);
      const model = referenceCleanup(inventory, policy, { facts, now: NOW, graceMs });
      const sorted = (list: (string | undefined)[]) => (list as string[]).sort();
      assert.equal(sorted(decision.kept.map((k) => k.tag)), model.kept, 'kept');
      assert.equal(sorted(actions.filter((a) => a.mode === 'manifest' && a.tag !== undefined).map((a) => a.tag)), model.manifestDeleted, 'deleted');
      assert.equal(sorted(actions.filter((a) => a.mode === 'untag').map((a) => a.tag)), model.untagged, 'untagged');
      assert.equal(sorted(decision.skipped.map((s) => s.tag)), model.skipped, 'skipped');
      assert.equal(sorted(actions.filter((a) => a.tag === undefined).map((a) => a.digest)), model.untaggedDeleted, 'untagged manifests deleted');
    }),
    { numRuns: RUNS },
  );
});

test('the same input gives the identical decision, and so does the input in any order', () => {
  fc.assert(
    fc.property(scenario, fc.integer(), ({ inventory, policy, facts, graceMs }, seed) => {
      const options = { facts, now: NOW, graceMs };
      const first = evaluateRepo(inventory, policy, options);
      assert.equal(evaluateRepo(inventory, policy, options), first);
      const shuffle = <T>(list: readonly T[]): T[] => {
        const copy = [...list];
        let state = seed >>> 0;
        for (let i = copy.length - 1; i > 0; i--) {
          state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
          const j = state % (i + 1);
          [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
        }
        return copy;
      };
      const shuffled: RepoInventory = {
        ...inventory,
        tags: shuffle(inventory.tags),
        untagged: shuffle(inventory.untagged),
        manifests: Object.fromEntries(shuffle(Object.entries(inventory.manifests))),
      };
      assert.equal(evaluateRepo(shuffled, policy, options), first);
    }),
    { numRuns: RUNS },
  );
});

test.run();
