/**
 * The reported case: editing one manifest-cache entry's `created` turned a kept tag into a planned deletion. The
 * cache now holds content by digest (manifests and image configs), checked against the digest on every read. Plan
 * against a registry whose push times come from the image config (the cached path), tamper with the cache the
 * ways someone who can write it could (edit a config's `created`, forge a well-formed manifest or config under a
 * kept digest), plan again: the same plan, --debug says the entry was ignored, and the next plan is served from
 * the repaired cache again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startMemoryRegistry, type MemoryRegistry } from '../emulators/memory-registry.ts';
import { captureIo } from '../support/io.ts';

const DAY = 86_400_000;
const OLD_DAY = '2020-01-01';

interface World {
  registry: MemoryRegistry;
  cache: string;
  /** The kept tag's manifest digest (an index when `platforms` were given) and the day its image was created. */
  kept: { digest: string; platformDigests: Record<string, string>; day: string };
  run(...argv: string[]): Promise<{ code: number; out: string; err: string }>;
  stop(): Promise<void>;
}

async function makeWorld(options: { platforms?: readonly string[] } = {}): Promise<World> {
  const registry = await startMemoryRegistry();
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-cache-e2e-'));
  const created = new Date(Math.floor((Date.now() - DAY) / 1000) * 1000);
  registry.store.seedImage('acme/app', ['pr-old'], { created: new Date(Date.now() - 30 * DAY) });
  const fresh = registry.store.seedImage('acme/app', ['pr-new'], { created, ...(options.platforms === undefined ? {} : { platforms: options.platforms }) });
  await writeFile(path.join(dir, 'registry.config.yaml'), [
    'version: 1',
    'settings: { grace: 2h }',
    'registries:',
    `  "${registry.host}": { type: default }`,
    'policies:',
    '  ci:',
    '    keep:',
    '      - pushedWithin: 7d',
    "    delete: { tags: '^pr-' }",
    'repos:',
    `  - repo: ${registry.host}/acme/app`,
    '    cleanup: ci',
    '',
  ].join('\n'));
  const cache = path.join(dir, 'cache');
  return {
    registry,
    cache,
    kept: { digest: fresh.digest, platformDigests: fresh.platformDigests, day: created.toISOString().slice(0, 10) },
    async run(...argv) {
      const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: cache }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    },
    async stop() {
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const deletedTags = (plan: Plan) => plan.actions.flatMap((a) => (a.type === 'delete' && a.tag !== undefined ? [a.tag] : [])).sort();
const entryFile = (cache: string, kind: 'manifests' | 'configs', digest: string) => path.join(cache, kind, 'sha256', digest.slice('sha256:'.length));
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** The config digest of a cached image manifest (read from the cache, which holds its exact bytes). */
async function cachedConfigDigest(cache: string, manifestDigest: string): Promise<string> {
  const manifest = JSON.parse(await readFile(entryFile(cache, 'manifests', manifestDigest), 'utf8')) as { config: { digest: string } };
  return manifest.config.digest;
}

/** Plans, lets `tamper` edit the cache, plans again with --debug: the plan must not change. Returns the second run's stderr. */
async function planAroundTamper(world: World, tamper: () => Promise<void>): Promise<string> {
  const first = await world.run('plan', '--json');
  assert.is(first.code, 0, first.err);
  assert.equal(deletedTags(JSON.parse(first.out) as Plan), ['pr-old']);
  await tamper();
  const second = await world.run('plan', '--json', '--debug');
  assert.is(second.code, 0, second.err);
  assert.equal(deletedTags(JSON.parse(second.out) as Plan), ['pr-old'], 'the tampered entry must not make pr-new deletable');
  // the entry was read from the registry again and rewritten: a third plan reads no manifest or blob
  const before = world.registry.requests.length;
  const third = await world.run('plan', '--json');
  assert.equal(deletedTags(JSON.parse(third.out) as Plan), ['pr-old']);
  const contentReads = world.registry.requests.slice(before).filter((r) => r.method === 'GET' && (r.path.includes('/blobs/') || r.path.includes('/manifests/sha256:')));
  assert.equal(contentReads, [], 'the third plan is served from the cache');
  return second.err;
}

test('an image config whose created time was edited (nothing else recomputed) is read again, so a kept tag stays kept', async () => {
  const world = await makeWorld();
  try {
    const err = await planAroundTamper(world, async () => {
      const config = await cachedConfigDigest(world.cache, world.kept.digest);
      const file = entryFile(world.cache, 'configs', config);
      const text = await readFile(file, 'utf8');
      assert.ok(text.includes(world.kept.day), 'the cached config holds the created time');
      await writeFile(file, text.replaceAll(world.kept.day, OLD_DAY));
    });
    assert.match(err, `debug: manifest cache entry for ${await cachedConfigDigest(world.cache, world.kept.digest)} (image config`);
    assert.match(err, 'does not hash to its digest');
  } finally {
    await world.stop();
  }
});

test('a forged, well-formed manifest and config under the kept digests are ignored: their bytes do not hash to the key', async () => {
  const world = await makeWorld();
  try {
    let config = '';
    const err = await planAroundTamper(world, async () => {
      config = await cachedConfigDigest(world.cache, world.kept.digest);
      const forgedManifest = {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 },
        layers: [],
        annotations: { 'org.opencontainers.image.created': `${OLD_DAY}T00:00:00Z` },
      };
      await writeFile(entryFile(world.cache, 'manifests', world.kept.digest), json(forgedManifest));
      await writeFile(entryFile(world.cache, 'configs', config), json({ created: `${OLD_DAY}T00:00:00Z`, architecture: 'amd64', os: 'linux' }));
    });
    assert.match(err, `debug: manifest cache entry for ${world.kept.digest} (manifest`);
    assert.match(err, `debug: manifest cache entry for ${config} (image config`);
  } finally {
    await world.stop();
  }
});

test('an index takes its created time from its children, whose cached configs are checked the same way', async () => {
  const world = await makeWorld({ platforms: ['linux/amd64', 'linux/arm64'] });
  try {
    const children = Object.values(world.kept.platformDigests);
    assert.is(children.length, 2);
    const err = await planAroundTamper(world, async () => {
      for (const child of children) {
        const file = entryFile(world.cache, 'configs', await cachedConfigDigest(world.cache, child));
        await writeFile(file, (await readFile(file, 'utf8')).replaceAll(world.kept.day, OLD_DAY));
      }
    });
    assert.is(err.match(/does not hash to its digest/g)?.length, 2, err);
  } finally {
    await world.stop();
  }
});

test.run();
