import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quoteName } from '../model/names.ts';
import { assemblePlan } from './assemble.ts';
import { planSchemaProblems } from './planfile.ts';
import type { SkippedName } from '../model/inventory.ts';

const planWith = (skipped: SkippedName[]) => assemblePlan({ actions: [], kept: [], skipped }, { createdAt: new Date(0), configDigest: 'sha256:test' });

test('the plan schema takes invalid names from a registry as skipped entries, counted in the summary', () => {
  const plan = planWith([
    { repo: 'r.example/app', kind: 'tag', name: quoteName('pr-1/../v1.0.0\u001b[2J'), reason: 'invalid tag name from registry' },
    { repo: 'r.example/app', kind: 'digest', name: quoteName('sha256:zz'), tag: 'v2', reason: 'invalid digest from registry' },
  ]);
  assert.equal(planSchemaProblems(JSON.parse(JSON.stringify(plan))), []);
  assert.is(plan.summary.skipped, 2);
});

test('the plan schema refuses a skipped name that is raw (unquoted or with control characters) or carries a digest', () => {
  const base = { repo: 'r.example/app', kind: 'tag' as const, reason: 'invalid tag name from registry' };
  for (const entry of [{ ...base, name: 'pr-1/../v1' }, { ...base, name: '"pr-\u001b[2J"' }, { ...base, name: '"x"', digest: `sha256:${'a'.repeat(64)}` }]) {
    assert.ok(planSchemaProblems(JSON.parse(JSON.stringify(planWith([entry as SkippedName])))).length > 0, JSON.stringify(entry));
  }
});

test.run();
