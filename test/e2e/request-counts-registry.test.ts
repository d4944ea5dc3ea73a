/**
 * Requests regplan sends to the real distribution registry, counted by a proxy (issue 11, fast plans): a cold
 * plan reads each tag with one GET by tag and each other digest (an index's children, image configs) once; a
 * warm plan HEADs each tag once; apply looks each tag up once — the guard's verified read is the compare of
 * compare-and-delete — and sends one DELETE per deleted tag at most. The world: 50 tags — 47 single images, two tags
 * on one image, an index with two platform children — with 2 kept, 48 deleted.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import { MediaType } from '../../src/registry/oci.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { seedImage, skopeoListTags } from '../harness/seed.ts';
import { startCountingProxy, type CountingProxy, type ProxiedRequest } from '../support/counting-proxy.ts';
import { captureIo } from '../support/io.ts';

const REPO = 'acme/app';
const counts = suite('request counts against the real registry');

interface World {
  registry: TestRegistry;
  proxy: CountingProxy;
  tags: string[];
  /** Digests a cold plan must read besides one GET per tag: the index's children and every image config. */
  otherDigests: number;
  run: (...argv: string[]) => Promise<{ code: number; out: string; err: string }>;
  stop: () => Promise<void>;
}

async function makeWorld(): Promise<World> {
  const registry = await startRegistry({ auth: 'none' });
  const proxy = await startCountingProxy(registry.host);
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-counts-'));
  const client = new RegistryClient({ host: registry.host });
  const layer = await client.uploadBlob(REPO, { bytes: new TextEncoder().encode('layer') });
  const push = async (tag: string, created: string): Promise<string> => {
    const config = await client.uploadBlob(REPO, { bytes: new TextEncoder().encode(JSON.stringify({ architecture: 'amd64', os: 'linux', created, rootfs: { type: 'layers', diff_ids: [layer.digest] } })) });
    const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, ...config }, layers: [{ mediaType: MediaType.ociLayerGzip, ...layer }] };
    return client.putManifest(REPO, tag, new TextEncoder().encode(JSON.stringify(manifest)), MediaType.ociManifest);
  };
  const singles = ['v1.0.0', ...Array.from({ length: 46 }, (_, i) => `pr-${i + 1}`)];
  for (const [i, tag] of singles.entries()) await push(tag, new Date(Date.UTC(2025, 0, 1 + i)).toISOString());
  const shared = await push('pr-dup-a', '2025-03-01T00:00:00Z');
  const bytes = await client.getManifest(REPO, shared);
  await client.putManifest(REPO, 'pr-dup-b', bytes.bytes, MediaType.ociManifest);
  await seedImage(registry, { repo: REPO, tag: 'v2.0.0', platforms: ['linux/amd64', 'linux/arm64'], created: new Date('2025-04-01T00:00:00Z') });
  const tags = await skopeoListTags(registry, REPO);
  const config = path.join(dir, 'registry.config.yaml');
  await writeFile(config, ['version: 1', 'settings: { concurrency: 4, grace: 0s }', 'repos:', `  - repo: ${proxy.host}/${REPO}`, '    cleanup:', "      keep: [{ tags: '^v' }]", "      delete: { tags: '^pr-' }", ''].join('\n'));
  const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache') };
  return {
    registry,
    proxy,
    tags,
    otherDigests: 2 + (singles.length + 1 + 2), // the index's children; a config per single image, the shared one, each child
    run: async (...argv) => {
      const io = captureIo(env, dir);
      const code = await runCli(['-c', config, ...argv], io);
      return { code, out: io.out(), err: io.err() };
    },
    stop: async () => {
      await proxy.stop();
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const tagListPages = (requests: readonly ProxiedRequest[]) => requests.filter((r) => r.path.includes('/tags/list')).length;
const byTag = (requests: readonly ProxiedRequest[]) => requests.filter((r) => /\/manifests\/(?!sha256:)/.test(r.path));
const summary = (requests: readonly ProxiedRequest[]) => requests.map((r) => `${r.method} ${r.path}`).join('\n');

counts('a cold plan: one request per tag, one per other digest, plus the tag list', async () => {
  const world = await makeWorld();
  try {
    assert.is(world.tags.length, 50);
    world.proxy.reset();
    const planned = await world.run('plan', '--json');
    assert.is(planned.code, 0, planned.err);
    const requests = [...world.proxy.requests];
    const limit = world.tags.length + world.otherDigests + tagListPages(requests);
    assert.ok(requests.length <= limit, `${requests.length} requests, more than ${limit}:\n${summary(requests)}`);
    const reads = new Map<string, number>();
    for (const r of requests) reads.set(r.path, (reads.get(r.path) ?? 0) + 1);
    assert.equal([...reads].filter(([, n]) => n > 1).map(([p]) => p), [], 'no manifest or config is read twice');
    const plan = JSON.parse(planned.out) as Plan;
    assert.is(plan.actions.filter((a) => a.type === 'delete').length, 48);
  } finally {
    await world.stop();
  }
});

counts('a warm plan: at most 1.1 requests per tag; apply looks each tag up once and deletes each digest once', async () => {
  const world = await makeWorld();
  try {
    assert.is((await world.run('plan', '--out', 'plan.json')).code, 0);
    world.proxy.reset();
    const warm = await world.run('plan', '--out', 'plan.json');
    assert.is(warm.code, 0, warm.err);
    const perTag = world.proxy.requests.length / world.tags.length;
    assert.ok(perTag <= 1.1, `warm: ${world.proxy.requests.length} requests for ${world.tags.length} tags = ${perTag.toFixed(3)} per tag:\n${summary(world.proxy.requests)}`);

    world.proxy.reset();
    const applied = await world.run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.out + applied.err);
    const requests = [...world.proxy.requests];
    const deletes = requests.filter((r) => r.method === 'DELETE');
    assert.ok(deletes.length <= 48, summary(deletes)); // one per deleted tag (pr-dup-a and pr-dup-b share a digest)
    // Each of the 50 tags is read once by the guard; the second DELETE of the shared digest may be a 404, which
    // one fresh lookup confirms. Nothing else is looked up: no second HEAD per deleted tag.
    const lookups = byTag(requests).filter((r) => r.method !== 'DELETE');
    assert.ok(lookups.length <= world.tags.length + 1, `${lookups.length} tag lookups for ${world.tags.length} tags:\n${summary(lookups)}`);
    const perDeleted = (requests.length - deletes.length - tagListPages(requests)) / 48;
    assert.ok(perDeleted <= 1.1, `apply: ${perDeleted.toFixed(3)} lookups per deleted tag besides the DELETEs and pages`);
    assert.equal(await skopeoListTags(world.registry, REPO), ['v1.0.0', 'v2.0.0']);
  } finally {
    await world.stop();
  }
});

counts.run();
