/**
 * The standalone binary (with no `node` on PATH) and Deno 2 each plan and apply a cleanup and two bundle pushes
 * (a Helm chart, a files artifact) against the real distribution registry with token auth; skopeo checks the result. Same sources, same outcome, three runtimes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Plan } from '../../src/plan/types.ts';
import { startRegistry } from '../harness/registry.ts';
import { seedImage, skopeoDigest, skopeoInspectRaw, skopeoListTags } from '../harness/seed.ts';
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
      await mkdir(path.join(dir, 'chart', 'templates'), { recursive: true });
      await writeFile(path.join(dir, 'chart', 'Chart.yaml'), 'apiVersion: v2\nname: web\nversion: 0.1.0\n');
      await writeFile(path.join(dir, 'chart', 'templates', 'cm.yaml'), 'kind: ConfigMap\n');
      await writeFile(path.join(dir, 'notes.txt'), 'release notes\n');
      await writeFile(
        path.join(dir, 'registry.config.yaml'),
        [
          'version: 1', 'policies:', '  ci:', "    keep: [{ tags: '^v' }]", "    delete: { tags: '^(pr|main)-' }", 'repos:',
          `  - repo: ${registry.host}/${REPO}`, '    cleanup: ci',
          `  - repo: ${registry.host}/team/bundles`, '    bundles:', '      - tag: 1.2.0', '        chart: ./chart', '      - tag: notes', '        files: [./notes.txt]', '',
        ].join('\n'),
      );
      const options: RunOptions = { cwd: dir, env: { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache') }, timeoutMs: 120_000 };
      const common = ['--docker-config', registry.dockerConfigDir];
      const planned = await run([...common, 'plan', '--json', '--out', 'plan.json'], options);
      assert.is(planned.code, 0, planned.stderr);
      const plan = JSON.parse(planned.stdout) as Plan;
      assert.equal(plan.actions.filter((a) => a.type === 'delete').map((a) => a.tag).sort(), ['main-shared', 'pr-1', 'pr-2', 'pr-3']);
      const pushes = plan.actions.filter((a) => a.type === 'push');
      assert.equal(pushes.map((a) => a.tag).sort(), ['1.2.0', 'notes']);
      assert.equal(plan.skipped, [], 'main-shared shares v1.1.0: untagged through a placeholder, not skipped');
      const applied = await run([...common, 'apply', 'plan.json'], options);
      assert.is(applied.code, 0, applied.stdout + applied.stderr);
      assert.match(applied.stdout, /Apply: 6 done, 0 stale, 0 failed\./);
      assert.equal(await skopeoListTags(registry, REPO), ['v1.0.0', 'v1.1.0']);
      for (const push of pushes) assert.is(await skopeoDigest(registry, 'team/bundles', push.tag), push.digest, `${push.tag} as skopeo reads it`);
      const chart = JSON.parse(new TextDecoder().decode(await skopeoInspectRaw(registry, 'team/bundles', '1.2.0'))) as { config: { mediaType: string } };
      assert.is(chart.config.mediaType, 'application/vnd.cncf.helm.config.v1+json');
      const again = await run([...common, 'plan', '--detailed-exitcode'], options);
      assert.is(again.code, 0, again.stdout);
    } finally {
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
  it.run();
}
