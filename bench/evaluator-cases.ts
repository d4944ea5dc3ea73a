/**
 * The benchmarks that need no registry: the pure evaluator on a synthetic 50,000-tag inventory, and plan
 * evaluation of the patterns that stalled backtracking regexes (issue 9: `(a+)+$` with one 41-character tag among
 * 10,000 ran past 120 s; `^v(\\d+\\.?)+$` took 4.7 s on a 29-character tag), now on RE2. Each returns table rows.
 */
import { createHash } from 'node:crypto';
import { loadConfig } from '../src/config/load.ts';
import type { Policy } from '../src/config/types.ts';
import type { RepoInventory } from '../src/model/inventory.ts';
import { evaluateCleanup } from '../src/plan/evaluate.ts';

const digestOf = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** The pure evaluator on a synthetic inventory of `syntheticTags` tags: one table row. */
export function benchEvaluate(syntheticTags: number): string {
  const now = new Date('2026-06-01T00:00:00Z');
  const tags = Array.from({ length: syntheticTags }, (_, i) => ({
    tag: i % 10 === 0 ? `v1.${Math.floor(i / 100)}.${i % 100}` : i % 3 === 0 ? `main-${i}` : `pr-${i}`,
    digest: digestOf(String(i % Math.floor(syntheticTags * 0.8))),
    pushedAt: new Date(now.getTime() - i * 60_000).toISOString(),
  }));
  const inventory: RepoInventory = { repo: 'bench.example.com/acme/app', driver: { type: 'default', untag: false, listUntagged: false }, tags, untagged: [], manifests: {} };
  const policy: Policy = {
    name: 'bench',
    keep: [{ kind: 'tags', pattern: '^v' }, { kind: 'newest', count: 50, tags: '^main-' }, { kind: 'pushedWithin', durationMs: 7 * 86_400_000, text: '7d' }, { kind: 'semver', latestPerMinor: 2, prerelease: false }],
    deleteTags: '^(pr|main)-',
    untagged: 'keep',
  };
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const decision = evaluateCleanup([{ inventory, policy }], { facts: { git: {}, listed: {} }, now, graceMs: 7_200_000 });
  const ms = performance.now() - started;
  return `| evaluate ${syntheticTags.toLocaleString('en')} tags (synthetic) | ${ms.toFixed(0)} ms | — | heap +${mb(process.memoryUsage().heapUsed - heapBefore)} | ${decision.actions.length} deletes, ${decision.kept.length} kept, ${decision.skipped.length} skipped |`;
}

/** Patterns that backtrack exponentially in JavaScript, through config loading and plan evaluation: table rows. */
export function benchRedos(): string[] {
  const rows: string[] = [];
  const now = new Date('2026-06-01T00:00:00Z');
  const cases = [
    { pattern: '(a+)+$', hostile: `${'a'.repeat(40)}!`, before: 'ran past 120 s (issue 9)' },
    { pattern: '^v(\\d+\\.?)+$', hostile: `v${'1'.repeat(27)}!`, before: '4.7 s (issue 9)' },
  ];
  for (const { pattern, hostile, before } of cases) {
    const loaded = loadConfig(`version: 1\npolicies:\n  p: { keep: [{ tags: ${JSON.stringify(pattern)} }] }\nrepos:\n  - { repo: bench.example.com/acme/app, cleanup: p }\n`, { file: 'bench.yaml' });
    const policy = loaded.config?.policies['p'];
    if (policy === undefined) throw new Error(`bench config invalid: ${loaded.errors.map((e) => e.message).join('; ')}`);
    const tags = Array.from({ length: 10_000 }, (_, i) => ({ tag: i % 3 === 0 ? `v1.${i}.0` : `main-${i}`, digest: digestOf(String(i)), pushedAt: new Date(now.getTime() - (i + 200) * 60_000).toISOString() }));
    tags.push({ tag: hostile, digest: digestOf('hostile'), pushedAt: new Date(now.getTime() - 86_400_000).toISOString() });
    const inventory: RepoInventory = { repo: 'bench.example.com/acme/app', driver: { type: 'default', untag: false, listUntagged: false }, tags, untagged: [], manifests: {} };
    const started = performance.now();
    const decision = evaluateCleanup([{ inventory, policy }], { facts: { git: {}, listed: {} }, now, graceMs: 7_200_000 });
    const ms = performance.now() - started;
    rows.push(`| evaluate \`tags: ${pattern.replaceAll('|', '\\|')}\` over 10,001 tags incl. a ${hostile.length}-character one (before RE2: ${before}) | ${ms.toFixed(0)} ms | — | — | ${decision.actions.length} deletes, ${decision.kept.length} kept |`);
  }
  return rows;
}
