/**
 * regplan plan + apply end to end through runCli against the Selectel CRaaS emulator: native credentials from
 * env, a Keystone token, listing through the CRaaS API, a tag sharing its manifest with a kept tag skipped
 * (CRaaS cannot untag, so deleting the digest would take the kept tag), an untagged image deleted, a running
 * garbage collection waited out during apply, and what remains in the registry afterwards. Also: missing
 * credentials stop the plan with the env vars to set.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startSelectelEmulator, type SelectelEmulator } from '../emulators/selectel.ts';
import { captureIo } from '../support/io.ts';
import { PAGED_DOOMED, pagedScenarioConfig, pagedScenarioLeft, seedPagedScenario } from '../support/paged-cleanup-scenario.ts';

const USER = { account: '204060', username: 'ci-cleaner', password: 'Selectel-Pass-e2e-77', project: { name: 'web', id: '0f1e2d3c4b5a69788796a5b4c3d2e1f0' } };
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

interface World {
  emulator: SelectelEmulator;
  run: (argv: string[], env?: Record<string, string>) => Promise<{ code: number; out: string; err: string }>;
  orphan: string;
  shared: string;
}

async function withWorld(body: (world: World) => Promise<void>): Promise<void> {
  const emulator = await startSelectelEmulator({ user: USER, requireProjectScope: true });
  try {
    const repo = 'acme/app';
    emulator.store.seedImage(repo, ['v1.0.0', 'pr-1'], { pushedAt: day(1), content: 'release 1' }); // pr-1 shares v1.0.0's manifest
    emulator.store.seedImage(repo, ['v1.1.0'], { pushedAt: day(2), content: 'release 1.1' });
    emulator.store.seedImage(repo, ['pr-2'], { pushedAt: day(3), content: 'pr 2' });
    emulator.store.seedImage(repo, ['pr-3'], { pushedAt: day(4), content: 'pr 3' });
    emulator.store.seedImage(repo, ['pr-4'], { pushedAt: new Date(), content: 'pr 4, within grace' });
    const orphan = emulator.store.seedImage(repo, ['temporary'], { pushedAt: day(5), content: 'orphan' });
    emulator.store.untag(repo, 'temporary');
    const dir = await mkdtemp(path.join(tmpdir(), 'regplan-selectel-e2e-'));
    dirs.push(dir);
    await mkdir(path.join(dir, 'docker'));
    await writeFile(
      path.join(dir, 'registry.config.yaml'),
      [
        'version: 1',
        'settings: { concurrency: 2, grace: 2h }',
        'registries:',
        `  "${emulator.host}": { type: selectel, api: "${emulator.api}" }`,
        'policies:',
        '  ci:',
        "    keep: [{ tags: '^v' }]",
        "    delete: { tags: '^pr-' }",
        '    untagged: delete',
        'repos:',
        `  - repo: ${emulator.host}/${repo}`,
        '    cleanup: ci',
        '',
      ].join('\n'),
    );
    const baseEnv = {
      HOME: dir,
      DOCKER_CONFIG: path.join(dir, 'docker'),
      REGPLAN_CACHE_DIR: path.join(dir, 'cache'),
      REGPLAN_REPO_SELECTEL_ACCOUNT: USER.account,
      REGPLAN_REPO_SELECTEL_USERNAME: USER.username,
      REGPLAN_REPO_SELECTEL_PASSWORD: USER.password,
      REGPLAN_REPO_SELECTEL_PROJECT: USER.project.name,
      REGPLAN_REPO_SELECTEL_IDENTITY_URL: emulator.identity,
    };
    const run = async (argv: string[], env: Record<string, string> = {}) => {
      const io = captureIo({ ...baseEnv, ...env }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    await body({ emulator, run, orphan: orphan.digest, shared: emulator.store.resolve(repo, 'v1.0.0')?.digest ?? '' });
  } finally {
    await emulator.stop();
  }
}

test('plan lists through CRaaS; apply deletes old pr tags and the untagged image, rides out a GC 409, and keeps every kept manifest', async () => {
  await withWorld(async ({ emulator, run, orphan, shared }) => {
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    assert.equal(deletes.map((a) => a.tag ?? a.digest).sort(), ['pr-2', 'pr-3', orphan].sort());
    assert.equal(plan.skipped.map((s) => [s.tag, s.reason.includes('shares manifest') && s.reason.includes('v1.0.0')]), [['pr-1', true]]);
    assert.is(emulator.registry.requestsTo('/api/v1/', 'DELETE').length, 0, 'plan changes nothing');

    emulator.startGarbageCollection(1);
    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err);
    assert.match(applied.out, /Apply: 3 done, 0 stale, 0 failed\./);
    assert.equal(emulator.store.tags('acme/app').map((t) => t.tag), ['pr-1', 'pr-4', 'v1.0.0', 'v1.1.0']);
    assert.ok(emulator.store.manifest('acme/app', shared), 'the manifest of kept v1.0.0 (and pr-1) is never deleted');
    assert.equal(emulator.store.untagged('acme/app'), []);
    assert.ok(emulator.registry.requestsTo('/api/v1/', 'DELETE').some((r) => r.status === 409), 'one DELETE met the running GC');
    assert.not.ok(`${planned.out}${planned.err}${applied.out}${applied.err}`.includes(USER.password));
    for (const token of emulator.tokens.keys()) assert.not.ok(`${applied.out}${applied.err}`.includes(token));

    const again = await run(['plan', '--detailed-exitcode']);
    assert.is(again.code, 0, again.err);
    assert.match(again.out, /No changes\. \d+ kept, 1 skipped\./);
  });
});

test('plan without the service user stops with an error naming the env vars, before anything is planned', async () => {
  await withWorld(async ({ emulator, run }) => {
    const result = await run(['plan'], { REGPLAN_REPO_SELECTEL_PASSWORD: '' });
    assert.is(result.code, 1);
    assert.match(result.err, /Error: cannot clean up ".*\/acme\/app" as type selectel: the CRaaS API needs a Selectel service user, and REGPLAN_REPO_SELECTEL_PASSWORD is not set/);
    assert.match(result.err, /Hint: set REGPLAN_REPO_SELECTEL_ACCOUNT .*--repo-selectel-account/);
    assert.is(result.out, '');
    assert.is(emulator.registry.requestsTo('/api/v1/').length, 0);
  });
});

test('160+ images in one CRaaS answer: apply deletes every planned digest concurrently and CRaaS holds exactly what was kept', async () => {
  const emulator = await startSelectelEmulator({ user: USER, requireProjectScope: true });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-selectel-paged-'));
  dirs.push(dir);
  try {
    const repo = 'acme/app';
    const scenario = seedPagedScenario(emulator.store, repo);
    await writeFile(path.join(dir, 'registry.config.yaml'), pagedScenarioConfig({ host: emulator.host, type: 'selectel', api: emulator.api, repo }));
    await mkdir(path.join(dir, 'docker'));
    const env = {
      HOME: dir,
      DOCKER_CONFIG: path.join(dir, 'docker'),
      REGPLAN_CACHE_DIR: path.join(dir, 'cache'),
      REGPLAN_REPO_SELECTEL_ACCOUNT: USER.account,
      REGPLAN_REPO_SELECTEL_USERNAME: USER.username,
      REGPLAN_REPO_SELECTEL_PASSWORD: USER.password,
      REGPLAN_REPO_SELECTEL_PROJECT: USER.project.id,
      REGPLAN_REPO_SELECTEL_IDENTITY_URL: emulator.identity,
    };
    const run = async (argv: string[]) => {
      const io = captureIo(env, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    assert.is(deletes.filter((a) => a.tag !== undefined).length, PAGED_DOOMED);
    assert.equal(deletes.filter((a) => a.tag === undefined).map((a) => a.digest).sort(), [...scenario.orphans].sort());
    assert.equal(plan.skipped.map((s) => s.tag).sort(), scenario.shared, 'CRaaS cannot untag: the shared tags are skipped');
    assert.is(emulator.registry.requestsTo('/api/v1/registries/', 'GET').filter((r) => r.path.endsWith('/images')).length, 2, 'one images answer per listing, tagged and untagged (CRaaS does not page it)');

    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.match(applied.out, `Apply: ${PAGED_DOOMED + scenario.orphans.length} done, 0 stale, 0 failed.`);
    assert.is(emulator.registry.requestsTo('/api/v1/registries/', 'DELETE').filter((r) => r.status === 204).length, PAGED_DOOMED + scenario.orphans.length);
    const left = pagedScenarioLeft(emulator.store, repo, scenario, { untag: false });
    assert.equal(left.tags, left.expectedTags);
    assert.equal(left.doomedLeft, [], 'every planned digest is gone');
    assert.equal(left.releasesMissing, [], 'every kept release is there, on its manifest');
    assert.is(emulator.store.manifests(repo).length, scenario.releases.size + 1, 'releases and the fresh build, nothing else');
    assert.not.ok(`${planned.out}${planned.err}${applied.out}${applied.err}`.includes(USER.password));
  } finally {
    await emulator.stop();
  }
});

test.run();
