import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Plan } from '../../plan/types.ts';
import { renderPlanMarkdown } from './plan-markdown.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

const plan: Plan = {
  formatVersion: 1,
  regplanVersion: '0.1.0',
  createdAt: '2026-12-01T09:00:00.000Z',
  configDigest: `sha256:${'c'.repeat(64)}`,
  actions: [
    { type: 'delete', repo: 'ghcr.io/acme/api', tag: 'pr-1', digest: D1, mode: 'manifest', reason: 'matches delete scope ^pr-; no keep rule matched' },
    { type: 'delete', repo: 'ghcr.io/acme/api', tag: 'pr-2', digest: D2, mode: 'untag', reason: 'shares manifest with a|b' },
  ],
  kept: [
    { repo: 'ghcr.io/acme/api', tag: 'v1.0.0', digest: D2, rules: ['semver latestMajors 3', 'tags ^v'] },
    { repo: 'registry.example.com/a<b>', tag: 'main', digest: D1, rules: ['newest 3'] },
  ],
  skipped: [],
  notes: [{ repo: 'registry.example.com/a<b>', message: 'untagged: delete needs a registry that lists untagged manifests' }],
  summary: { push: 0, delete: 2, kept: 2, skipped: 0 },
};

test('markdown: the totals line comes first, then one <details> block per repo, sorted, with its counts in the summary', () => {
  const md = renderPlanMarkdown(plan);
  assert.ok(md.startsWith('### regplan: Plan: 0 to push, 2 to delete, 2 kept, 0 skipped.\n\n<details>\n'), md);
  const summaries = [...md.matchAll(/<summary>(.*)<\/summary>/g)].map((m) => m[1]);
  assert.equal(summaries, [
    '<code>ghcr.io/acme/api</code>: 2 to delete (1 untag only), 1 kept, 0 skipped',
    '<code>registry.example.com/a&lt;b&gt;</code>: 0 to delete, 1 kept, 0 skipped, ⚠ 1 note',
  ]);
  assert.is(md.split('<details>').length - 1, 2);
  assert.is(md.split('</details>').length - 1, 2);
});

test('markdown: inside each block a blank line, the notes, then the table; cells escape | and the footer names the plan', () => {
  const md = renderPlanMarkdown(plan);
  assert.match(md, '</summary>\n\n| | tag | digest | why |\n|---|---|---|---|\n| ➖ delete | `pr-1` | `sha256:111111111111` | matches delete scope ^pr-; no keep rule matched |\n');
  assert.match(md, '| ➖ untag | `pr-2` | `sha256:222222222222` | shares manifest with a\\|b |\n| ✔ keep | `v1.0.0` | `sha256:222222222222` | semver latestMajors 3; tags ^v |\n\n</details>\n');
  assert.match(md, '</summary>\n\n> **Note:** untagged: delete needs a registry that lists untagged manifests\n\n| | tag |');
  assert.ok(md.endsWith('<sub>regplan 0.1.0, plan made 2026-12-01T09:00:00.000Z, config sha256:cccccccccccc</sub>\n'));
});

test('markdown: an untag through a placeholder says so in its row and counts as untag only', () => {
  const placeholder: Plan = { ...plan, actions: plan.actions.map((a) => (a.type === 'delete' && a.mode === 'untag' ? { ...a, via: 'placeholder' as const } : a)) };
  const md = renderPlanMarkdown(placeholder);
  assert.match(md, '| ➖ untag (placeholder) | `pr-2` |');
  assert.match(md, '2 to delete (1 untag only)');
});

test('markdown: a plan with nothing in it is the totals line and the footer', () => {
  const empty: Plan = { ...plan, actions: [], kept: [], notes: [], summary: { push: 0, delete: 0, kept: 0, skipped: 0 } };
  assert.is(renderPlanMarkdown(empty), '### regplan: No changes. 0 kept, 0 skipped.\n\n<sub>regplan 0.1.0, plan made 2026-12-01T09:00:00.000Z, config sha256:cccccccccccc</sub>\n');
});

test.run();
