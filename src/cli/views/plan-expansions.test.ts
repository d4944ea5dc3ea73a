/** How plans show repo pattern expansions: each pattern with its repos, excludes, entries that won, and rejected names. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assemblePlan } from '../../plan/assemble.ts';
import type { Plan } from '../../plan/types.ts';
import { renderPlanHuman } from './plan-human.ts';
import { renderPlanMarkdown } from './plan-markdown.ts';

const plan: Plan = assemblePlan(
  {
    actions: [],
    kept: [{ repo: 'ghcr.io/acme/api', tag: 'v1', digest: `sha256:${'a'.repeat(64)}`, rules: ['tags ^v'] }],
    skipped: [],
    expansions: [{
      pattern: 'ghcr.io/acme/*',
      repos: ['ghcr.io/acme/api', 'ghcr.io/acme/web'],
      excluded: [{ repo: 'ghcr.io/acme/legacy', by: 'ghcr.io/acme/legacy*' }],
      shadowed: [{ repo: 'ghcr.io/acme/tools', by: 'its own entry (ghcr.io/acme/tools)' }],
      rejected: ['"acme/\\u001b[31mx"'],
    }],
  },
  { createdAt: new Date('2025-01-01T00:00:00Z'), configDigest: `sha256:${'c'.repeat(64)}`, regplanVersion: '0.0.0-test' },
);

const EXPECTED = [
  'pattern ghcr.io/acme/* -> 2 repos: ghcr.io/acme/api, ghcr.io/acme/web',
  '  excluded ghcr.io/acme/legacy (by ghcr.io/acme/legacy*)',
  '  left to its own entry (ghcr.io/acme/tools): ghcr.io/acme/tools',
  '  skipped "acme/\\u001b[31mx": invalid repository name from registry',
];

test('the human view starts with each pattern and what it expanded to', () => {
  const text = renderPlanHuman(plan, { color: false });
  assert.ok(text.startsWith(`${EXPECTED.join('\n')}\n\nghcr.io/acme/api\n`), text);
  assert.not.match(text, '\u001b', 'a rejected name stays escaped');
});

test('the markdown view shows the expansions in a text block under the totals', () => {
  const text = renderPlanMarkdown(plan);
  assert.match(text, ['### regplan: No changes. 1 kept, 0 skipped.', '', '```text', ...EXPECTED, '```'].join('\n'));
});

test.run();
