/**
 * The standalone binary (with no `node` on PATH) and Deno 2 each plan and apply a cleanup against the real
 * distribution registry with token auth; skopeo checks the result. Same sources, same outcome, three runtimes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Plan } from '../../src/plan/types.ts';
import { startRegistry } from '../harness/registry.ts';
import { seedImage, skopeoListTags } from '../harness/seed.ts';
import { runBinary, runDeno, type RunOptions, type RunResult } from '../support/standalone.ts';

const REPO = 'team/svc';
const runners: [string, (args: readonly string[], options?: RunOptions) => Promise<RunResult>][] = [
  ['dist/regplan (no node on PATH)', runBinary],
  ['deno run src/main.ts', runDeno],
];

for (const [name, run] of runners) {
  const it = suite(`${name} against the real registry`);
  it('plans and applies a cleanup; skopeo sees exactly the kept tags', async () => {
    const registry = await startRegistry({ auth: 'token' });
    const dir = await mkdtemp(path.join(tmpdir(), 'regplan-standalone-'));
    try {
      const old = new Date('2025-03-01T00:00:00Z');
      await seedImage(registry, { repo: REPO, tag: 'v1.0.0', created: old });
      await seedImage(registry, { repo: REPO, tag: 'v1.1.0', created: old, alsoTags: ['main-shared'] });
      for (const tag of ['pr-1', 'pr-2', 'pr-3']) await seedImage(registry, { repo: REPO, tag, created: old });
      await writeFile(
        path.join(dir, 'registry.config.yaml'),
        ['version: 1', 'policies:', '  ci:', "    keep: [{ tags: '^v' }]", "    delete: { tags: '^(pr|main)-' }", 'repos:', `  - repo: ${registry.host}/${REPO}`, '    cleanup: ci', ''].join('\n'),
      );
      const options: RunOptions = { cwd: dir, env: { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache') }, timeoutMs: 120_000 };
      const common = ['--docker-config', registry.dockerConfigDir];
      const planned = await run([...common, 'plan', '--json', '--out', 'plan.json'], options);
      assert.is(planned.code, 0, planned.stderr);
      const plan = JSON.parse(planned.stdout) as Plan;
      assert.equal(plan.actions.map((a) => a.tag).sort(), ['pr-1', 'pr-2', 'pr-3']);
      assert.equal(plan.skipped.map((s) => s.tag), ['main-shared']);
      const applied = await run([...common, 'apply', 'plan.json'], options);
      assert.is(applied.code, 0, applied.stdout + applied.stderr);
      assert.match(applied.stdout, /Apply: 3 done, 0 stale, 0 failed\./);
      assert.equal(await skopeoListTags(registry, REPO), ['main-shared', 'v1.0.0', 'v1.1.0']);
    } finally {
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
  it.run();
}
