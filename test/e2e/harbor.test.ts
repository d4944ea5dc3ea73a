/**
 * regplan plan + apply end to end against the Harbor emulator, in process through runCli: a config naming the
 * host as `type: harbor` with its API base, a nested repository (double-encoded on the Harbor API), Registry API
 * reads with the Docker login (bearer tokens from /service/token), Harbor credentials from env or the Docker
 * login fallback. Asserts what remains in Harbor after apply: a tag sharing its manifest with a kept tag is
 * untagged (the manifest stays), old tags and an untagged artifact are deleted, an immutable tag fails with a
 * hint and stays, and missing credentials stop the plan before anything is planned.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startHarborEmulator, type HarborEmulator, type HarborEmulatorOptions } from '../emulators/harbor.ts';
import { captureIo } from '../support/io.ts';
import { CLEANUP_SCENARIO_KEPT, cleanupScenarioConfig, seedCleanupScenario, seedManyPrBuilds } from '../support/cleanup-scenario.ts';

const REPO = 'acme/team/app';
const ADMIN_PASSWORD = 'Adm1n-pass-e2e';
const ROBOT = 'robot$acme+cleanup';
const ROBOT_SECRET = 'robot-secret-e2e-42';

const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** What a world holds: the emulator, the digests that matter, and a way to run regplan in it. */
interface World {
  harbor: HarborEmulator;
  release: string;
  orphan: string;
  run: (argv: string[], env?: Record<string, string>) => Promise<{ code: number; out: string; err: string }>;
}

