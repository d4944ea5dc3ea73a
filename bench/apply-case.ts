/**
 * The apply benchmark: two registries seeded identically on disk, each behind a counting proxy. regplan plans the
 * first (saved with --out) and applies that plan in a child process; then the ceiling client replays exactly the
 * requests the apply made (its HEADs and DELETEs) against the second, untouched registry. Same deletions, same
 * concurrency: the ratio is what regplan's apply adds over the DELETE ceiling.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startRegistry } from '../test/harness/registry.ts';
import { startCountingProxy } from '../test/support/counting-proxy.ts';
import { replayInChild } from './ceiling-client.ts';
import { type BenchSettings, benchConfig } from './plan-cases.ts';
import { planSummary, runRegplanChild } from './regplan-child.ts';
import { seedRegistryStorage } from './registry-storage-seed.ts';

/** What the apply case measured. */
export interface ApplyResult {
  tags: number;
  deletes: number;
  ms: number;
  ceilingMs: number;
  ratio: number;
  requests: number;
  /** Requests by method, e.g. { HEAD: 1860, DELETE: 930 }. */
  byMethod: Record<string, number>;
  /** The ceiling's answers to the DELETEs it replayed (all 202 when the second registry matched the first). */
  ceilingDeletesAccepted: number;
  rssBytes: number;
}

/** Plans and applies the cleanup of a `tags`-tag repo, then replays the apply's requests on its twin. */
export async function benchApply(fixture: { tags: number }, settings: BenchSettings): Promise<ApplyResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-bench-apply-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const hosts: string[] = [];
    const proxies = [];
    for (const side of ['applied', 'replayed']) {
      const root = path.join(dir, side);
      seedRegistryStorage(root, 'bench/app', fixture.tags);
      const registry = await startRegistry({ auth: 'none', storageRoot: root });
      stops.push(() => registry.stop());
      const proxy = await startCountingProxy(registry.host);
      stops.push(() => proxy.stop());
      hosts.push(proxy.host);
      proxies.push(proxy);
    }
    const [applied, replayed] = proxies as [(typeof proxies)[0], (typeof proxies)[0]];
    await writeFile(path.join(dir, 'registry.config.yaml'), benchConfig([`${applied.host}/bench/app`], settings.concurrency));
    const cacheDir = path.join(dir, 'cache');
    const plan = await runRegplanChild(['plan', '--json', '--out', 'plan.json'], { dir, cacheDir, timeoutMs: settings.timeoutMs, label: 'apply-plan' });
    if (plan.exitCode !== 0) throw new Error(`apply case: regplan plan exited ${plan.exitCode}: ${plan.stderr}`);
    const deletes = planSummary(plan).delete;
    applied.reset();
    const run = await runRegplanChild(['apply', 'plan.json', '--json'], { dir, cacheDir, timeoutMs: settings.timeoutMs, label: 'apply' });
    if (run.exitCode !== 0) throw new Error(`apply case: regplan apply exited ${run.exitCode}: ${run.stderr}`);
    const recorded = [...applied.requests];
    const ceiling = await replayInChild(replayed.host, recorded, { concurrency: settings.concurrency, workDir: dir });
    const byMethod: Record<string, number> = {};
    for (const r of recorded) byMethod[r.method] = (byMethod[r.method] ?? 0) + 1;
    const result: ApplyResult = {
      tags: fixture.tags,
      deletes,
      ms: run.ms,
      ceilingMs: ceiling.ms,
      ratio: run.ms / ceiling.ms,
      requests: recorded.length,
      byMethod,
      ceilingDeletesAccepted: ceiling.statuses[202] ?? 0,
      rssBytes: run.rssBytes,
    };
    settings.progress(`apply ${deletes} deletes of ${fixture.tags} tags: ${(run.ms / 1000).toFixed(2)} s, DELETE ceiling ${(ceiling.ms / 1000).toFixed(2)} s, ${recorded.length} requests ${JSON.stringify(byMethod)}`);
    return result;
  } finally {
    for (const stop of stops.reverse()) await stop();
    await rm(dir, { recursive: true, force: true });
  }
}
