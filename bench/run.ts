/**
 * Benchmarks (npm run bench): how close regplan's plans and applies come to what the registry allows, how they
 * scale from 1,000 to 100,000 tags, and what they cost in memory. Every regplan run is a child process that only
 * plans (bench/regplan-child.ts), measured side by side with the ceiling client replaying its exact requests
 * (bench/ceiling-client.ts). Writes bench/results.md (bench/report.ts) and prints progress to stderr.
 *
 * Cases (names for --only):
 *   memory    in-memory registry, 1k and 10k tags, cold and warm, against the ceiling
 *   registry  real registry (Debian's docker-registry on storage seeded on disk), 1k and 10k tags
 *   skopeo    the skopeo script (list-tags + inspect per tag, sequential) against regplan cold, 1k tags
 *   repos     10 repos × 1,000 tags on the real registry
 *   apply     apply of a 1k-tag plan against the DELETE ceiling on an identically seeded registry
 *   layout    `oci:` layout, 1k, 10k and 100k tags
 *   big       1 × 100,000 tags on the real registry
 *   evaluate  the evaluator alone on a synthetic 50,000-tag inventory
 *   redos     patterns that stalled backtracking regexes (issue 9), now on RE2
 *
 * Usage: node bench/run.ts [--only memory,registry,…] [--max-tags 10000] [--timeout 900 (s per regplan run)] [--concurrency 8]
 *        node bench/run.ts --quick [--update-baseline]      (see bench/quick.ts; exits 1 on a regression)
 *        node bench/run.ts --render      (results.md again from bench/results.json, the last full run's numbers)
 * With --only the tables are printed but bench/results.md (the record of a full run) is left as it is.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { type ApplyResult, benchApply } from './apply-case.ts';
import { benchEvaluate, benchRedos } from './evaluator-cases.ts';
import { type BenchSettings, type PlanResult, benchLayout, benchMemoryRegistry, benchRealRegistry } from './plan-cases.ts';
import { measureQuick, quickTable, readBaseline, regressions, writeBaseline } from './quick.ts';
import { type RunRecord, renderResults } from './report.ts';
import { type SkopeoResult, benchSkopeoScript } from './skopeo-case.ts';

/** The raw numbers behind results.md, so a change to the report can be rendered again without re-measuring. */
const RECORD_FILE = path.join(import.meta.dirname, 'results.json');

