/**
 * Docker Hub cleanup end to end, in process through runCli, against the Hub emulator (Registry API with Hub's
 * 403/405 delete quirks plus the Hub API): plan lists through the Hub API with push times, apply untags through
 * the Hub API — a tag sharing its manifest with a kept tag loses only its tag — and deletes the rest. Also: the
 * type forced by --repo-container-registry with credentials from the config, missing credentials and official
 * library/ images refused at plan time, and no secret in any output or plan file.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { planSchemaProblems } from '../../src/plan/planfile.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startDockerHubEmulator, type DockerHubEmulator } from '../emulators/dockerhub.ts';
import { captureIo } from '../support/io.ts';
import { CLEANUP_SCENARIO_KEPT, cleanupScenarioConfig, seedCleanupScenario, seedManyPrBuilds } from '../support/cleanup-scenario.ts';

const PASSWORD = 'e2e-hub-password-SECRET';
const REPO = 'acme/app';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

/** The emulator seeded with releases, PR builds (one sharing a release's manifest, two sharing each other's) and a main build. */
async function world(options: { registryLines?: (hub: DockerHubEmulator) => string[]; repo?: string; env?: Record<string, string> } = {}) {
  const hub = await startDockerHubEmulator({ accounts: { acme: { password: PASSWORD } } });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-hub-e2e-'));
  const digests = {
    v100: hub.store.seedImage(REPO, ['v1.0.0'], { pushedAt: day(1) }).digest,
    v110: hub.store.seedImage(REPO, ['v1.1.0', 'pr-shared'], { pushedAt: day(2) }).digest,
    pr1: hub.store.seedImage(REPO, ['pr-1'], { pushedAt: day(3) }).digest,
    pr2: hub.store.seedImage(REPO, ['pr-2'], { pushedAt: day(4), platforms: ['linux/amd64', 'linux/arm64'] }).digest,
    dup: hub.store.seedImage(REPO, ['pr-dup-a', 'pr-dup-b'], { pushedAt: day(5) }).digest,
    main: hub.store.seedImage(REPO, ['main-1'], { pushedAt: day(6) }).digest,
  };
  hub.store.seedImage('library/nginx', ['pr-1'], { pushedAt: day(1) });
  const registryLines = options.registryLines ?? ((h: DockerHubEmulator) => [`  "${h.host}": { type: dockerhub, api: "${h.api}" }`]);
  const config = path.join(dir, 'registry.config.yaml');
  await writeFile(
    config,
    [
      'version: 1',
      'settings: { grace: 2h }',
      'registries:',
      ...registryLines(hub),
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v' }]",
      "    delete: { tags: '^pr-' }",
      'repos:',
      `  - repo: ${hub.host}/${options.repo ?? REPO}`,
      '    cleanup: ci',
      '',
    ].join('\n'),
  );
  const dockerConfig = path.join(dir, 'docker');
  await mkdir(dockerConfig);
  await writeFile(path.join(dockerConfig, 'config.json'), '{}');
  const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), ...(options.env ?? { REGPLAN_REPO_DOCKER_HUB_USERNAME: 'acme', REGPLAN_REPO_DOCKER_HUB_PASSWORD: PASSWORD }) };
  const run = async (...argv: string[]) => {
    const io = captureIo(env, dir);
    const code = await runCli(['-c', config, '--docker-config', dockerConfig, ...argv], io);
    assert.not.ok(io.out().includes(PASSWORD) || io.err().includes(PASSWORD), 'the password never shows');
    return { code, out: io.out(), err: io.err() };
  };
  const tags = () => hub.store.tags(REPO).map((t) => t.tag);
  return { hub, dir, digests, run, tags, stop: async () => (await hub.stop(), await rm(dir, { recursive: true, force: true })) };
}

test('plan lists through the Hub API; apply untags the shared tag, deletes the rest, and keeps every kept manifest', async () => {
  const w = await world();
  try {
    const planned = await w.run('plan', '--json', '--out', 'plan.json');
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    assert.equal(planSchemaProblems(plan), []);
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    assert.equal(deletes.map((a) => a.tag).sort(), ['pr-1', 'pr-2', 'pr-dup-a', 'pr-dup-b', 'pr-shared']);
    const shared = deletes.find((a) => a.tag === 'pr-shared');
    assert.is(shared?.mode, 'untag');
    assert.match(shared?.reason ?? '', `shares manifest ${w.digests.v110} with kept tag v1.1.0, so only the tag is removed`);
    assert.match(deletes.find((a) => a.tag === 'pr-1')?.reason ?? '', /pushed \d+d ago/); // the Hub's push time, not unknown
    assert.equal(plan.skipped, []);
    assert.not.ok((await readFile(path.join(w.dir, 'plan.json'), 'utf8')).includes(PASSWORD));
    assert.ok(w.hub.hubRequests().some((r) => r.startsWith('GET /v2/namespaces/acme/repositories/app/tags?page_size=100 200')), w.hub.hubRequests().join('\n'));

    const human = await w.run('plan');
    assert.match(human.out, /- pr-shared .*\[untag only\]/);
    assert.match(human.out, /Plan: 0 to push, 5 to delete, 3 kept, 0 skipped\./);

    const applied = await w.run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, /Apply: 5 done, 0 stale, 0 failed\./);
    assert.equal(w.tags(), ['main-1', 'v1.0.0', 'v1.1.0']);
    assert.ok(w.hub.store.manifest(REPO, w.digests.v110), 'the manifest pr-shared shared with v1.1.0 stays');
    assert.is(w.hub.store.resolve(REPO, 'v1.1.0')?.digest, w.digests.v110);
    assert.ok(w.hub.hubRequests().includes('DELETE /v2/repositories/acme/app/tags/pr-shared/ 204'));
    for (const gone of [w.digests.pr1, w.digests.pr2, w.digests.dup]) assert.is(w.hub.store.manifest(REPO, gone), undefined, `${gone} deleted`);
    assert.ok(w.hub.registry.requestsTo(`/v2/${REPO}/manifests/`, 'DELETE').every((r) => r.status === 202 || r.status === 404));

    const again = await w.run('plan', '--detailed-exitcode');
    assert.is(again.code, 0, again.out + again.err);
  } finally {
    await w.stop();
  }
});

