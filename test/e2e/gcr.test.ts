/**
 * regplan plan + apply end to end through runCli against the GCR / Artifact Registry emulator: the inventory comes
 * from Google's tags/list manifest map (digests, upload times, untagged manifests; no HEAD per tag while planning),
 * a tag sharing its manifest with a kept tag is untagged, manifests are deleted after untagging their tags
 * (GOOGLE_MANIFEST_DANGLING_TAG), `untagged: delete` removes the untagged manifest, and only the planned tags go.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startGcrEmulator } from '../emulators/gcr.ts';
import { captureIo } from '../support/io.ts';
import { CLEANUP_SCENARIO_KEPT, cleanupScenarioConfig, seedCleanupScenario, seedManyPrBuilds } from '../support/cleanup-scenario.ts';

const REPO = 'acme-project/images/web';
const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test('143+ tags: plan from the manifest map, apply untags and deletes 4 at a time; every planned tag and the untagged manifest are gone, kept tags stay', async () => {
  const emulator = await startGcrEmulator();
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-gcr-e2e-'));
  dirs.push(dir);
  try {
    const { release, orphan } = seedCleanupScenario(emulator.store, REPO);
    seedManyPrBuilds(emulator.store, REPO, 140);
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'registry.config.yaml'), cleanupScenarioConfig({ host: emulator.host, type: 'gcr', api: emulator.registry.url, repo: REPO }));
    const run = async (argv: string[]) => {
      const io = captureIo({ HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGPLAN_CACHE_DIR: path.join(dir, 'cache') }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    assert.ok(emulator.store.tags(REPO).length > 143);
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    const doomedTags = deletes.map((a) => a.tag).filter((t): t is string => t !== undefined);
    assert.is(doomedTags.length, 140 + 7);
    const shared = deletes.find((a) => a.tag === 'pr-shared');
    assert.is(shared !== undefined && 'mode' in shared ? shared.mode : undefined, 'untag', 'pr-shared shares the kept v1.1.0 manifest');
    assert.ok(deletes.some((a) => a.tag === undefined && a.digest === orphan), 'the untagged manifest is planned (untagged: delete)');
    assert.equal(emulator.registry.requestsTo(`/v2/${REPO}/tags/list`, 'GET').map((r) => r.status), [200, 200], 'one listing for the tags, one for the untagged manifests');
    assert.is(emulator.registry.requestsTo(`/v2/${REPO}/manifests/`, 'HEAD').length, 0, 'no HEAD per tag while planning');

    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.match(applied.out, `Apply: ${deletes.length} done, 0 stale, 0 failed.`);
    const left = emulator.store.tags(REPO).map((t) => t.tag);
    assert.equal(left, [...CLEANUP_SCENARIO_KEPT]);
    for (const tag of doomedTags) assert.not.ok(left.includes(tag), `${tag} is still there`);
    assert.ok(emulator.store.manifest(REPO, release), 'the manifest shared with kept v1.1.0 stays');
    assert.not.ok(emulator.store.manifest(REPO, orphan), 'the untagged manifest is deleted');
    const keptDigests = new Set(emulator.store.tags(REPO).map((t) => t.digest));
    assert.equal(emulator.store.manifests(REPO).filter((m) => !keptDigests.has(m.digest)).map((m) => m.digest), [], 'no manifest of a deleted tag is left behind');
    assert.equal(emulator.registry.requestsTo(`/v2/${REPO}/manifests/pr-shared`, 'DELETE').map((r) => r.status), [202]);

    const again = await run(['plan', '--detailed-exitcode']);
    assert.is(again.code, 0, again.err + again.out);
  } finally {
    await emulator.stop();
  }
});

test('multi-arch: the platform manifests Google lists with no tag stay with their kept index; a deleted index leaves its own to the next plan', async () => {
  const emulator = await startGcrEmulator();
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-gcr-e2e-'));
  dirs.push(dir);
  try {
    const old = new Date(Date.now() - 40 * 86_400_000);
    const kept = emulator.store.seedImage(REPO, ['v1.0.0'], { pushedAt: old, created: old, platforms: ['linux/amd64', 'linux/arm64'], content: 'release' });
    const doomed = emulator.store.seedImage(REPO, ['pr-1'], { pushedAt: old, created: old, platforms: ['linux/amd64', 'linux/arm64'], content: 'pr 1' });
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'registry.config.yaml'), cleanupScenarioConfig({ host: emulator.host, type: 'gcr', api: emulator.registry.url, repo: REPO }));
    const run = async (argv: string[]) => {
      const io = captureIo({ HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGPLAN_CACHE_DIR: path.join(dir, 'cache') }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const deleted = new Set((JSON.parse(planned.out) as Plan).actions.filter((a) => a.type === 'delete').map((a) => a.digest));
    for (const child of Object.values(kept.platformDigests)) assert.not.ok(deleted.has(child), `child ${child} of the kept v1.0.0 is planned for deletion`);
    assert.ok(deleted.has(doomed.digest));
    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v1.0.0']);
    for (const child of Object.values(kept.platformDigests)) assert.ok(emulator.store.manifest(REPO, child), 'the kept index keeps its platform manifests');
    assert.not.ok(emulator.store.manifest(REPO, doomed.digest));
    // pr-1's platform manifests belonged to an index at plan time; once it is gone they are untagged orphans the
    // next plan deletes (untagged: delete), never its kept neighbour's
    const next = await run(['plan', '--json']);
    assert.is(next.code, 0, next.err);
    const orphans = (JSON.parse(next.out) as Plan).actions.filter((a) => a.type === 'delete').map((a) => a.digest).sort();
    assert.equal(orphans, Object.values(doomed.platformDigests).sort());
  } finally {
    await emulator.stop();
  }
});

test.run();
