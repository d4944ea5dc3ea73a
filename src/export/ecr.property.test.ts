/**
 * The export contract, checked by simulation: for random repos and policies, the ECR lifecycle policy
 * export-policy prints, run by the ECR simulator (simulate-ecr.ts, ECR's documented semantics), never expires a
 * tag or manifest regplan's evaluator keeps — `regplan drift` of the exported policy is always empty.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { KeepRule, Policy } from '../config/types.ts';
import type { RepoInventory } from '../model/inventory.ts';
import { evaluateRepo } from '../plan/evaluate.ts';
import { NOW } from '../../test/plan/fixtures.ts';
import { factsArb, graceArb, inventoryArb, policyArb } from '../../test/plan/arbitraries.ts';
import { findDrift, serverImages, type DriftEntry } from './drift.ts';
import { compileEcr, type EcrLifecyclePolicy } from './ecr.ts';
import { readEcrRules, simulateEcr } from './simulate-ecr.ts';

const RUNS = Number(process.env['REGPLAN_PROPERTY_RUNS'] ?? 500);
const DAY = 86_400_000;

/**
 * The inventory as ECR reports it: untag and untagged listing, and one known push time per image (its first tag's;
 * ECR always reports imagePushedAt, at millisecond precision, so images get distinct times here too).
 */
function asEcr(inventory: RepoInventory): RepoInventory {
  const digests = [...new Set([...inventory.tags.map((t) => t.digest), ...inventory.untagged.map((u) => u.digest)])].sort();
  const imageTime = new Map<string, string>();
  for (const t of inventory.tags) {
    if (imageTime.has(t.digest)) continue;
    const given = t.pushedAt === undefined ? Number.NaN : Date.parse(t.pushedAt);
    const base = Number.isNaN(given) ? NOW.getTime() - 500 * 3_600_000 : given;
    imageTime.set(t.digest, new Date(base - digests.indexOf(t.digest)).toISOString());
  }
  return {
    ...inventory,
    driver: { type: 'ecr', untag: true, listUntagged: true },
    tags: inventory.tags.map((t) => ({ ...t, pushedAt: imageTime.get(t.digest) as string })),
  };
}

/** Policies ECR can mostly express: tags, one newest (maybe scoped), pushedWithin; no delete scope. */
const expressibleRule: fc.Arbitrary<KeepRule> = fc.oneof(
  fc.constantFrom('^v', '^main$', 'x', '^pr-1$', '^v\\d+\\.\\d+\\.\\d+$', '^(main|pr)-').map((pattern): KeepRule => ({ kind: 'tags', pattern })),
  fc.record({ count: fc.integer({ min: 0, max: 4 }), tags: fc.option(fc.constantFrom('^main', '^pr-', '^(pr|main)'), { nil: undefined }) })
    .map(({ count, tags }): KeepRule => ({ kind: 'newest', count, ...(tags === undefined ? {} : { tags }) })),
  fc.constantFrom<[number, string]>([3_600_000, '1h'], [DAY, '1d'], [10 * DAY, '10d']).map(([durationMs, text]): KeepRule => ({ kind: 'pushedWithin', durationMs, text })),
);
const expressiblePolicy: fc.Arbitrary<Policy> = fc
  .record({ keep: fc.array(expressibleRule, { maxLength: 3 }), untagged: fc.constantFrom<'delete' | 'keep'>('delete', 'keep') })
  .map(({ keep, untagged }) => ({ name: 'random', keep, untagged }));

/**
 * Drift the export contract covers: everything except tags regplan keeps only through content relationships
 * (children of kept indexes, subjects of kept artifacts, artifacts following a kept subject), which no lifecycle language sees — each export lists
 * that limitation, and `regplan drift` finds such cases on the live repo.
 */
const RELATIONSHIP = /^(child of kept index |subject of kept |part of kept content|follows subject )/;
const ruleDrift = (drift: readonly DriftEntry[]) => drift.filter((d) => !d.keptBecause.split(', ').every((reason) => RELATIONSHIP.test(reason)));

function driftOfExport(inventory: RepoInventory, policy: Policy, facts: Parameters<typeof evaluateRepo>[2]['facts'], graceMs: number) {
  const exported = compileEcr(policy, { repo: inventory.repo, graceMs });
  if (exported.status !== 'exported') return undefined;
  const decision = evaluateRepo(inventory, policy, { facts, now: NOW, graceMs });
  const removals = simulateEcr(readEcrRules(exported.policy as EcrLifecyclePolicy, inventory.repo), serverImages(inventory), NOW);
  return { drift: findDrift(inventory.repo, removals, decision), removals };
}

test('the exported ECR policy never expires what the plan keeps (expressible policies, grace 0 or 2h)', () => {
  let exported = 0;
  let removing = 0;
  fc.assert(
    fc.property(inventoryArb.map(asEcr), expressiblePolicy, factsArb, graceArb, (inventory, policy, facts, graceMs) => {
      const result = driftOfExport(inventory, policy, facts, graceMs);
      if (result === undefined) return;
      exported++;
      if (result.removals.length > 0) removing++;
      assert.equal(ruleDrift(result.drift), [], JSON.stringify({ policy, graceMs }));
    }),
    { numRuns: RUNS },
  );
  // The property must not hold vacuously: many exports, and many that delete something.
  assert.ok(exported > RUNS / 4, `only ${exported} of ${RUNS} policies exported`);
  assert.ok(removing > RUNS / 10, `only ${removing} exports removed anything`);
});

test('the exported ECR policy never expires what the plan keeps (any policy: dynamic rules, delete scopes, groupBy)', () => {
  fc.assert(
    fc.property(inventoryArb.map(asEcr), policyArb, factsArb, graceArb, (inventory, policy, facts, graceMs) => {
      const result = driftOfExport(inventory, policy, facts, graceMs);
      if (result !== undefined) assert.equal(ruleDrift(result.drift), [], JSON.stringify({ policy, graceMs }));
    }),
    { numRuns: RUNS },
  );
});

test.run();
