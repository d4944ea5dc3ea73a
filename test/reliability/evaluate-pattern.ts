/**
 * Child process for the ReDoS tests: for each case in argv[2] (JSON: [{pattern, where, hostile}]) loads a config
 * whose policy uses the pattern in keep.tags, newest.tags or delete.tags, evaluates it over 10,000 ordinary tags
 * plus the hostile one, and prints one JSON line per case ({ms, deleted, kept} or {errors}). It runs in a child
 * so that a hang can be killed.
 */
import { loadConfig } from '../../src/config/load.ts';
import type { Policy } from '../../src/config/types.ts';
import { evaluateCleanup } from '../../src/plan/evaluate.ts';
import { daysAgo, digestOf, GRACE_MS, inventory, NOW, tag } from '../plan/fixtures.ts';

/** One evaluation the parent asks for. */
export interface PatternCase {
  pattern: string;
  where: 'keep' | 'newest' | 'delete';
  hostile: string;
}

const ordinary = Array.from({ length: 10_000 }, (_, i) => tag(i % 3 === 0 ? `v1.${i}.0` : `main-${i}`, digestOf(String(i)), daysAgo(1 + (i % 30))));

for (const { pattern, where, hostile } of JSON.parse(process.argv[2] ?? '[]') as PatternCase[]) {
  const quoted = JSON.stringify(pattern);
  const rule = where === 'delete' ? `{ keep: [{ newest: 1 }], delete: { tags: ${quoted} } }` : where === 'newest' ? `{ keep: [{ newest: 5, tags: ${quoted} }] }` : `{ keep: [{ tags: ${quoted} }] }`;
  const result = loadConfig(`version: 1\npolicies:\n  p: ${rule}\nrepos:\n  - { repo: ghcr.io/acme/api, cleanup: p }\n`, { file: 'redos.yaml' });
  const policy = result.config?.policies['p'];
  if (policy === undefined) {
    process.stdout.write(`${JSON.stringify({ errors: result.errors.map((e) => `${e.line}:${e.col} ${e.message}`) })}\n`);
    continue;
  }
  const tags = [...ordinary, tag(hostile, digestOf('hostile'), daysAgo(40))];
  const started = performance.now();
  const decision = evaluateCleanup([{ inventory: inventory({ repo: 'ghcr.io/acme/api', tags }), policy: policy satisfies Policy }], { facts: { git: {}, listed: {} }, now: NOW, graceMs: GRACE_MS });
  process.stdout.write(`${JSON.stringify({ ms: Math.round(performance.now() - started), deleted: decision.actions.length, kept: decision.kept.length })}\n`);
}
