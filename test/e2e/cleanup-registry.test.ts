/**
 * Cleanup end to end against the real distribution registry (basic auth), checked with skopeo: ~40 tags with
 * shared digests, an index, cosign-style signature tags; plan, apply, and exactly the expected tags remain.
 * Also: the second plan's request count, a stale tag between plan and apply, and an apply killed mid-way and
 * rerun. Requests go through a counting proxy so the test sees exactly what regplan sent.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { planSchemaProblems } from '../../src/plan/planfile.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { seedImage, skopeoDigest, skopeoListTags } from '../harness/seed.ts';
import { startCountingProxy, type CountingProxy, type CountingProxyOptions, type ProxiedRequest } from '../support/counting-proxy.ts';
import { captureIo } from '../support/io.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const REPO = 'acme/app';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

/** What the world looks like after seeding, and what must survive cleanup. */
interface World {
  registry: TestRegistry;
  proxy: CountingProxy;
  dir: string;
  config: string;
  dockerConfig: string;
  tagCount: number;
  expectedRemaining: string[];
  run: (...argv: string[]) => Promise<{ code: number; out: string; err: string }>;
  stop: () => Promise<void>;
}

async function makeWorld(options: { delay?: (r: ProxiedRequest) => number; intercept?: CountingProxyOptions['intercept'] } = {}): Promise<World> {
  const registry = await startRegistry({ auth: 'basic' });
  const proxy = await startCountingProxy(registry.host, { ...(options.delay ? { delayMs: options.delay } : {}), ...(options.intercept ? { intercept: options.intercept } : {}) });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-e2e-'));
  const seed = (tag: string, more: { created?: Date; alsoTags?: string[]; platforms?: string[]; content?: string } = {}) =>
    seedImage(registry, { repo: REPO, tag, ...more });

  const releases = ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.3.0', 'v1.4.0'];
  const release = new Map<string, string>();
  for (const [i, tag] of releases.entries()) release.set(tag, (await seed(tag, { created: day(i * 10) })).digest);
  await seed('pr-shared', { created: day(40), content: `${REPO}:v1.4.0` }); // same image as v1.4.0: shares its digest
  const mains = Array.from({ length: 10 }, (_, i) => `main-${String(i).padStart(2, '0')}`);
  for (const [i, tag] of mains.entries()) await seed(tag, { created: day(100 + i) });
  const prs = Array.from({ length: 18 }, (_, i) => `pr-${i + 1}`);
  const pr = new Map<string, string>();
  for (const [i, tag] of prs.entries()) pr.set(tag, (await seed(tag, { created: day(200 + i) })).digest);
  await seed('pr-dup-a', { created: day(230), alsoTags: ['pr-dup-b'] });
  await seed('v2.0.0', { created: day(240), platforms: ['linux/amd64', 'linux/arm64'] });
  await seed('pr-index', { created: day(241), platforms: ['linux/amd64', 'linux/arm64'] });
  const sigOf = (digest: string) => `${digest.replace(':', '-')}.sig`;
  const keptSig = sigOf(release.get('v1.0.0') as string);
  const doomedSig = sigOf(pr.get('pr-1') as string);
  await seed(keptSig, { created: day(1) });
  await seed(doomedSig, { created: day(201) });

  const all = await skopeoListTags(registry, REPO);
  const expectedRemaining = [...releases, 'v2.0.0', 'main-07', 'main-08', 'main-09', keptSig].sort();
  const config = path.join(dir, 'registry.config.yaml');
  await writeFile(
    config,
    [
      'version: 1',
      'settings: { concurrency: 4, grace: 2h }',
      'policies:',
      '  ci:',
      '    keep:',
      "      - tags: '^v\\d+\\.\\d+\\.\\d+$'",
      '      - newest: 3',
      "        tags: '^main-'",
      "    delete: { tags: '^(pr|main)-' }",
      'repos:',
      `  - repo: ${proxy.host}/${REPO}`,
      '    cleanup: ci',
      '',
    ].join('\n'),
  );
  const dockerConfig = path.join(dir, 'docker');
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
  await import('node:fs/promises').then((fs) => fs.mkdir(dockerConfig, { recursive: true }));
  await writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [proxy.host]: { auth } } }));
  const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache') };
  const run = async (...argv: string[]) => {
    const io = captureIo(env, dir);
    const code = await runCli(['-c', config, '--docker-config', dockerConfig, ...argv], io);
    return { code, out: io.out(), err: io.err() };
  };
  return {
    registry, proxy, dir, config, dockerConfig, tagCount: all.length, expectedRemaining, run,
    stop: async () => {
      await proxy.stop();
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const cleanup = suite('cleanup against the real registry');

cleanup('plan then apply leaves exactly the kept tags; the shared-manifest candidate is untagged through a placeholder', async () => {
  const world = await makeWorld();
  try {
    assert.ok(world.tagCount >= 40, `seeded ${world.tagCount} tags`);
    const planned = await world.run('plan', '--json', '--out', 'plan.json');
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    assert.equal(planSchemaProblems(plan), []);
    const shared = plan.actions.find((a) => a.type === 'delete' && a.tag === 'pr-shared');
    assert.ok(shared?.type === 'delete' && shared.mode === 'untag' && shared.via === 'placeholder', 'pr-shared is untagged through a placeholder');
    assert.match(shared.reason, /shares manifest sha256:[0-9a-f]{64} with kept tag v1\.4\.0/);
    const v14 = await skopeoDigest(world.registry, REPO, 'v1.4.0');
    assert.ok(plan.kept.some((k) => k.tag.endsWith('.sig') && k.rules.some((r) => /follows subject v1\.0\.0/.test(r))));

    const applied = await world.run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.equal(await skopeoListTags(world.registry, REPO), world.expectedRemaining);
    assert.is(await skopeoDigest(world.registry, REPO, 'v1.4.0'), v14, 'the manifest pr-shared shared stays');
    const v2 = await skopeoDigest(world.registry, REPO, 'v2.0.0');
    assert.ok(v2, 'the kept index still resolves');
    const again = await world.run('plan', '--detailed-exitcode');
    assert.is(again.code, 0, again.out);
  } finally {
    await world.stop();
  }
});

cleanup('a second plan makes at most 1.1 requests per tag (digest facts come from the cache)', async () => {
  const world = await makeWorld();
  try {
    assert.is((await world.run('plan', '--json')).code, 0);
    world.proxy.reset();
    assert.is((await world.run('plan', '--json')).code, 0);
    const requests = world.proxy.requests.length;
    const perTag = requests / world.tagCount;
    assert.ok(perTag <= 1.1, `${requests} requests for ${world.tagCount} tags = ${perTag.toFixed(3)} per tag`);
    assert.ok(requests >= world.tagCount, 'every tag was re-resolved');
  } finally {
    await world.stop();
  }
});

cleanup('a tag re-pushed to another digest between plan and apply is not deleted and is reported stale', async () => {
  const world = await makeWorld();
  try {
    assert.is((await world.run('plan', '--out', 'plan.json')).code, 0);
    const moved = await seedImage(world.registry, { repo: REPO, tag: 'pr-2', content: 'a newer pr-2 build', created: new Date() });
    const applied = await world.run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.err);
    assert.match(applied.out, /stale\s+\S+:pr-2: tag now points at sha256:/);
    assert.is(await skopeoDigest(world.registry, REPO, 'pr-2'), moved.digest);
    assert.equal(await skopeoListTags(world.registry, REPO), [...world.expectedRemaining, 'pr-2'].sort());
  } finally {
    await world.stop();
  }
});

cleanup('an apply killed mid-way and run again ends in the same state as an uninterrupted one', async () => {
  const world = await makeWorld({ delay: (r) => (r.method === 'DELETE' ? 250 : 0) });
  try {
    assert.is((await world.run('plan', '--out', 'plan.json')).code, 0);
    const journal = path.join(world.dir, 'plan.json.journal.jsonl');
    const child = spawn(process.execPath, [path.join(ROOT, 'src/main.ts'), '-c', world.config, '--docker-config', world.dockerConfig, 'apply', 'plan.json'], {
      cwd: world.dir,
      env: { ...process.env, HOME: world.dir, REGPLAN_CACHE_DIR: path.join(world.dir, 'cache') },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    let lines = 0;
    while (Date.now() < deadline) {
      lines = (await readFile(journal, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
      if (lines >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;
    assert.ok(lines >= 3, 'the apply was under way when it was killed');
    const midway = await skopeoListTags(world.registry, REPO);
    assert.ok(midway.length > world.expectedRemaining.length, `killed before the end (${midway.length} tags left)`);
    const rerun = await world.run('apply', 'plan.json');
    assert.is(rerun.code, 0, rerun.out + rerun.err);
    assert.match(rerun.out, /done by an earlier run/);
    assert.equal(await skopeoListTags(world.registry, REPO), world.expectedRemaining);
  } finally {
    await world.stop();
  }
});

cleanup('apply rides out 429 (Retry-After) and 503 answers to its deletes and still finishes everything', async () => {
  const answered = new Map<string, number>();
  const world = await makeWorld({
    intercept: (r) => {
      if (r.method !== 'DELETE') return undefined;
      const seen = (answered.get(r.path) ?? 0) + 1;
      answered.set(r.path, seen);
      if (seen === 1) return answered.size % 2 ? { status: 429, headers: { 'retry-after': '1' }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}' } : { status: 503, body: 'busy' };
      return undefined;
    },
  });
  try {
    assert.is((await world.run('plan', '--out', 'plan.json')).code, 0);
    const applied = await world.run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, /\d+ done, 0 stale, 0 failed/);
    const deletes = world.proxy.requests.filter((r) => r.method === 'DELETE');
    assert.ok(deletes.length >= 2 * answered.size, `every DELETE was retried after its 429/503 (${deletes.length} for ${answered.size} manifests)`);
    assert.equal(await skopeoListTags(world.registry, REPO), world.expectedRemaining);
  } finally {
    await world.stop();
  }
});

cleanup.run();
