/**
 * Placeholder untag on the real distribution registry (issue 12 item 6), checked with skopeo: a deletion candidate
 * sharing a kept tag's manifest is untagged by pushing a unique placeholder manifest to its tag and deleting the
 * placeholder by digest; the kept tag's manifest is untouched and no placeholder is left behind. A tag moved
 * between plan and apply is reported stale and left as it is; a placeholder whose delete failed is removed by the
 * next run (it carries the replaced tag's push time, so grace does not keep it).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { seedImage, skopeoDigest, skopeoInspectRaw, skopeoListTags } from '../harness/seed.ts';
import { startCountingProxy, type CountingProxy, type CountingProxyOptions } from '../support/counting-proxy.ts';
import { captureIo } from '../support/io.ts';

const REPO = 'acme/shared';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

interface World {
  registry: TestRegistry;
  proxy: CountingProxy;
  shared: string;
  run: (...argv: string[]) => Promise<{ code: number; out: string; err: string }>;
  stop: () => Promise<void>;
}

async function makeWorld(intercept?: CountingProxyOptions['intercept']): Promise<World> {
  const registry = await startRegistry({ auth: 'none' });
  const proxy = await startCountingProxy(registry.host, intercept ? { intercept } : {});
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-placeholder-'));
  // pr-1 is the same image as the kept v1.0.0 (a release promoted from its PR build): one manifest, two tags.
  const shared = (await seedImage(registry, { repo: REPO, tag: 'v1.0.0', alsoTags: ['pr-1'], content: 'release', created: day(1) })).digest;
  await seedImage(registry, { repo: REPO, tag: 'pr-2', created: day(2) });
  const config = path.join(dir, 'registry.config.yaml');
  await writeFile(config, ['version: 1', 'settings: { grace: 2h }', 'repos:', `  - repo: ${proxy.host}/${REPO}`, '    cleanup:', "      keep: [{ tags: '^v' }]", "      delete: { tags: '^pr-' }", ''].join('\n'));
  const run = async (...argv: string[]) => {
    const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache') }, dir);
    const code = await runCli(['-c', config, ...argv], io);
    return { code, out: io.out(), err: io.err() };
  };
  return {
    registry, proxy, shared, run,
    stop: async () => {
      await proxy.stop();
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const placeholder = suite('placeholder untag on distribution');

placeholder('a tag sharing a kept manifest is untagged through a placeholder: the kept tag is unchanged, no placeholder is left', async () => {
  const world = await makeWorld();
  try {
    const keptBytes = await skopeoInspectRaw(world.registry, REPO, 'v1.0.0');
    const planned = await world.run('plan', '--out', 'plan.json');
    assert.is(planned.code, 0, planned.out + planned.err);
    assert.match(planned.out, /- pr-1 .*\[untag \(placeholder\)\]/);
    world.proxy.reset();
    const applied = await world.run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, /2 done, 0 stale, 0 failed/);
    assert.equal(await skopeoListTags(world.registry, REPO), ['v1.0.0']);
    assert.is(await skopeoDigest(world.registry, REPO, 'v1.0.0'), world.shared);
    assert.equal(await skopeoInspectRaw(world.registry, REPO, 'v1.0.0'), keptBytes);
    const deleted = world.proxy.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.replace(/^.*\/manifests\//, ''));
    assert.is(deleted.length, 2, 'pr-2 by digest, and the placeholder');
    assert.not.ok(deleted.includes(world.shared), 'the shared manifest is never deleted');
    for (const digest of deleted) assert.is(await skopeoDigest(world.registry, REPO, digest), undefined, `${digest} is gone`);
  } finally {
    await world.stop();
  }
});

placeholder('a tag moved between plan and apply is stale and left as it is: nothing is pushed to it', async () => {
  const world = await makeWorld();
  try {
    assert.is((await world.run('plan', '--out', 'plan.json')).code, 0);
    const moved = (await seedImage(world.registry, { repo: REPO, tag: 'pr-1', content: 'rebuilt', created: day(3) })).digest;
    world.proxy.reset();
    const applied = await world.run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, /stale\s+\S+:pr-1: tag now points at sha256:\w+, not sha256:\w+ as planned/);
    assert.is(await skopeoDigest(world.registry, REPO, 'pr-1'), moved);
    assert.is(await skopeoDigest(world.registry, REPO, 'v1.0.0'), world.shared);
    assert.is(world.proxy.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/manifests/pr-1')).length, 0);
  } finally {
    await world.stop();
  }
});

placeholder('a placeholder whose delete failed stays on its tag and the next plan + apply removes it', async () => {
  let refused = false;
  const world = await makeWorld((r) => {
    if (r.method !== 'DELETE' || refused || !r.path.includes('/manifests/sha256:') || deletesPr2(r.path)) return undefined;
    refused = true;
    return { status: 403, body: '{"errors":[{"code":"DENIED","message":"not now"}]}' };
  });
  let pr2 = '';
  const deletesPr2 = (p: string) => pr2 !== '' && p.endsWith(pr2);
  try {
    pr2 = (await skopeoDigest(world.registry, REPO, 'pr-2')) ?? '';
    assert.is((await world.run('plan', '--out', 'plan.json')).code, 0);
    const first = await world.run('apply', 'plan.json');
    assert.is(first.code, 1, first.out + first.err);
    assert.ok(refused, 'the placeholder delete was refused');
    const left = await skopeoDigest(world.registry, REPO, 'pr-1');
    assert.ok(left !== undefined && left !== world.shared, 'pr-1 now points at the placeholder');
    const again = await world.run('plan', '--out', 'again.json');
    assert.is(again.code, 0, again.out + again.err);
    assert.match(again.out, /- pr-1 /, 'the placeholder is judged by the replaced tag\'s push time, not kept by grace');
    const second = await world.run('apply', 'again.json');
    assert.is(second.code, 0, second.out + second.err);
    assert.equal(await skopeoListTags(world.registry, REPO), ['v1.0.0']);
    assert.is(await skopeoDigest(world.registry, REPO, 'v1.0.0'), world.shared);
    assert.is(await skopeoDigest(world.registry, REPO, left), undefined, 'the placeholder is gone');
  } finally {
    await world.stop();
  }
});

placeholder.run();
