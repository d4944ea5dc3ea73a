/** The human plan view: what a reader sees, in the order a reader expects. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Plan } from '../../plan/types.ts';
import { naturalCompare, renderPlanHuman } from './plan-human.ts';

const D = (n: number) => `sha256:${String(n).padStart(64, '0')}`;

test('tags show in natural order (pr-2 before pr-10) while the plan keeps its own order', () => {
  const tags = ['pr-10', 'pr-2', 'pr-1'];
  const plan: Plan = {
    formatVersion: 1,
    regplanVersion: '0.1.0',
    createdAt: '2026-12-01T00:00:00.000Z',
    configDigest: D(0),
    actions: [
      ...tags.map((tag, i) => ({ type: 'delete' as const, repo: 'oci:./x', tag, digest: D(i + 1), mode: 'manifest' as const, reason: 'r' })),
      { type: 'delete', repo: 'oci:./x', digest: D(9), mode: 'manifest', reason: 'untagged' },
    ],
    kept: [{ repo: 'oci:./x', tag: 'v1.10.0', digest: D(5), rules: ['k'] }, { repo: 'oci:./x', tag: 'v1.9.0', digest: D(6), rules: ['k'] }],
    skipped: [],
    summary: { push: 0, delete: 4, kept: 2, skipped: 0 },
  };
  const before = JSON.stringify(plan);
  const shown = renderPlanHuman(plan, { color: false }).split('\n').map((l) => l.trim().split('  ')[0]);
  assert.equal(shown.slice(1, 7), ['- pr-1', '- pr-2', '- pr-10', `- (untagged sha256:000000000000)`, '= v1.9.0', '= v1.10.0']);
  assert.is(JSON.stringify(plan), before, 'rendering leaves the plan as it was');
});

test('an untag shows how it is done: [untag only], or [untag (placeholder)] where the registry needs a placeholder', () => {
  const plan: Plan = {
    formatVersion: 1,
    regplanVersion: '0.1.0',
    createdAt: '2026-12-01T00:00:00.000Z',
    configDigest: D(0),
    actions: [
      { type: 'delete', repo: 'r.example.com/x', tag: 'pr-1', digest: D(1), mode: 'untag', reason: 'shared' },
      { type: 'delete', repo: 'r.example.com/x', tag: 'pr-2', digest: D(1), mode: 'untag', via: 'placeholder', reason: 'shared' },
    ],
    kept: [],
    skipped: [],
    summary: { push: 0, delete: 2, kept: 0, skipped: 0 },
  };
  const text = renderPlanHuman(plan, { color: false });
  assert.match(text, /- pr-1 .*\[untag only\]  shared/);
  assert.match(text, /- pr-2 .*\[untag \(placeholder\)\]  shared/);
});

test('natural order: numbers by value, text by code point, leading zeros and long numbers handled', () => {
  const sorted = ['b', 'a10', 'a9', 'a010', 'a', 'a99999999999999999999', 'a100000000000000000000', 'A1'].sort(naturalCompare);
  assert.equal(sorted, ['A1', 'a', 'a9', 'a010', 'a10', 'a99999999999999999999', 'a100000000000000000000', 'b']);
});

test.run();
