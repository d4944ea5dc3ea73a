/**
 * Repo patterns and sharding together: expanded repos are sharded like listed ones (select -> expand -> shard), each
 * shard plan records only its own part of every expansion, and `plan --merge` of all N shards gives the expansions
 * of the unsharded plan byte for byte. The catalog is served over real HTTP to the default driver.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { repoOpener } from '../drivers/open.ts';
import { startScriptedServer } from '../../test/support/scripted-server.ts';
import { captureIo } from '../../test/support/io.ts';
import { assemblePlan } from './assemble.ts';
import { resolvePlanRepos } from './make-plan.ts';
import { mergeShardPlans } from './merge-plans.ts';
import type { Plan } from './types.ts';

const CATALOG = [
  ...Array.from({ length: 9 }, (_, i) => `team/app-${i}`),
  'team/legacy-a', 'team/legacy-b', 'team/sub/x', 'team/sub/y/z', 'other/one', 'team/BAD',
];

test('for N = 1..5 the shards split the expanded repos, and merging them gives the unsharded expansions byte for byte', async () => {
  const server = await startScriptedServer((request) => (request.path === '/v2/_catalog' ? { status: 200, body: { repositories: CATALOG } } : { status: 404, body: {} }));
  const home = await mkdtemp(path.join(tmpdir(), 'regplan-shard-expand-'));
  try {
    const text = [
      'version: 1',
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v' }]",
      "    delete: { tags: '^pr-' }",
      'repos:',
      `  - repo: ${server.host}/team/*`,
      '    cleanup: ci',
      `    exclude: [${server.host}/team/legacy-*]`,
      `  - repo: ${server.host}/other/*`,
      '    cleanup: ci',
      `  - repo: ${server.host}/team/app-3`,
      '    cleanup: ci',
      `  - repo: ${server.host}/team/sub/**`,
      '    cleanup: ci',
    ].join('\n');
    const config = loadConfig(text, { file: '/work/app/registry.config.yaml' }).config as Config;
    const open = repoOpener({ config, io: captureIo({ HOME: home, DOCKER_CONFIG: home }) });
    const planOf = async (shard?: { index: number; total: number }): Promise<Plan> => {
      const resolved = await resolvePlanRepos({ config, open, ...(shard === undefined ? {} : { shard }) });
      return assemblePlan(
        { actions: [], kept: [], skipped: [], ...(resolved.expansions === undefined ? {} : { expansions: resolved.expansions }) },
        { createdAt: new Date('2026-01-01T00:00:00Z'), configDigest: `sha256:${'c'.repeat(64)}`, regplanVersion: '1.0.0', ...(resolved.shard === undefined ? {} : { shard: resolved.shard }) },
      );
    };
    const whole = await planOf();
    assert.equal(whole.expansions?.map((e) => [e.pattern.slice(server.host.length + 1), e.repos.length]), [['other/*', 1], ['team/*', 8], ['team/sub/**', 2]]);
    for (let total = 1; total <= 5; total++) {
      const shards: Plan[] = [];
      for (let index = 1; index <= total; index++) shards.push(await planOf({ index, total }));
      const seen = shards.flatMap((plan) => (plan.expansions ?? []).flatMap((e) => e.repos));
      assert.is(new Set(seen).size, seen.length, `N=${total}: no repo in two shards`);
      for (const plan of shards) for (const repo of seen.filter((r) => (plan.expansions ?? []).some((e) => e.repos.includes(r)))) assert.ok(plan.shard?.repos.includes(repo), `N=${total}: ${repo} is in its shard's record`);
      const merged = mergeShardPlans(shards.map((plan, i) => ({ file: `plan-${i + 1}.json`, plan }))).plan;
      assert.is(JSON.stringify(merged, null, 2), JSON.stringify(whole, null, 2), `N=${total}`);
    }
  } finally {
    await server.close();
    await rm(home, { recursive: true, force: true });
  }
});

test.run();
