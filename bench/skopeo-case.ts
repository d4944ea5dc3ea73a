/**
 * The skopeo-script baseline: what a team without regplan writes, `skopeo list-tags` then `skopeo inspect` per tag
 * in a sequential shell loop (one tag after another, as such scripts usually are), against the same seeded
 * registry and proxy as regplan's cold plan, in the same run. The ratio is script time / regplan cold time.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startRegistry } from '../test/harness/registry.ts';
import { startCountingProxy } from '../test/support/counting-proxy.ts';
import { type BenchSettings, type PlanResult, benchMeasurePlans } from './plan-cases.ts';
import { seedRegistryStorage } from './registry-storage-seed.ts';

/** The script, as run (`$1` is the image reference without a tag). */
export const SKOPEO_SCRIPT = `skopeo list-tags --tls-verify=false "$1" | node -e 'for (const t of JSON.parse(require("fs").readFileSync(0, "utf8")).Tags) console.log(t)' | while read -r tag; do skopeo inspect --tls-verify=false "$1:$tag" >/dev/null; done`;

/** What the skopeo case measured. */
export interface SkopeoResult {
  tags: number;
  scriptMs: number;
  scriptRequests: number;
  regplanCold: PlanResult;
  /** Script time / regplan's cold plan time (wall, start-up included). */
  ratio: number;
}

/** Seeds `tags` tags, plans cold with regplan (`reps` times) and runs the skopeo script once. */
export async function benchSkopeoScript(fixture: { tags: number; reps: number }, settings: BenchSettings): Promise<SkopeoResult> {
  const root = await mkdtemp(path.join(tmpdir(), 'regplan-bench-skopeo-'));
  try {
    seedRegistryStorage(root, 'bench/app', fixture.tags);
    const registry = await startRegistry({ auth: 'none', storageRoot: path.join(root) });
    const proxy = await startCountingProxy(registry.host);
    try {
      const [cold] = await benchMeasurePlans(proxy, { backend: 'registry', repos: [`${proxy.host}/bench/app`], tags: fixture.tags, reps: fixture.reps }, settings);
      proxy.reset();
      const started = performance.now();
      await new Promise<void>((resolve, reject) =>
        execFile('bash', ['-o', 'pipefail', '-c', SKOPEO_SCRIPT, 'skopeo-script', `docker://${proxy.host}/bench/app`], { maxBuffer: 1 << 20 }, (error) => (error ? reject(error) : resolve())),
      );
      const scriptMs = performance.now() - started;
      const regplanCold = cold as PlanResult;
      settings.progress(`skopeo script over ${fixture.tags} tags: ${(scriptMs / 1000).toFixed(1)} s, ${proxy.requests.length} requests`);
      return { tags: fixture.tags, scriptMs, scriptRequests: proxy.requests.length, regplanCold, ratio: scriptMs / regplanCold.ms };
    } finally {
      await proxy.stop();
      await registry.stop();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
