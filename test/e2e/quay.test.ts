/**
 * regplan plan + apply end to end through runCli against the Quay emulator. With REGPLAN_REPO_QUAY_TOKEN the
 * inventory comes from the Quay API (push times from start_ts, one request per page) and tags are removed with
 * its tag DELETE; without it, through the Registry API (untag = DELETE by tag). Either way a tag sharing its
 * manifest with a kept tag is untagged and the manifest stays; only the planned tags are gone afterwards.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startQuayEmulator, type QuayEmulator } from '../emulators/quay.ts';
import { captureIo } from '../support/io.ts';
import { CLEANUP_SCENARIO_KEPT, cleanupScenarioConfig, seedCleanupScenario, seedManyPrBuilds } from '../support/cleanup-scenario.ts';

const TOKEN = 'quay-e2e-Oauth-Token-31337';
const REPO = 'acme/charts/web';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

interface World {
  emulator: QuayEmulator;
  shared: string;
  run: (argv: string[], env?: Record<string, string>) => Promise<{ code: number; out: string; err: string }>;
}

async function withWorld(body: (world: World) => Promise<void>): Promise<void> {
  const emulator = await startQuayEmulator({ token: TOKEN });
  try {
    // push times: the Quay API reports start_ts (pushedAt); image configs carry the same `created` for the Registry API path
    const seed = (tags: string[], n: number, content: string) => emulator.store.seedImage(REPO, tags, { pushedAt: day(n), created: day(n), content });
    const shared = seed(['v1.0.0', 'pr-1'], 1, 'release 1'); // pr-1 shares v1.0.0's manifest
    seed(['v1.1.0'], 2, 'release 1.1');
    seed(['pr-2'], 3, 'pr 2');
    seed(['pr-3'], 4, 'pr 3');
    emulator.store.seedImage(REPO, ['pr-4'], { pushedAt: new Date(), created: new Date(), content: 'pr 4, within grace' });
    const dir = await mkdtemp(path.join(tmpdir(), 'regplan-quay-e2e-'));
    dirs.push(dir);
    await mkdir(path.join(dir, 'docker'));
    await writeFile(
      path.join(dir, 'registry.config.yaml'),
      [
        'version: 1',
        'settings: { concurrency: 2, grace: 2h }',
        'registries:',
        `  "${emulator.host}": { type: quay, api: "${emulator.api}" }`,
        'policies:',
        '  ci:',
        "    keep: [{ tags: '^v' }]",
        "    delete: { tags: '^pr-' }",
        'repos:',
        `  - repo: ${emulator.host}/${REPO}`,
        '    cleanup: ci',
        '',
      ].join('\n'),
    );
    const run = async (argv: string[], env: Record<string, string> = {}) => {
      const io = captureIo({ HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGPLAN_CACHE_DIR: path.join(dir, 'cache'), ...env }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    await body({ emulator, shared: shared.digest, run });
  } finally {
    await emulator.stop();
  }
}

const EXPECTED_LEFT = ['pr-4', 'v1.0.0', 'v1.1.0'];

test('with a token: the Quay API lists and untags; pr-1 is untagged and v1.0.0 keeps the shared manifest', async () => {
  await withWorld(async ({ emulator, shared, run }) => {
    const env = { REGPLAN_REPO_QUAY_TOKEN: TOKEN };
    const planned = await run(['plan', '--json', '--out', 'plan.json'], env);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    assert.equal(plan.actions.filter((a) => a.type === 'delete').map((a) => a.tag).sort(), ['pr-1', 'pr-2', 'pr-3']);
    const pr1 = plan.actions.find((a) => a.type === 'delete' && a.tag === 'pr-1');
    assert.is(pr1 !== undefined && 'mode' in pr1 ? pr1.mode : undefined, 'untag');
    assert.equal(plan.skipped, []);
    assert.equal(emulator.registry.requestsTo(`/api/v1/repository/${REPO}/tag/`, 'GET').map((r) => r.status), [200], 'one page, one request');
    assert.is(emulator.registry.requestsTo(`/v2/${REPO}/manifests/`, 'HEAD').length, 0, 'no HEAD per tag when the API gives digests');

    const applied = await run(['apply', 'plan.json'], env);
    assert.is(applied.code, 0, applied.err);
    assert.match(applied.out, /Apply: 3 done, 0 stale, 0 failed\./);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), EXPECTED_LEFT);
    assert.ok(emulator.store.manifest(REPO, shared), 'the manifest shared with kept v1.0.0 is never deleted');
    assert.equal(emulator.registry.requestsTo(`/api/v1/repository/${REPO}/tag/pr-1`, 'DELETE').map((r) => r.status), [204]);
    assert.not.ok(`${planned.out}${planned.err}${applied.out}${applied.err}`.includes(TOKEN));

    const again = await run(['plan', '--detailed-exitcode'], env);
    assert.is(again.code, 0, again.err);
  });
});

test('without a token: the Registry API lists (push times from image configs) and untags by tag, with the same result', async () => {
  await withWorld(async ({ emulator, shared, run }) => {
    const planned = await run(['plan', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    assert.match(planned.out, /- pr-1 .*\[untag only\].*shares manifest sha256:\w+ with kept tag v1\.0\.0/);
    assert.match(planned.out, /Plan: 0 to push, 3 to delete/);
    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), EXPECTED_LEFT);
    assert.ok(emulator.store.manifest(REPO, shared));
    assert.is(emulator.registry.requestsTo('/api/v1/').length, 0);
    assert.equal(emulator.registry.requestsTo(`/v2/${REPO}/manifests/pr-1`, 'DELETE').map((r) => r.status), [202]);
  });
});

test('143+ tags over two API pages, deleted 4 at a time: every planned tag is gone, every kept tag stays, and the counts say so', async () => {
  const emulator = await startQuayEmulator({ token: TOKEN });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-quay-e2e-'));
  dirs.push(dir);
  try {
    const { release } = seedCleanupScenario(emulator.store, REPO);
    seedManyPrBuilds(emulator.store, REPO, 140);
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'registry.config.yaml'), cleanupScenarioConfig({ host: emulator.host, type: 'quay', api: emulator.api, repo: REPO }));
    const run = async (argv: string[]) => {
      const io = captureIo({ HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGPLAN_CACHE_DIR: path.join(dir, 'cache'), REGPLAN_REPO_QUAY_TOKEN: TOKEN }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    assert.ok(emulator.store.tags(REPO).length > 143);
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const deletes = (JSON.parse(planned.out) as Plan).actions.filter((a) => a.type === 'delete');
    const doomedTags = deletes.map((a) => a.tag).filter((t): t is string => t !== undefined);
    assert.is(doomedTags.length, 140 + 7);
    assert.equal(emulator.registry.requestsTo(`/api/v1/repository/${REPO}/tag/`, 'GET').map((r) => new URLSearchParams(r.query).get('page')), ['1', '2']);

    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.match(applied.out, `Apply: ${deletes.length} done, 0 stale, 0 failed.`);
    const left = emulator.store.tags(REPO).map((t) => t.tag);
    assert.equal(left, [...CLEANUP_SCENARIO_KEPT]);
    for (const tag of doomedTags) assert.not.ok(left.includes(tag), `${tag} is still there`);
    assert.ok(emulator.store.manifest(REPO, release));
  } finally {
    await emulator.stop();
  }
});

test.run();