const CASES = ['memory', 'registry', 'skopeo', 'repos', 'apply', 'layout', 'big', 'evaluate', 'redos'] as const;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    'update-baseline': { type: 'boolean', default: false },
    'max-tags': { type: 'string', default: '100000' },
    timeout: { type: 'string', default: '900' },
    concurrency: { type: 'string', default: '8' },
    synthetic: { type: 'string', default: '50000' },
  },
});
const only = values.only === undefined ? undefined : new Set(values.only.split(','));
for (const name of only ?? []) {
  if (!(CASES as readonly string[]).includes(name)) {
    process.stderr.write(`bench: --only: unknown case "${name}" (cases: ${CASES.join(', ')})\n`);
    process.exit(2);
  }
}
const runs = (name: (typeof CASES)[number]) => only === undefined || only.has(name);
const maxTags = Number(values['max-tags']);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const benchStarted = performance.now();
const settings: BenchSettings = {
  concurrency: Number(values.concurrency),
  timeoutMs: Number(values.timeout) * 1000,
  progress: (line) => process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(5)} s] ${line}\n`),
};
/** Repetitions by size: medians where a run is short, one run where it takes minutes. */
const repsFor = (tags: number) => (tags <= 1000 ? 3 : 1);
const startedAt = new Date();
const loadBefore = loadavg();

if (values.render) {
  // Re-renders results.md from the raw numbers of the last full run (after a change to bench/report.ts).
  const record = JSON.parse(readFileSync(RECORD_FILE, 'utf8')) as RunRecord;
  const report = renderResults({ ...record, startedAt: new Date(record.startedAt), finishedAt: new Date(record.finishedAt) });
  await writeFile(path.join(import.meta.dirname, 'results.md'), report);
  process.stdout.write(report);
  process.exit(0);
}

if (values.quick) {
  const baseline = await readBaseline();
  const measured = await measureQuick(settings);
  const table = quickTable(measured, baseline);
  process.stdout.write(`Quick bench, load before ${loadBefore}, after ${loadavg()}, ${availableParallelism()} cores\n\n${table}\n\n`);
  if (values['update-baseline']) {
    await writeBaseline(measured, `${loadBefore} → ${loadavg()}`);
    process.stdout.write(`Wrote ${path.relative(process.cwd(), path.join(import.meta.dirname, 'quick-baseline.json'))}\n`);
    process.exit(0);
  }
  if (baseline === undefined) {
    process.stdout.write('No bench/quick-baseline.json: run with --update-baseline to write one.\n');
    process.exit(1);
  }
  const found = regressions(measured, baseline);
  for (const line of found) process.stdout.write(`REGRESSION: ${line}\n`);
  process.stdout.write(found.length ? `${found.length} regression(s) against the baseline\n` : 'No regression against the baseline\n');
  process.exit(found.length ? 1 : 0);
}

const plans: PlanResult[] = [];
let apply: ApplyResult | undefined;
let skopeo: SkopeoResult | undefined;
const evaluatorRows: string[] = [];
const notes: string[] = [];
const sizes = (list: number[]) => list.filter((n) => n <= maxTags);
const argv = process.argv.slice(2).join(' ');

/** Renders what has been measured so far; results.md is rewritten after every case, so a run cut short keeps its numbers. */
async function saveReport(finished: boolean): Promise<string> {
  const record: RunRecord = {
    startedAt,
    finishedAt: new Date(),
    finished,
    loadBefore,
    loadAfter: loadavg(),
    cores: availableParallelism(),
    concurrency: settings.concurrency,
    command: `npm run bench${argv ? ` -- ${argv}` : ''}`,
    plans,
    notes,
    ...(apply ? { apply } : {}),
    ...(skopeo ? { skopeo } : {}),
    evaluatorRows,
  };
  const report = renderResults(record);
  if (only === undefined) {
    await writeFile(path.join(import.meta.dirname, 'results.md'), report);
    await writeFile(RECORD_FILE, `${JSON.stringify(record, null, 1)}\n`);
  }
  return report;
}

/**
 * Whether the next size is worth running: skipped (with a note) when the previous two sizes' time per tag,
 * extrapolated with the same growth, says it would run past the time limit.
 */
function worthRunning(backend: PlanResult['backend'], tags: number): boolean {
  const previous = plans.filter((p) => p.backend === backend && p.repos === 1 && p.tags < tags && p.variant === 'cold').sort((a, b) => a.tags - b.tags);
  const [before, last] = previous.slice(-2);
  if (last === undefined) return true;
  if (last.timedOut) {
    notes.push(`${backend} ${tags} tags not run: the ${last.tags}-tag plan was already killed at the time limit.`);
    return false;
  }
  const perTag = last.ms / last.tags;
  const growth = before === undefined || before.timedOut ? 1 : Math.max(1, perTag / (before.ms / before.tags));
  const projectedMs = perTag * tags * growth;
  if (projectedMs <= settings.timeoutMs) return true;
  notes.push(`${backend} ${tags} tags not run: from ${last.tags} tags (${(last.ms / 1000).toFixed(0)} s, time per tag growing ${growth.toFixed(1)}× per size step) it projects to ~${(projectedMs / 1000).toFixed(0)} s, past the --timeout of ${(settings.timeoutMs / 1000).toFixed(0)} s.`);
  return false;
}

if (runs('memory')) for (const tags of sizes([1000, 10_000])) plans.push(...(await benchMemoryRegistry({ tags, reps: repsFor(tags) }, settings)));
await saveReport(false);
if (runs('registry')) for (const tags of sizes([1000, 10_000])) plans.push(...(await benchRealRegistry({ repos: 1, tags, reps: repsFor(tags) }, settings)));
await saveReport(false);
if (runs('skopeo')) skopeo = await benchSkopeoScript({ tags: 1000, reps: 3 }, settings);
await saveReport(false);
if (runs('apply')) apply = await benchApply({ tags: 1000 }, settings);
await saveReport(false);
if (runs('layout')) {
  for (const tags of sizes([1000, 10_000, 100_000])) {
    if (worthRunning('layout', tags)) plans.push(...(await benchLayout({ tags, reps: repsFor(tags) }, settings)));
    await saveReport(false);
  }
}
if (runs('repos') && maxTags >= 10_000) plans.push(...(await benchRealRegistry({ repos: 10, tags: 1000, reps: 1 }, settings)));
await saveReport(false);
if (runs('evaluate')) evaluatorRows.push(benchEvaluate(Number(values.synthetic)));
if (runs('redos')) evaluatorRows.push(...benchRedos());
if (runs('big') && maxTags >= 100_000 && worthRunning('registry', 100_000)) plans.push(...(await benchRealRegistry({ repos: 1, tags: 100_000, reps: 1 }, settings)));
process.stdout.write(await saveReport(true));
