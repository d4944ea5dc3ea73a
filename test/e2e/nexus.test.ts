/**
 * regplan plan + apply end to end through runCli against the Nexus emulator. With `api` set to the Nexus repository
 * URL: 143+ tags listed through the components search over several continuation-token pages, tags sharing a kept
 * release's manifest untagged (a component is one tag), every other planned tag deleted 8 at a time, and what
 * Nexus holds afterwards. Without `api`: the Registry-API route, where the shared tags are skipped.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startNexusEmulator } from '../emulators/nexus.ts';
import { captureIo } from '../support/io.ts';
import { PAGED_DOOMED, pagedScenarioConfig, pagedScenarioLeft, seedPagedScenario } from '../support/paged-cleanup-scenario.ts';

const USER = { username: 'ci-cleaner', password: 'Nexus-e2e-Secret-55' };
const REPO = 'acme/app';
const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function runner(config: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-nexus-e2e-'));
  dirs.push(dir);
  await mkdir(path.join(dir, 'docker'));
  await writeFile(path.join(dir, 'registry.config.yaml'), config);
  const env = {
    HOME: dir,
    DOCKER_CONFIG: path.join(dir, 'docker'),
    REGPLAN_CACHE_DIR: path.join(dir, 'cache'),
    REGPLAN_REPO_NEXUS_USERNAME: USER.username,
    REGPLAN_REPO_NEXUS_PASSWORD: USER.password,
  };
  return async (argv: string[]) => {
    const io = captureIo(env, dir);
    const code = await runCli(argv, io);
    return { code, out: io.out(), err: io.err() };
  };
}

test('143+ tags over continuation-token pages: shared tags untagged, every planned tag gone, every kept release intact', async () => {
  const nexus = await startNexusEmulator({ user: USER });
  try {
    const scenario = seedPagedScenario(nexus.store, REPO);
    assert.ok(nexus.store.tags(REPO).length > 143);
    const run = await runner(pagedScenarioConfig({ host: nexus.host, type: 'nexus', api: nexus.api, repo: REPO }));
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    assert.is(deletes.length, PAGED_DOOMED + scenario.shared.length, 'every old PR build, and the shared tags as untags');
    assert.equal(deletes.filter((a) => a.mode === 'untag').map((a) => a.tag).sort(), scenario.shared);
    assert.equal(plan.skipped, []);
    assert.ok(nexus.registry.requestsTo('/service/rest/v1/search', 'GET').filter((r) => r.query.includes('continuationToken=')).length >= 3, 'the listing spans pages');
    assert.is(nexus.deleted.length, 0, 'plan changes nothing');

    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.match(applied.out, `Apply: ${PAGED_DOOMED + scenario.shared.length} done, 0 stale, 0 failed.`);
    const left = pagedScenarioLeft(nexus.store, REPO, scenario, { untag: true });
    assert.equal(left.tags, left.expectedTags);
    assert.equal(left.releasesMissing, [], 'every kept release is there, on its manifest');
    assert.is(nexus.deleted.length, PAGED_DOOMED + scenario.shared.length, 'one component per tag');
    assert.is(nexus.registry.requestsTo('/v2/', 'DELETE').length, 0, 'nothing went through the Registry API');
    assert.not.ok(`${planned.out}${planned.err}${applied.out}${applied.err}`.includes(USER.password));

    const again = await run(['plan', '--detailed-exitcode']);
    assert.is(again.code, 0, again.err + again.out);
  } finally {
    await nexus.stop();
  }
});

test('without api the Registry-API route skips tags sharing a kept manifest and deletes the rest by digest', async () => {
  const nexus = await startNexusEmulator({ user: USER });
  try {
    nexus.store.seedImage(REPO, ['v1.0.0', 'pr-shared'], { pushedAt: new Date(Date.UTC(2025, 0, 1)), content: 'release' });
    const old = nexus.store.seedImage(REPO, ['pr-1'], { pushedAt: new Date(Date.UTC(2025, 0, 2)), content: 'pr 1' });
    const config = pagedScenarioConfig({ host: nexus.host, type: 'nexus', api: 'unused', repo: REPO }).replace(/, api: "unused"/, '');
    const run = await runner(config);
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    assert.equal(plan.actions.map((a) => a.type === 'delete' && a.tag), ['pr-1']);
    assert.equal(plan.skipped.map((s) => s.tag), ['pr-shared']);
    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.is(nexus.store.manifest(REPO, old.digest), undefined);
    assert.is(nexus.registry.requestsTo('/service/rest/').length, 0, 'the components API is not used without api');
  } finally {
    await nexus.stop();
  }
});

test.run();
