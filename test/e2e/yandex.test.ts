/**
 * regplan plan + apply end to end through runCli against the Yandex Container Registry emulator: an IAM token from
 * env, the paged images API (proto3 JSON), 143+ tags over several pages with tags sharing a kept release's manifest
 * skipped (the images API cannot untag), untagged images deleted, every delete an Operation polled until done while
 * deletes run 8 at a time, and what the registry holds afterwards. Also: no IAM token stops the plan with what to set.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startYandexEmulator, type YandexEmulator } from '../emulators/yandex.ts';
import { captureIo } from '../support/io.ts';
import { PAGED_DOOMED, pagedScenarioConfig, pagedScenarioLeft, seedPagedScenario, type PagedScenario } from '../support/paged-cleanup-scenario.ts';

const IAM = 't1.e2e-Iam-Secret-4242';
const REPO = 'crp0e2eregistry00001/app';
const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function withWorld(body: (world: { emulator: YandexEmulator; scenario: PagedScenario; run: (argv: string[], env?: Record<string, string>) => Promise<{ code: number; out: string; err: string }> }) => Promise<void>): Promise<void> {
  const emulator = await startYandexEmulator({ iamTokens: [IAM], maxPageSize: 50, operationPolls: 2 });
  try {
    const scenario = seedPagedScenario(emulator.store, REPO);
    const dir = await mkdtemp(path.join(tmpdir(), 'regplan-yandex-e2e-'));
    dirs.push(dir);
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'registry.config.yaml'), pagedScenarioConfig({ host: emulator.host, type: 'yandex', api: emulator.api, repo: REPO }));
    const env = {
      HOME: dir,
      DOCKER_CONFIG: path.join(dir, 'docker'),
      REGPLAN_CACHE_DIR: path.join(dir, 'cache'),
      REGPLAN_REPO_YANDEX_IAM_TOKEN: IAM,
      REGPLAN_REPO_YANDEX_OPERATION_URL: emulator.api,
    };
    const run = async (argv: string[], extra: Record<string, string> = {}) => {
      const io = captureIo({ ...env, ...extra }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    await body({ emulator, scenario, run });
  } finally {
    await emulator.stop();
  }
}

test('143+ tags over several pages, deleted 8 at a time through polled Operations: every planned image is gone, every kept one stays', async () => {
  await withWorld(async ({ emulator, scenario, run }) => {
    assert.ok(emulator.store.tags(REPO).length > 143);
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    assert.is(deletes.filter((a) => a.tag !== undefined).length, PAGED_DOOMED);
    assert.equal(deletes.filter((a) => a.tag === undefined).map((a) => a.digest).sort(), [...scenario.orphans].sort());
    assert.equal(plan.skipped.map((s) => s.tag).sort(), scenario.shared, 'the images API cannot untag: the shared tags are skipped');
    assert.ok(plan.skipped.every((s) => s.reason.includes('shares manifest')));
    assert.ok(emulator.registry.requestsTo('/container-registry/v1/images', 'GET').some((r) => r.query.includes('pageToken=')), 'the listing spans pages');
    assert.is(emulator.registry.requestsTo('/container-registry/v1/images/', 'DELETE').length, 0, 'plan changes nothing');

    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err + applied.out);
    const done = PAGED_DOOMED + scenario.orphans.length;
    assert.match(applied.out, `Apply: ${done} done, 0 stale, 0 failed.`);
    assert.is(emulator.operations.size, done, 'one Operation per deleted image');
    assert.ok([...emulator.operations.values()].every((o) => o.done && o.error === undefined), 'every Operation was polled to done');
    const left = pagedScenarioLeft(emulator.store, REPO, scenario, { untag: false });
    assert.equal(left.tags, left.expectedTags);
    assert.equal(left.doomedLeft, [], 'every planned digest is gone');
    assert.equal(left.releasesMissing, [], 'every kept release is there, on its manifest');
    assert.not.ok(`${planned.out}${planned.err}${applied.out}${applied.err}`.includes(IAM));

    const again = await run(['plan', '--detailed-exitcode']);
    assert.is(again.code, 0, again.err);
    assert.match(again.out, /No changes\./);
  });
});

test('plan without an IAM token stops with an error naming what to set, before anything is planned', async () => {
  await withWorld(async ({ emulator, run }) => {
    const result = await run(['plan'], { REGPLAN_REPO_YANDEX_IAM_TOKEN: '' });
    assert.is(result.code, 1);
    assert.match(result.err, /Error: cannot clean up ".*\/app" as type yandex: the Yandex images API needs an IAM token/);
    assert.match(result.err, /Hint: set REGPLAN_REPO_YANDEX_IAM_TOKEN/);
    assert.is(result.out, '');
    assert.is(emulator.registry.requestsTo('/container-registry/').length, 0);
  });
});

test.run();
