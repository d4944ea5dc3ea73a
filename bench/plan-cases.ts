/**
 * The plan benchmarks: regplan plans a fixture (the real registry on seeded storage, the in-memory registry, an
 * OCI layout) cold (empty cache) then warm, each in a child process that only plans, and right after each run the
 * ceiling client replays exactly the requests that run made. Repetitions alternate regplan and ceiling, and the
 * ratio reported is the median of the per-repetition ratios, so a loaded machine slows both sides alike.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startRegistry } from '../test/harness/registry.ts';
import { startCountingProxy } from '../test/support/counting-proxy.ts';
import type { ProxiedRequest } from '../test/support/counting-proxy.ts';
import { replayInChild } from './ceiling-client.ts';
import { startMemoryRegistry } from './memory-registry.ts';
import { seedOciLayout } from './oci-layout-seed.ts';
import { planSummary, runRegplanChild } from './regplan-child.ts';
import { seedRegistryStorage } from './registry-storage-seed.ts';
import { distinctManifests } from './synthetic-repo.ts';

/** How every case runs. */
export interface BenchSettings {
  concurrency: number;
  /** A regplan child running longer is killed and its case reported as timed out. */
  timeoutMs: number;
  progress(line: string): void;
}

/** Which fixture a case plans. */
export type Backend = 'registry' | 'memory' | 'layout';

/** One measured plan variant (median over its repetitions). */
export interface PlanResult {
  backend: Backend;
  repos: number;
  tags: number;
  variant: 'cold' | 'warm';
  reps: number;
  ms: number;
  ceilingMs?: number;
  /** Median of per-repetition regplan / ceiling. */
  ratio?: number;
  /** Median wall time of `regplan plan --help` in the same repetitions: node start-up and loading the plan command. */
  startupMs: number;
  /** Median of per-repetition (regplan − start-up) / ceiling: the cost of the planning itself. */
  netRatio?: number;
  /** Median CPU time of regplan (start-up included) and of start-up alone (`plan --help`); absent in older records. */
  cpuMs?: number;
  startupCpuMs: number;
  /** Median CPU time of the ceiling client's replay. */
  ceilingCpuMs?: number;
  /** Median of per-repetition (regplan CPU − start-up CPU) / ceiling CPU: hardly moved by a loaded machine. */
  cpuRatio?: number;
  requests?: number;
  /** Listing requests (tags/list and catalog pages) among them. */
  pages?: number;
  distinctDigests: number;
  rssBytes: number;
  deletes: number;
  kept: number;
  timedOut: boolean;
}

/** The config every plan case uses: releases kept, the 20 newest main builds kept, other CI tags deleted. */
export function benchConfig(repos: string[], concurrency: number): string {
  return [
    'version: 1',
    `settings: { concurrency: ${concurrency} }`,
    'policies:',
    '  ci:',
    "    keep: [{ tags: '^v' }, { newest: 20, tags: '^main-' }]",
    "    delete: { tags: '^(pr|main)-' }",
    'repos:',
    ...repos.flatMap((repo) => [`  - repo: ${repo}`, '    cleanup: ci']),
    '',
  ].join('\n');
}

/** The median of some numbers. */
export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const isPage = (r: ProxiedRequest): boolean => /\/(tags\/list|_catalog)(\?|$)/.test(r.path);

/** Where regplan's requests of one case are seen and replayed: a host and its request log (none for a layout). */
interface Target {
  host?: string;
  requests?: ProxiedRequest[];
  reset?(): void;
}