test('--repo-container-registry dockerhub with Hub credentials from the config applies the same cleanup', async () => {
  const w = await world({
    registryLines: (h) => [`  "${h.host}":`, `    api: "${h.api}"`, '    credentials: { username: { env: HUB_USER }, password: { env: HUB_PASS } }'],
    env: { HUB_USER: 'acme', HUB_PASS: PASSWORD },
  });
  try {
    const applied = await w.run('apply', '--auto-approve', '--repo-container-registry', 'dockerhub');
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.equal(w.tags(), ['main-1', 'v1.0.0', 'v1.1.0']);
    assert.ok(w.hub.store.manifest(REPO, w.digests.v110));
  } finally {
    await w.stop();
  }
});

test('without Hub credentials the plan stops before anything is planned, naming what to set', async () => {
  const w = await world({ env: {} });
  try {
    const planned = await w.run('plan');
    assert.is(planned.code, 1);
    assert.match(planned.err, 'the Hub API needs credentials and REGPLAN_REPO_DOCKER_HUB_TOKEN, or REGPLAN_REPO_DOCKER_HUB_USERNAME with REGPLAN_REPO_DOCKER_HUB_PASSWORD is not set');
    assert.match(planned.err, /Hint: .*--repo-docker-hub-token/);
    assert.is(planned.out, '');
    assert.equal(w.hub.hubRequests(), []);
    assert.is(w.tags().length, 8);
  } finally {
    await w.stop();
  }
});

test('official library/ images are refused at plan time with a clear reason', async () => {
  const w = await world({ repo: 'library/nginx' });
  try {
    const planned = await w.run('plan');
    assert.is(planned.code, 1);
    assert.match(planned.err, `cannot clean up "${w.hub.host}/library/nginx": library/ holds Docker's official images`);
    assert.equal(w.hub.store.tags('library/nginx').map((t) => t.tag), ['pr-1']);
  } finally {
    await w.stop();
  }
});

test('143+ tags over two pages, deleted 4 at a time: every planned tag is gone, every kept tag stays, and the counts say so', async () => {
  const hub = await startDockerHubEmulator({ accounts: { acme: { password: PASSWORD } }, rateLimit: 2000, latencyMs: 3 });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-hub-e2e-'));
  try {
    const { release } = seedCleanupScenario(hub.store, REPO);
    const builds = seedManyPrBuilds(hub.store, REPO, 140);
    const config = path.join(dir, 'registry.config.yaml');
    await writeFile(config, cleanupScenarioConfig({ host: hub.host, type: 'dockerhub', api: hub.api, repo: REPO }));
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'docker', 'config.json'), '{}');
    const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), REGPLAN_REPO_DOCKER_HUB_USERNAME: 'acme', REGPLAN_REPO_DOCKER_HUB_PASSWORD: PASSWORD };
    const run = async (...argv: string[]) => {
      const io = captureIo(env, dir);
      const code = await runCli(['-c', config, '--docker-config', path.join(dir, 'docker'), ...argv], io);
      return { code, out: io.out(), err: io.err() };
    };
    assert.ok(hub.store.tags(REPO).length > 143);
    const planned = await run('plan', '--json', '--out', 'plan.json');
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const planned_ = plan.actions.filter((a) => a.type === 'delete' && a.tag !== undefined).map((a) => a.tag as string);
    assert.is(planned_.length, 140 + 7, planned_.join(' '));
    for (const tag of builds) assert.ok(planned_.includes(tag), `${tag} planned`);

    const requestsBefore = hub.hubRequests().length;
    const applied = await run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, `Apply: ${planned_.length} done, 0 stale, 0 failed.`);
    const left = hub.store.tags(REPO).map((t) => t.tag);
    assert.equal(left, [...CLEANUP_SCENARIO_KEPT]);
    for (const tag of planned_) assert.not.ok(left.includes(tag), `${tag} is still there`);
    assert.ok(hub.store.manifest(REPO, release), 'the manifest pr-shared shared with v1.1.0 stays');
    const listings = hub.hubRequests().slice(requestsBefore).filter((r) => r.startsWith('GET /v2/namespaces/acme/repositories/app/tags?'));
    assert.ok(listings.length <= 2, `apply listed the tags once (two pages), not per delete:\n${listings.join('\n')}`);
  } finally {
    await hub.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
