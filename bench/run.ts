/**
 * Benchmarks (npm run bench): speed and memory of the parts that scale with a registry's size, measured here
 * rather than asserted in timed unit tests. Writes bench/results.md and prints it.
 *   1. evaluate: the pure evaluator on a synthetic 50,000-tag inventory.
 *   2. plan, real registry: a 1,000-tag repo on Debian's docker-registry behind a counting proxy — cold cache
 *      vs warm cache (requests per tag, wall time), with regplan's peak RSS.
 *   3. redos: plan evaluation of the patterns that stalled backtracking regexes (issue 9: `(a+)+$` with one
 *      41-character tag among 10,000 ran past 120 s; `^v(\d+\.?)+$` took 4.7 s on a 29-character tag), now on RE2.
 * Usage: node bench/run.ts [--tags 1000] [--synthetic 50000] [--only registry,evaluate,redos]
 * With --only the table is printed but bench/results.md (the record of a full run) is left as it is.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runCli } from '../src/cli/main.ts';
import { loadConfig } from '../src/config/load.ts';
import type { Policy } from '../src/config/types.ts';
import { evaluateCleanup } from '../src/plan/evaluate.ts';
import { RegistryClient } from '../src/registry/client.ts';
import { MediaType } from '../src/registry/oci.ts';
import { startRegistry } from '../test/harness/registry.ts';
import { startCountingProxy } from '../test/support/counting-proxy.ts';
import { captureIo } from '../test/support/io.ts';
import type { RepoInventory } from '../src/model/inventory.ts';

const { values } = parseArgs({ options: { tags: { type: 'string', default: '1000' }, synthetic: { type: 'string', default: '50000' }, only: { type: 'string' } } });
const only = values.only === undefined ? undefined : new Set(values.only.split(','));
const runs = (name: string) => only === undefined || only.has(name);
const registryTags = Number(values.tags);
const syntheticTags = Number(values.synthetic);
const digestOf = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const rows: string[] = [];

// 1. The evaluator alone (run second, so the plan's RSS above is not inflated by it).
async function benchEvaluate(): Promise<void> {
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
  rows.push(`| evaluate ${syntheticTags.toLocaleString('en')} tags (synthetic) | ${ms.toFixed(0)} ms | — | heap +${mb(process.memoryUsage().heapUsed - heapBefore)} | ${decision.actions.length} deletes, ${decision.kept.length} kept, ${decision.skipped.length} skipped |`);
}

// 2. Plan against a real registry, cold then warm cache.
async function benchRegistryPlan(): Promise<void> {
  const registry = await startRegistry({ auth: 'none' });
  const proxy = await startCountingProxy(registry.host);
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-bench-'));
  try {
    const client = new RegistryClient({ host: registry.host });
    const name = 'bench/app';
    const layer = await client.uploadBlob(name, { bytes: new TextEncoder().encode('bench layer') });
    const seedStarted = performance.now();
    for (let i = 0; i < registryTags; i++) {
      const created = new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString();
      const configBytes = new TextEncoder().encode(JSON.stringify({ architecture: 'amd64', os: 'linux', created, rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
      const config = await client.uploadBlob(name, { bytes: configBytes });
      const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, ...config }, layers: [{ mediaType: MediaType.ociLayerGzip, ...layer }] };
      const tag = i % 20 === 0 ? `v1.${i}.0` : i % 2 === 0 ? `main-${i}` : `pr-${i}`;
      await client.putManifest(name, tag, new TextEncoder().encode(JSON.stringify(manifest)), MediaType.ociManifest);
    }
    const seedMs = performance.now() - seedStarted;
    await writeFile(
      path.join(dir, 'registry.config.yaml'),
      ['version: 1', 'settings: { concurrency: 8 }', 'policies:', '  ci:', "    keep: [{ tags: '^v' }, { newest: 20, tags: '^main-' }]", "    delete: { tags: '^(pr|main)-' }", 'repos:', `  - repo: ${proxy.host}/${name}`, '    cleanup: ci', ''].join('\n'),
    );
    const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache') };
    for (const label of ['cold cache', 'warm cache']) {
      proxy.reset();
      const io = captureIo(env, dir);
      const started = performance.now();
      const code = await runCli(['plan', '--json'], io);
      const ms = performance.now() - started;
      if (code !== 0) throw new Error(`plan failed: ${io.err()}`);
      const plan = JSON.parse(io.out()) as { summary: { delete: number; kept: number } };
      const perTag = proxy.requests.length / registryTags;
      rows.push(`| plan ${registryTags} tags, real registry, ${label} | ${ms.toFixed(0)} ms | ${proxy.requests.length} (${perTag.toFixed(2)}/tag) | bench process RSS ${mb(process.memoryUsage().rss)} (includes seeding) | ${plan.summary.delete} deletes, ${plan.summary.kept} kept |`);
    }
    rows.push(`| (seeding ${registryTags} manifests through the client) | ${seedMs.toFixed(0)} ms | — | — | — |`);
  } finally {
    await proxy.stop();
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// 3. Patterns that backtrack exponentially in JavaScript, through config loading and plan evaluation.
async function benchRedos(): Promise<void> {
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
}

if (runs('registry')) await benchRegistryPlan();
if (runs('evaluate')) await benchEvaluate();
if (runs('redos')) await benchRedos();

const report = [
  '# regplan benchmarks',
  '',
  `Run: \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, ${process.version}, 2 cores. Peak process RSS: ${mb(process.resourceUsage().maxRSS * 1024)}.`,
  '',
  '| case | wall time | registry requests | memory | result |',
  '|---|---:|---:|---:|---|',
  ...rows,
  '',
].join('\n');
if (only === undefined) await writeFile(path.join(import.meta.dirname, 'results.md'), report);
process.stdout.write(report);
