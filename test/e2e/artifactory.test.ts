/**
 * regplan plan + apply end to end through runCli against the Artifactory emulator: tags over Link pages, digests
 * from HEADs, push times from one Storage API file list; apply removes tag folders through the REST API (a tag
 * sharing its manifest with a kept tag is untagged and the manifest stays). The repository path method (repo key
 * in the name) with 143+ tags deleted 4 at a time, and the subdomain/port method (`api: …/api/docker/<repo-key>`).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startArtifactoryEmulator, type ArtifactoryEmulator } from '../emulators/artifactory.ts';
import { captureIo } from '../support/io.ts';
import { CLEANUP_SCENARIO_KEPT, cleanupScenarioConfig, seedCleanupScenario, seedManyPrBuilds } from '../support/cleanup-scenario.ts';

const TOKEN = 'art-e2e-Access-Token-31337';
const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function runner(emulator: ArtifactoryEmulator, config: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-artifactory-e2e-'));
  dirs.push(dir);
  await mkdir(path.join(dir, 'docker'));
  await writeFile(path.join(dir, 'registry.config.yaml'), config);
  return async (argv: string[]) => {
    const io = captureIo({ HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGPLAN_CACHE_DIR: path.join(dir, 'cache'), REGPLAN_REPO_ARTIFACTORY_TOKEN: TOKEN }, dir);
    const code = await runCli(argv, io);
    return { code, out: io.out(), err: io.err() };
  };
}

test('repository path method, 143+ tags over three tags/list pages, deleted 4 at a time: planned tags gone, kept tags and the shared manifest stay', async () => {
  const REPO = 'docker-local/team/web';
  const emulator = await startArtifactoryEmulator({ accessTokens: [TOKEN], pageSize: 60 });
  try {
    const { release } = seedCleanupScenario(emulator.store, REPO);
    seedManyPrBuilds(emulator.store, REPO, 140);
    const run = await runner(emulator, cleanupScenarioConfig({ host: emulator.host, type: 'artifactory', api: emulator.base, repo: REPO }));
    assert.ok(emulator.store.tags(REPO).length > 143);
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    const doomedTags = deletes.map((a) => a.tag).filter((t): t is string => t !== undefined);
    assert.is(doomedTags.length, 140 + 7);
    const shared = deletes.find((a) => a.tag === 'pr-shared');
    assert.is(shared !== undefined && 'mode' in shared ? shared.mode : undefined, 'untag', 'pr-shared shares the kept v1.1.0 manifest');
    assert.equal(emulator.registry.requestsTo(`/v2/${REPO}/tags/list`, 'GET').map((r) => r.status), [200, 200, 200], 'three tags/list pages');
    assert.equal(emulator.registry.requestsTo('/artifactory/api/storage/', 'GET').map((r) => r.status), [200], 'one Storage API file list for every push time');

    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.match(applied.out, `Apply: ${deletes.length} done, 0 stale, 0 failed.`);
    const left = emulator.store.tags(REPO).map((t) => t.tag);
    assert.equal(left, [...CLEANUP_SCENARIO_KEPT]);
    for (const tag of doomedTags) assert.not.ok(left.includes(tag), `${tag} is still there`);
    assert.ok(emulator.store.manifest(REPO, release), 'the manifest shared with kept v1.1.0 stays');
    const folderDeletes = emulator.registry.requestsTo('/artifactory/docker-local/team/web/', 'DELETE');
    assert.is(folderDeletes.length, doomedTags.length, 'one REST folder delete per planned tag');
    assert.ok(folderDeletes.every((r) => r.status === 204));
    assert.is(emulator.registry.requestsTo('/v2/', 'DELETE').length, 0, 'nothing deleted through the Registry API');
    assert.not.ok(`${planned.out}${planned.err}${applied.out}${applied.err}`.includes(TOKEN));

    const again = await run(['plan', '--detailed-exitcode']);
    assert.is(again.code, 0, again.err + again.out);
  } finally {
    await emulator.stop();
  }
});

test('subdomain / port method: api names the repo key; pr-1 is untagged and v1.0.0 keeps the shared manifest', async () => {
  const REPO = 'team/web';
  const emulator = await startArtifactoryEmulator({ accessTokens: [TOKEN], repoKey: 'docker-local' });
  try {
    const old = new Date(Date.now() - 30 * 86_400_000);
    const shared = emulator.store.seedImage(REPO, ['v1.0.0', 'pr-1'], { pushedAt: old, created: old, content: 'release' });
    emulator.store.seedImage(REPO, ['pr-2'], { pushedAt: old, created: old, content: 'pr 2' });
    const run = await runner(emulator, [
      'version: 1',
      'settings: { concurrency: 2, grace: 2h }',
      'registries:',
      `  "${emulator.host}": { type: artifactory, api: "${emulator.base}/api/docker/docker-local" }`,
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v' }]",
      "    delete: { tags: '^pr-' }",
      'repos:',
      `  - repo: ${emulator.host}/${REPO}`,
      '    cleanup: ci',
      '',
    ].join('\n'));
    const planned = await run(['plan', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    assert.match(planned.out, /Plan: 0 to push, 2 to delete/);
    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v1.0.0']);
    assert.ok(emulator.store.manifest(REPO, shared.digest));
    assert.equal(emulator.registry.requestsTo('/artifactory/', 'DELETE').map((r) => r.path).sort(), ['/artifactory/docker-local/team/web/pr-1', '/artifactory/docker-local/team/web/pr-2']);
  } finally {
    await emulator.stop();
  }
});

test.run();
