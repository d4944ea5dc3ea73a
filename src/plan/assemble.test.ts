import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { assemblePlan } from './assemble.ts';
import { evaluateCleanup } from './evaluate.ts';
import type { Plan } from './types.ts';
import { REGPLAN_VERSION } from '../version.ts';
import { NOW, daysAgo, digestOf, hexOf, inventory, noFacts, policy, tag } from '../../test/plan/fixtures.ts';
import { factsArb, graceArb, inventoryArb, policyArb } from '../../test/plan/arbitraries.ts';

const schema = JSON.parse(readFileSync(new URL('../../schema/plan.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
const problems = (plan: unknown): string => (validate(plan) ? '' : JSON.stringify(validate.errors));
const meta = { createdAt: NOW, configDigest: digestOf('config') };

function samplePlan(): Plan {
  const A = digestOf('a');
  const inv = inventory({
    listUntagged: true,
    tags: [tag('v1', A, daysAgo(9)), tag('pr-1', A, daysAgo(9)), tag('pr-2', digestOf('b'), daysAgo(9)), tag('pr-3', digestOf('b'), daysAgo(9)), tag(`sha256-${hexOf(A)}.sig`, digestOf('s'))],
    untagged: [{ digest: digestOf('u'), pushedAt: daysAgo(9) }],
  });
  const decision = evaluateCleanup([{ inventory: inv, policy: policy([{ kind: 'tags', pattern: '^v' }], { untagged: 'delete' }) }], { facts: noFacts, now: NOW, graceMs: 7_200_000 });
  return assemblePlan(decision, meta);
}

test('a plan carries its format version, regplan version, creation time, config digest and summary', () => {
  const plan = samplePlan();
  assert.is(plan.formatVersion, 1);
  assert.is(plan.regplanVersion, REGPLAN_VERSION);
  assert.is(plan.createdAt, NOW.toISOString());
  assert.is(plan.configDigest, digestOf('config'));
  assert.equal(plan.summary, { push: 0, delete: 3, kept: 2, skipped: 1 });
});

test('pushes come before deletions in the plan, each group in its given order', () => {
  const push = (t: string) => ({ type: 'push' as const, repo: 'r.example.com/a', tag: t, digest: digestOf(t), reason: 'new bundle' });
  const del = { type: 'delete' as const, repo: 'r.example.com/a', tag: 'old', digest: digestOf('old'), mode: 'manifest' as const, reason: 'no keep rule matched' };
  const plan = assemblePlan({ actions: [del, push('b'), push('a')], kept: [], skipped: [] }, meta);
  assert.equal(plan.actions.map((a) => a.tag), ['b', 'a', 'old']);
  assert.equal(plan.summary, { push: 2, delete: 1, kept: 0, skipped: 0 });
});

test('schema/plan.schema.json accepts the plans regplan makes (a fixed one and random ones)', () => {
  assert.is(problems(samplePlan()), '');
  assert.is(problems(JSON.parse(JSON.stringify(samplePlan()))), '');
  fc.assert(
    fc.property(fc.record({ inventory: inventoryArb, policy: policyArb, facts: factsArb, graceMs: graceArb }), ({ inventory: inv, policy: pol, facts, graceMs }) => {
      const plan = assemblePlan(evaluateCleanup([{ inventory: inv, policy: pol }], { facts, now: NOW, graceMs }), meta);
      assert.is(problems(plan), '');
    }),
    { numRuns: 200 },
  );
});

test('schema/plan.schema.json rejects plans apply must not trust', () => {
  const good = samplePlan();
  const broken: unknown[] = [
    { ...good, formatVersion: 2 },
    { ...good, configDigest: undefined },
    { ...good, actions: [{ ...good.actions[0], reason: undefined }] },
    { ...good, actions: [{ type: 'delete', repo: 'r', digest: digestOf('x'), mode: 'untag', reason: 'x' }] },
    { ...good, actions: [{ type: 'delete', repo: 'r', tag: 'a', digest: digestOf('x'), mode: 'purge', reason: 'x' }] },
    { ...good, kept: [{ repo: 'r', tag: 'a', digest: digestOf('x'), rules: [] }] },
    { ...good, summary: { push: 0, delete: 0, kept: 0 } },
  ];
  for (const plan of broken) assert.ok(problems(JSON.parse(JSON.stringify(plan))) !== '', JSON.stringify(plan).slice(0, 200));
});

test.run();