async function withWorld(options: { harbor?: HarborEmulatorOptions; dockerUser?: { username: string; password: string } | null; prBuilds?: number }, body: (world: World) => Promise<void>): Promise<void> {
  const harbor = await startHarborEmulator({ users: { admin: ADMIN_PASSWORD, [ROBOT]: ROBOT_SECRET }, ...options.harbor });
  try {
    const { release, orphan } = seedCleanupScenario(harbor.store, REPO);
    seedManyPrBuilds(harbor.store, REPO, options.prBuilds ?? 0);

    const dir = await mkdtemp(path.join(tmpdir(), 'regplan-harbor-e2e-'));
    dirs.push(dir);
    await writeFile(path.join(dir, 'registry.config.yaml'), cleanupScenarioConfig({ host: harbor.host, type: 'harbor', api: harbor.apiBase, repo: REPO }));
    const docker = path.join(dir, 'docker');
    await mkdir(docker, { recursive: true });
    const login = options.dockerUser === undefined ? { username: 'admin', password: ADMIN_PASSWORD } : options.dockerUser;
    const auths = login === null ? {} : { [harbor.host]: { auth: Buffer.from(`${login.username}:${login.password}`).toString('base64') } };
    await writeFile(path.join(docker, 'config.json'), JSON.stringify({ auths }));
    const run = async (argv: string[], env: Record<string, string> = {}) => {
      const io = captureIo({ HOME: dir, DOCKER_CONFIG: docker, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), ...env }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    await body({ harbor, release, orphan, run });
  } finally {
    await harbor.stop();
  }
}

const ROBOT_ENV = { REGPLAN_REPO_HARBOR_USERNAME: ROBOT, REGPLAN_REPO_HARBOR_PASSWORD: ROBOT_SECRET };
const tagsLeft = (h: HarborEmulator): string[] => h.store.tags(REPO).map((t) => t.tag);
const noSecrets = (text: string): void => {
  for (const secret of [ADMIN_PASSWORD, ROBOT_SECRET]) assert.not.ok(text.includes(secret), 'a secret reached the output');
};

test('plan lists through the Harbor API; apply untags the tag sharing a kept manifest and deletes the rest', async () => {
  await withWorld({}, async ({ harbor, release, orphan, run }) => {
    const planned = await run(['plan', '--json', '--out', 'plan.json'], ROBOT_ENV);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete') as unknown as { tag?: string; digest: string; mode: string }[];
    assert.equal(deletes.filter((a) => a.tag !== undefined).map((a) => `${a.tag}:${a.mode}`).sort(), ['main-1:manifest', 'main-2:manifest', 'pr-1:manifest', 'pr-2:manifest', 'pr-3:manifest', 'pr-locked:manifest', 'pr-shared:untag']);
    assert.ok(deletes.some((a) => a.tag === undefined && a.digest === orphan), 'the untagged artifact is planned for deletion');
    assert.ok(harbor.requestsTo('/api/v2.0/projects/acme/repositories/team%252Fapp/artifacts', 'GET').length >= 2, 'listed through the Harbor API');
    assert.is(harbor.requestsTo('/v2/acme/team/app/tags/list').length, 0, 'no Registry API tag listing');

    const applied = await run(['apply', 'plan.json'], ROBOT_ENV);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.equal(tagsLeft(harbor), ['main-3', 'main-4', 'pr-fresh', 'v1.0.0', 'v1.1.0']);
    assert.ok(harbor.store.manifest(REPO, release), 'the kept manifest of v1.1.0 (and pr-shared) is still there');
    assert.is(harbor.store.manifest(REPO, orphan), undefined);
    assert.equal(harbor.requestsTo('/v2/', 'DELETE'), [], 'every change went through the Harbor API');
    assert.ok(harbor.requestsTo('/api/v2.0/', 'DELETE').some((r) => r.path.endsWith('/tags/pr-shared') && r.status === 200));
    noSecrets(planned.out + planned.err + applied.out + applied.err);

    const again = await run(['plan', '--detailed-exitcode'], ROBOT_ENV);
    assert.is(again.code, 0, again.out + again.err);
  });
});

test('without Harbor credentials the Docker login for the host does the cleanup', async () => {
  await withWorld({ dockerUser: { username: ROBOT, password: ROBOT_SECRET } }, async ({ harbor, release, run }) => {
    const applied = await run(['apply', '--auto-approve']);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.equal(tagsLeft(harbor), ['main-3', 'main-4', 'pr-fresh', 'v1.0.0', 'v1.1.0']);
    assert.ok(harbor.store.manifest(REPO, release));
    noSecrets(applied.out + applied.err);
  });
});

test('an immutable tag fails in apply with the Harbor hint and stays; everything else is done', async () => {
  await withWorld({ harbor: { immutableTags: /^pr-locked$/ } }, async ({ harbor, run }) => {
    assert.is((await run(['plan', '--out', 'plan.json'], ROBOT_ENV)).code, 0);
    const applied = await run(['apply', 'plan.json'], ROBOT_ENV);
    assert.is(applied.code, 1);
    const text = applied.out + applied.err;
    assert.match(text, /pr-locked/);
    assert.match(text, 'HTTP 412 PRECONDITION');
    assert.match(text, 'immutable tag rule of project "acme"');
    assert.match(text, /1 failed/);
    assert.equal(tagsLeft(harbor), ['main-3', 'main-4', 'pr-fresh', 'pr-locked', 'v1.0.0', 'v1.1.0']);
    noSecrets(text);
  });
});

test('with no Harbor credentials and no Docker login the plan stops, naming what to set, and nothing is deleted', async () => {
  await withWorld({ dockerUser: null, harbor: { publicProjects: ['acme'] } }, async ({ harbor, run }) => {
    const before = tagsLeft(harbor);
    const planned = await run(['plan']);
    assert.is(planned.code, 1);
    assert.match(planned.err, `cannot clean up "${harbor.host}" through the Harbor API`);
    assert.match(planned.err, 'REGPLAN_REPO_HARBOR_USERNAME and REGPLAN_REPO_HARBOR_PASSWORD');
    assert.is(planned.out, '');
    assert.equal(tagsLeft(harbor), before);
    assert.equal(harbor.requestsTo('/api/v2.0/', 'DELETE'), []);
  });
});

test('a wrong Harbor password fails the plan with the auth hint and no secret', async () => {
  await withWorld({}, async ({ run }) => {
    const planned = await run(['plan'], { REGPLAN_REPO_HARBOR_USERNAME: ROBOT, REGPLAN_REPO_HARBOR_PASSWORD: 'not-the-secret-123' });
    assert.is(planned.code, 1);
    assert.match(planned.err, 'HTTP 401');
    assert.match(planned.err, 'robot account');
    assert.not.ok(planned.err.includes('not-the-secret-123'));
    noSecrets(planned.err);
  });
});

test('143+ tags over two pages, deleted 4 at a time: every planned tag is gone, every kept tag stays, and the counts say so', async () => {
  await withWorld({ prBuilds: 140 }, async ({ harbor, release, orphan, run }) => {
    assert.ok(tagsLeft(harbor).length > 143);
    const planned = await run(['plan', '--json', '--out', 'plan.json'], ROBOT_ENV);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    const doomedTags = deletes.map((a) => a.tag).filter((t): t is string => t !== undefined);
    assert.is(doomedTags.length, 140 + 7);
    const listing = harbor.requestsTo('/api/v2.0/projects/acme/repositories/team%252Fapp/artifacts', 'GET').filter((r) => new URLSearchParams(r.query).get('q') === null);
    assert.ok(listing.some((r) => new URLSearchParams(r.query).get('page') === '2'), 'the listing spans two pages');

    const applied = await run(['apply', 'plan.json'], ROBOT_ENV);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.match(applied.out, `Apply: ${deletes.length} done, 0 stale, 0 failed.`);
    const left = tagsLeft(harbor);
    assert.equal(left, [...CLEANUP_SCENARIO_KEPT]);
    for (const tag of doomedTags) assert.not.ok(left.includes(tag), `${tag} is still there`);
    assert.ok(harbor.store.manifest(REPO, release));
    assert.is(harbor.store.manifest(REPO, orphan), undefined);
  });
});

test.run();
