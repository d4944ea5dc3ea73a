/**
 * The export contract, checked by simulation: for random repos and policies, the policy export-policy prints for
 * each registry (ECR, GitLab, Harbor, Artifact Registry, Quay), run by that registry's simulator (simulate-*.ts,
 * the vendor's documented semantics), never removes a tag or manifest regplan's evaluator keeps by its rules —
 * `regplan drift` of an exported policy is empty. Each run also checks the property is not vacuous.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { KeepRule, Policy, RegistryType } from '../config/types.ts';
import type { RepoInventory } from '../model/inventory.ts';
import { evaluateRepo } from '../plan/evaluate.ts';
import { NOW } from '../../test/plan/fixtures.ts';
import { factsArb, graceArb, inventoryArb, policyArb } from '../../test/plan/arbitraries.ts';
import { findDrift, serverImages, type DriftEntry } from './drift.ts';
import { exportPolicy } from './compile.ts';
import type { ArtifactRegistryCleanupPolicy } from './artifact-registry.ts';
import type { GitlabCleanupPolicy } from './gitlab.ts';
import type { HarborRetentionPolicy } from './harbor.ts';
import type { QuayAutoPrunePolicy } from './quay.ts';
import { readEcrRules, simulateEcr } from './simulate-ecr.ts';
import { simulateArtifactRegistry, simulateGitlab, simulateHarbor, simulateQuay, type Removal } from './simulate-tag-policies.ts';

const RUNS = Number(process.env['REGPLAN_PROPERTY_RUNS'] ?? 500);
const DAY = 86_400_000;

/**
 * The inventory as these registries report it: untag and untagged listing, and one known push time per image (its
 * first tag's; they report push times at millisecond precision or finer, so images get distinct times here too).
 */
function asRegistry(inventory: RepoInventory, type: RegistryType): RepoInventory {
  const digests = [...new Set([...inventory.tags.map((t) => t.digest), ...inventory.untagged.map((u) => u.digest)])].sort();
  const imageTime = new Map<string, string>();
  for (const t of inventory.tags) {
    if (imageTime.has(t.digest)) continue;
    const given = t.pushedAt === undefined ? Number.NaN : Date.parse(t.pushedAt);
    const base = Number.isNaN(given) ? NOW.getTime() - 500 * 3_600_000 : given;
    imageTime.set(t.digest, new Date(base - digests.indexOf(t.digest)).toISOString());
  }
  // A tagged manifest naming a subject follows it in regplan but counts as a tag on the server: that is the
  // RELATIONSHIPS limitation every export lists (compile.ts), so tagged targets carry no subject here.
  const tagged = new Set(inventory.tags.map((t) => t.digest));
  const manifests = Object.fromEntries(Object.entries(inventory.manifests).map(([digest, facts]) => {
    if (!tagged.has(digest) || facts.subject === undefined) return [digest, facts];
    const { subject: _, ...rest } = facts;
    return [digest, rest];
  }));
  return {
    ...inventory,
    manifests,
    driver: { type, untag: true, listUntagged: true },
    tags: inventory.tags.map((t) => ({ ...t, pushedAt: imageTime.get(t.digest) as string })),
  };
}

/** Policies the languages can mostly express: tags, newest (maybe scoped), pushedWithin, maybe a delete scope. */
const expressibleRule: fc.Arbitrary<KeepRule> = fc.oneof(
  fc.constantFrom('^v', '^main$', 'x', '^pr-1$', '^v\\d+\\.\\d+\\.\\d+$', '^(main|pr)-').map((pattern): KeepRule => ({ kind: 'tags', pattern })),
  fc.record({ count: fc.integer({ min: 0, max: 4 }), tags: fc.option(fc.constantFrom('^main', '^pr-', '^(pr|main)'), { nil: undefined }) })
    .map(({ count, tags }): KeepRule => ({ kind: 'newest', count, ...(tags === undefined ? {} : { tags }) })),
  fc.constantFrom<[number, string]>([3_600_000, '1h'], [DAY, '1d'], [10 * DAY, '10d']).map(([durationMs, text]): KeepRule => ({ kind: 'pushedWithin', durationMs, text })),
);
const expressiblePolicy: fc.Arbitrary<Policy> = fc
  .record({
    keep: fc.array(expressibleRule, { maxLength: 3 }),
    untagged: fc.constantFrom<'delete' | 'keep'>('delete', 'keep'),
    deleteTags: fc.option(fc.constantFrom('^pr-', '^(pr|main)', '^(pr|branch)-'), { nil: undefined, freq: 2 }),
  })
  .map(({ keep, untagged, deleteTags }) => ({ name: 'random', keep, untagged, ...(deleteTags === undefined ? {} : { deleteTags }) }));

