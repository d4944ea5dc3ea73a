/**
 * Apply's safety paths on a registry whose only delete is by digest (the real distribution registry, as
 * GCR, Artifactory, Nexus and Yandex behave through the Registry API), checked with skopeo: a rollback re-tag onto
 * a doomed manifest since the plan protects it; a failed action is retried by the next run, never counted done.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { seedImage, skopeoDigest, skopeoListTags } from '../harness/seed.ts';
import { startCountingProxy, type CountingProxy, type CountingProxyOptions } from '../support/counting-proxy.ts';
import { captureIo } from '../support/io.ts';

const REPO = 'acme/guarded';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

interface World {
  registry: TestRegistry;
  proxy: CountingProxy;
  dir: string;
  digests: Map<string, string>;
  run: (...argv: string[]) => Promise<{ code: number; out: string; err: string }>;
  stop: () => Promise<void>;
}

async function makeWorld(intercept?: CountingProxyOptions['intercept']): Promise<World> {
  const registry = await startRegistry({ auth: 'none' });
  const proxy = await startCountingProxy(registry.host, intercept ? { intercept } : {});
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-guards-'));
  const digests = new Map<string, string>();
  for (const [i, tag] of ['v1.0.0', 'pr-1', 'pr-2', 'pr-3'].entries()) digests.set(tag, (await seedImage(registry, { repo: REPO, tag, created: day(i) })).digest);
  const config = path.join(dir, 'registry.config.yaml');
  await writeFile(config, ['version: 1', 'settings: { grace: 0s }', 'repos:', `  - repo: ${proxy.host}/${REPO}`, '    cleanup:', "      keep: [{ tags: '^v' }]", "      delete: { tags: '^pr-' }", ''].join('\n'));
  const run = async (...argv: string[]) => {
    const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache') }, dir);
    const code = await runCli(['-c', config, ...argv], io);
    return { code, out: io.out(), err: io.err() };
  };
  return {
    registry, proxy, dir, digests, run,
    stop: async () => {
      await proxy.stop();
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const guards = suite('apply guards on a digest-delete registry');

guards('a rollback re-tag onto a planned manifest since the plan protects it: stale, exit 0, both tags survive', async () => {
  const world = await makeWorld();
  try {
    assert.is((await world.run('plan', '--out', 'plan.json')).code, 0);
    const rollback = await seedImage(world.registry, { repo: REPO, tag: 'stable', content: `${REPO}:pr-1`, created: day(1) }); // re-tag: same bytes, same digest
    assert.is(rollback.digest, world.digests.get('pr-1'));
    const applied = await world.run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, /stale\s+\S+:pr-1: manifest sha256:\w+ is now also tagged "stable"/);
    assert.is(await skopeoDigest(world.registry, REPO, 'stable'), world.digests.get('pr-1'));
    assert.equal(await skopeoListTags(world.registry, REPO), ['pr-1', 'stable', 'v1.0.0']);
  } finally {
    await world.stop();
  }
});

guards('a failed delete is not finished: the next apply of the same plan retries it and completes', async () => {
  let refused = 0;
  const world = await makeWorld((r) => (r.method === 'DELETE' && refused++ === 0 ? { status: 403, body: '{"errors":[{"code":"DENIED","message":"not now"}]}' } : undefined));
  try {
    assert.is((await world.run('plan', '--out', 'plan.json')).code, 0);
    const first = await world.run('apply', 'plan.json');
    assert.is(first.code, 1, first.out + first.err);
    assert.match(first.out, /2 done, 0 stale, 1 failed/);
    assert.equal((await skopeoListTags(world.registry, REPO)).length, 2);
    const journal = await readFile(path.join(world.dir, 'plan.json.journal.jsonl'), 'utf8');
    assert.is(journal.split('\n').filter((l) => l.includes('"failed"')).length, 1);
    const second = await world.run('apply', 'plan.json');
    assert.is(second.code, 0, second.out + second.err);
    assert.match(second.out, /1 done, 0 stale, 0 failed/);
    assert.equal(await skopeoListTags(world.registry, REPO), ['v1.0.0']);
  } finally {
    await world.stop();
  }
});

guards('a kept tag that cannot be re-checked blocks digest deletes (they fail, nothing is deleted) instead of being ignored', async () => {
  let blocking = false;
  const world = await makeWorld((r) => (blocking && r.path.endsWith('/manifests/v1.0.0') ? { status: 403, body: '{"errors":[{"code":"DENIED","message":"no"}]}' } : undefined));
  try {
    assert.is((await world.run('plan', '--out', 'plan.json')).code, 0);
    blocking = true; // 403 is never retried: v1.0.0 cannot be read during apply
    const blocked = await world.run('apply', 'plan.json');
    assert.is(blocked.code, 1, blocked.out + blocked.err);
    assert.match(blocked.out, /could not re-check tag "v1\.0\.0" before deleting manifest/);
    assert.equal(await skopeoListTags(world.registry, REPO), ['pr-1', 'pr-2', 'pr-3', 'v1.0.0']);
    assert.is(world.proxy.requests.filter((r) => r.method === 'DELETE').length, 0);
  } finally {
    await world.stop();
  }
});

guards.run();