/** Plans `repos` (config addresses) cold then warm `reps` times against `target`, with the ceiling after each run. */
export async function benchMeasurePlans(
  target: Target,
  fixture: { backend: Backend; repos: string[]; tags: number; reps: number },
  settings: BenchSettings,
): Promise<PlanResult[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-bench-plan-'));
  try {
    await writeFile(path.join(dir, 'registry.config.yaml'), benchConfig(fixture.repos, settings.concurrency));
    const samples = { cold: [] as Sample[], warm: [] as Sample[] };
    for (let rep = 0; rep < fixture.reps; rep++) {
      const cacheDir = path.join(dir, `cache-${rep}`);
      const startup = await runRegplanChild(['plan', '--help'], { dir, cacheDir, timeoutMs: settings.timeoutMs, label: `startup-${rep}` });
      for (const variant of ['cold', 'warm'] as const) {
        target.reset?.();
        const label = `${fixture.backend} ${fixture.repos.length}×${fixture.tags} ${variant} #${rep + 1}`;
        const run = await runRegplanChild(['plan', '--json'], { dir, cacheDir, timeoutMs: settings.timeoutMs, label: `plan-${variant}-${rep}` });
        if (run.timedOut) {
          settings.progress(`${label}: regplan killed after ${(settings.timeoutMs / 1000).toFixed(0)} s`);
          samples[variant].push({ ms: run.ms, startupMs: startup.ms, cpuMs: run.cpuMs, startupCpuMs: startup.cpuMs, rssBytes: run.rssBytes, deletes: 0, kept: 0, timedOut: true });
          continue;
        }
        if (run.exitCode !== 0) throw new Error(`${label}: regplan plan exited ${run.exitCode}: ${run.stderr}`);
        const summary = planSummary(run);
        const sample: Sample = { ms: run.ms, startupMs: startup.ms, cpuMs: run.cpuMs, startupCpuMs: startup.cpuMs, rssBytes: run.rssBytes, deletes: summary.delete, kept: summary.kept, timedOut: false };
        if (target.host !== undefined && target.requests !== undefined) {
          const recorded = [...target.requests];
          const ceiling = await replayInChild(target.host, recorded, { concurrency: settings.concurrency, workDir: dir });
          Object.assign(sample, { ceilingMs: ceiling.ms, ceilingCpuMs: ceiling.cpuMs, requests: recorded.length, pages: recorded.filter(isPage).length });
        }
        samples[variant].push(sample);
        settings.progress(`${label}: ${(run.ms / 1000).toFixed(2)} s${sample.ceilingMs === undefined ? '' : `, ceiling ${(sample.ceilingMs / 1000).toFixed(2)} s`}, CPU ${(run.cpuMs / 1000).toFixed(2)} s (start-up ${(startup.cpuMs / 1000).toFixed(2)} s${sample.ceilingCpuMs === undefined ? '' : `, ceiling ${(sample.ceilingCpuMs / 1000).toFixed(2)} s`}), ${sample.requests ?? '—'} requests, RSS ${(run.rssBytes / 2 ** 20).toFixed(0)} MB`);
      }
    }
    return (['cold', 'warm'] as const).map((variant) => summarise(samples[variant], { ...fixture, variant }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Sample {
  ms: number;
  startupMs: number;
  cpuMs: number;
  startupCpuMs: number;
  ceilingCpuMs?: number;
  rssBytes: number;
  deletes: number;
  kept: number;
  timedOut: boolean;
  ceilingMs?: number;
  requests?: number;
  pages?: number;
}

function summarise(samples: Sample[], fixture: { backend: Backend; repos: string[]; tags: number; variant: 'cold' | 'warm' }): PlanResult {
  const done = samples.filter((s) => !s.timedOut);
  const used = done.length > 0 ? done : samples;
  const withCeiling = done.filter((s) => s.ceilingMs !== undefined);
  const last = used.at(-1) as Sample;
  return {
    backend: fixture.backend,
    repos: fixture.repos.length,
    tags: fixture.tags,
    variant: fixture.variant,
    reps: samples.length,
    ms: median(used.map((s) => s.ms)),
    startupMs: median(used.map((s) => s.startupMs)),
    cpuMs: median(used.map((s) => s.cpuMs)),
    startupCpuMs: median(used.map((s) => s.startupCpuMs)),
    rssBytes: Math.max(...used.map((s) => s.rssBytes)),
    deletes: last.deletes,
    kept: last.kept,
    timedOut: done.length === 0,
    distinctDigests: distinctManifests(fixture.tags) * fixture.repos.length,
    ...(withCeiling.length
      ? {
          ceilingMs: median(withCeiling.map((s) => s.ceilingMs as number)),
          ratio: median(withCeiling.map((s) => s.ms / (s.ceilingMs as number))),
          netRatio: median(withCeiling.map((s) => (s.ms - s.startupMs) / (s.ceilingMs as number))),
          ceilingCpuMs: median(withCeiling.map((s) => s.ceilingCpuMs as number)),
          cpuRatio: median(withCeiling.map((s) => (s.cpuMs - s.startupCpuMs) / (s.ceilingCpuMs as number))),
          requests: median(withCeiling.map((s) => s.requests as number)),
          pages: median(withCeiling.map((s) => s.pages as number)),
        }
      : {}),
  };
}

/** `repos` repos of `tags` tags each on the real registry, seeded on disk, behind the counting proxy. */
export async function benchRealRegistry(fixture: { repos: number; tags: number; reps: number }, settings: BenchSettings): Promise<PlanResult[]> {
  const root = await mkdtemp(path.join(tmpdir(), 'regplan-bench-storage-'));
  try {
    const names = Array.from({ length: fixture.repos }, (_, i) => (fixture.repos === 1 ? 'bench/app' : `bench/app-${i}`));
    const seedStarted = performance.now();
    for (const name of names) seedRegistryStorage(root, name, fixture.tags);
    settings.progress(`seeded ${fixture.repos}×${fixture.tags} tags on disk in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
    const registry = await startRegistry({ auth: 'none', storageRoot: root });
    const proxy = await startCountingProxy(registry.host);
    try {
      return await benchMeasurePlans(proxy, { backend: 'registry', repos: names.map((n) => `${proxy.host}/${n}`), tags: fixture.tags, reps: fixture.reps }, settings);
    } finally {
      await proxy.stop();
      await registry.stop();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** One repo of `tags` tags on the in-memory registry (no proxy: it records its own requests). */
export async function benchMemoryRegistry(fixture: { tags: number; reps: number }, settings: BenchSettings): Promise<PlanResult[]> {
  const registry = await startMemoryRegistry({ 'bench/app': fixture.tags });
  try {
    return await benchMeasurePlans(registry, { backend: 'memory', repos: [`${registry.host}/bench/app`], tags: fixture.tags, reps: fixture.reps }, settings);
  } finally {
    await registry.stop();
  }
}

/** An `oci:` layout of `tags` tags written on disk (no requests, so no ceiling: time per tag and RSS). */
export async function benchLayout(fixture: { tags: number; reps: number }, settings: BenchSettings): Promise<PlanResult[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-bench-layout-'));
  try {
    const started = performance.now();
    await seedOciLayout(path.join(dir, 'layout'), fixture.tags);
    settings.progress(`wrote a ${fixture.tags}-tag OCI layout in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return await benchMeasurePlans({}, { backend: 'layout', repos: [`oci:${path.join(dir, 'layout')}`], tags: fixture.tags, reps: fixture.reps }, settings);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