/** Each registry with a lifecycle language, the repo address its export is made for, and its simulator. */
const REGISTRIES: { type: RegistryType; host: string; name: string; simulate: (policy: unknown, images: ReturnType<typeof serverImages>) => Removal[] }[] = [
  { type: 'ecr', host: '123456789012.dkr.ecr.us-east-1.amazonaws.com', name: 'acme/app', simulate: (p, images) => simulateEcr(readEcrRules(p, 'app'), images, NOW) },
  { type: 'gitlab', host: 'registry.gitlab.com', name: 'acme/app', simulate: (p, images) => simulateGitlab(p as GitlabCleanupPolicy, images, NOW) },
  { type: 'harbor', host: 'harbor.example.com', name: 'acme/app', simulate: (p, images) => simulateHarbor(p as HarborRetentionPolicy, 'app', images, NOW) },
  { type: 'gcr', host: 'europe-docker.pkg.dev', name: 'proj/repo/app', simulate: (p, images) => simulateArtifactRegistry(p as ArtifactRegistryCleanupPolicy[], 'app', images, NOW) },
  { type: 'quay', host: 'quay.io', name: 'acme/app', simulate: (p, images) => simulateQuay(p as QuayAutoPrunePolicy[], images, NOW) },
];

/**
 * Drift the export contract covers: everything except tags regplan keeps only through content relationships
 * (children of kept indexes, subjects of kept artifacts, artifacts following a kept subject), which no lifecycle language sees — each export lists
 * that limitation, and `regplan drift` finds such cases on the live repo.
 */
const RELATIONSHIP = /^(child of kept index |subject of kept |part of kept content|follows subject )/;
const ruleDrift = (drift: readonly DriftEntry[]) => drift.filter((d) => !d.keptBecause.split(', ').every((reason) => RELATIONSHIP.test(reason)));

function driftOfExport(registry: (typeof REGISTRIES)[number], inventory: RepoInventory, policy: Policy, facts: Parameters<typeof evaluateRepo>[2]['facts'], graceMs: number) {
  const exported = exportPolicy({ repo: inventory.repo, type: registry.type, host: registry.host, name: registry.name }, policy, { graceMs });
  if (exported.status !== 'exported') return undefined;
  const decision = evaluateRepo(inventory, policy, { facts, now: NOW, graceMs });
  const removals = registry.simulate(exported.policy, serverImages(inventory));
  return { drift: findDrift(inventory.repo, removals, decision), removals };
}

for (const registry of REGISTRIES) {
  test(`${registry.type}: the exported policy never removes what the plan keeps (expressible policies, grace 0 or 2h)`, () => {
    let exported = 0;
    let removing = 0;
    fc.assert(
      fc.property(inventoryArb.map((i) => asRegistry(i, registry.type)), expressiblePolicy, factsArb, graceArb, (inventory, policy, facts, graceMs) => {
        const result = driftOfExport(registry, inventory, policy, facts, graceMs);
        if (result === undefined) return;
        exported++;
        if (result.removals.length > 0) removing++;
        assert.equal(ruleDrift(result.drift), [], JSON.stringify({ policy, graceMs }));
      }),
      { numRuns: RUNS },
    );
    // The property must not hold vacuously: exports that remove something.
    assert.ok(exported > RUNS / 10, `only ${exported} of ${RUNS} policies exported`);
    assert.ok(removing > RUNS / 20, `only ${removing} exports removed anything`);
  });

  test(`${registry.type}: the exported policy never removes what the plan keeps (any policy: dynamic rules, delete scopes, groupBy)`, () => {
    fc.assert(
      fc.property(inventoryArb.map((i) => asRegistry(i, registry.type)), policyArb, factsArb, graceArb, (inventory, policy, facts, graceMs) => {
        const result = driftOfExport(registry, inventory, policy, facts, graceMs);
        if (result !== undefined) assert.equal(ruleDrift(result.drift), [], JSON.stringify({ policy, graceMs }));
      }),
      { numRuns: RUNS },
    );
  });
}

test.run();
