/**
 * Child process for the ReDoS tests: loads a config whose only keep rule is `tags: <pattern>` (the pattern in
 * argv[2], placed in keep.tags, newest.tags or delete.tags by argv[3]), evaluates it over 10,000 ordinary tags
 * plus the hostile tag in argv[4], and prints {ms, deleted, kept}. Run in a child so a hang can be killed.
 */
import { loadConfig } from '../../src/config/load.ts';
import { evaluateCleanup } from '../../src/plan/evaluate.ts';
import { daysAgo, digestOf, GRACE_MS, inventory, NOW, tag } from '../plan/fixtures.ts';

const [pattern = '', where = 'keep', hostile = ''] = process.argv.slice(2);
const rule = where === 'delete' ? `{ keep: [{ newest: 1 }], delete: { tags: ${JSON.stringify(pattern)} } }`
  : where === 'newest' ? `{ keep: [{ newest: 5, tags: ${JSON.stringify(pattern)} }] }`
  : `{ keep: [{ tags: ${JSON.stringify(pattern)} }] }`;
const result = loadConfig(`version: 1\npolicies:\n  p: ${rule}\nrepos:\n  - { repo: ghcr.io/acme/api, cleanup: p }\n`, { file: 'redos.yaml' });
if (result.config === undefined) {
  process.stdout.write(JSON.stringify({ errors: result.errors.map((e) => `${e.line}:${e.col} ${e.message}`) }));
} else {
  const tags = Array.from({ length: 10_000 }, (_, i) => tag(i % 3 === 0 ? `v1.${i}.0` : `main-${i}`, digestOf(String(i)), daysAgo(1 + (i % 30))));
  tags.push(tag(hostile, digestOf('hostile'), daysAgo(40)));
  const started = performance.now();
  const decision = evaluateCleanup([{ inventory: inventory({ repo: 'ghcr.io/acme/api', tags }), policy: result.config.policies['p'] as never }], { facts: { git: {}, listed: {} }, now: NOW, graceMs: GRACE_MS });
  process.stdout.write(JSON.stringify({ ms: Math.round(performance.now() - started), deleted: decision.actions.length, kept: decision.kept.length }));
}
