/**
 * regplan plan + apply end to end against the ACR emulator, in process through runCli: a config naming the host
 * as `type: acr` with its API base, a nested repository, a service principal from AZURE_* env (Entra ID token
 * exchanged at /oauth2/exchange, no `az`), or the Docker login `az acr login` leaves behind. Asserts what remains
 * in the registry after apply: a tag sharing its manifest with a kept tag is untagged (the manifest stays), old
 * tags and an untagged manifest are deleted, a locked tag fails with the unlock hint and stays, and missing or
 * wrong credentials stop the plan before anything is planned, without showing a secret.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { NULL_GUID, startAcrEmulator, type AcrEmulator } from '../emulators/acr.ts';
import { captureIo } from '../support/io.ts';
import { cleanupScenarioConfig, seedCleanupScenario } from '../support/cleanup-scenario.ts';
import { PAGED_DOOMED, pagedScenarioConfig, pagedScenarioLeft, seedPagedScenario } from '../support/paged-cleanup-scenario.ts';

const REPO = 'team/services/app';
const TENANT = 'e2e-tenant';
const CLIENT_ID = 'regplan-cleanup';
const CLIENT_SECRET = 'sp-secret-e2e-7531';

const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** What a world holds: the emulator, the digests that matter, and a way to run regplan in it. */
interface World {
  acr: AcrEmulator;
  release: string;
  orphan: string;
  sp: Record<string, string>;
  run: (argv: string[], env?: Record<string, string>) => Promise<{ code: number; out: string; err: string }>;
}

async function withWorld(options: { dockerLogin?: 'refresh-token' }, body: (world: World) => Promise<void>): Promise<void> {
  const acr = await startAcrEmulator({ identities: { principals: [{ tenant: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] }, pageSize: 3 });
  try {
    const { release, orphan } = seedCleanupScenario(acr.store, REPO);

    const dir = await mkdtemp(path.join(tmpdir(), 'regplan-acr-e2e-'));
    dirs.push(dir);
    await writeFile(path.join(dir, 'registry.config.yaml'), cleanupScenarioConfig({ host: acr.host, type: 'acr', api: acr.url, repo: REPO }));
    const docker = path.join(dir, 'docker');
    await mkdir(docker, { recursive: true });
    // What `az acr login` stores: the null-GUID user with an ACR refresh token as password.
    const auths = options.dockerLogin === 'refresh-token' ? { [acr.host]: { auth: Buffer.from(`${NULL_GUID}:${acr.auth.issueRefreshToken(CLIENT_ID)}`).toString('base64') } } : {};
    await writeFile(path.join(docker, 'config.json'), JSON.stringify({ auths }));
    const run = async (argv: string[], env: Record<string, string> = {}) => {
      const io = captureIo({ HOME: dir, DOCKER_CONFIG: docker, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), PATH: '/nonexistent', ...env }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    const sp = { AZURE_CLIENT_ID: CLIENT_ID, AZURE_TENANT_ID: TENANT, AZURE_CLIENT_SECRET: CLIENT_SECRET, AZURE_AUTHORITY_HOST: acr.authorityHost };
    await body({ acr, release, orphan, sp, run });
  } finally {
    await acr.stop();
  }
}

const tagsLeft = (acr: AcrEmulator): string[] => acr.store.tags(REPO).map((t) => t.tag);
const EXPECTED_LEFT = ['main-3', 'main-4', 'pr-fresh', 'v1.0.0', 'v1.1.0'];
const noSecrets = (acr: AcrEmulator, text: string): void => {
  assert.not.ok(text.includes(CLIENT_SECRET), 'the client secret reached the output');
  for (const token of acr.registry.auth.tokens.keys()) assert.not.ok(text.includes(token), 'an access token reached the output');
};

test('plan lists through /acr/v1 with a service principal; apply untags the tag sharing a kept manifest and deletes the rest', async () => {
  await withWorld({}, async ({ acr, release, orphan, sp, run }) => {
    const planned = await run(['plan', '--json', '--out', 'plan.json'], sp);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete') as unknown as { tag?: string; digest: string; mode: string }[];
    assert.equal(
      deletes.filter((a) => a.tag !== undefined).map((a) => `${a.tag}:${a.mode}`).sort(),
      ['main-1:manifest', 'main-2:manifest', 'pr-1:manifest', 'pr-2:manifest', 'pr-3:manifest', 'pr-locked:manifest', 'pr-shared:untag'],
    );
    assert.ok(deletes.some((a) => a.tag === undefined && a.digest === orphan), 'the untagged manifest is planned for deletion');
    assert.ok(acr.registry.requestsTo(`/acr/v1/${REPO}/_tags`, 'GET').length >= 4, 'listed through the ACR API, page by page');
    assert.is(acr.registry.requestsTo(`/v2/${REPO}/tags/list`).length, 0, 'no Registry API tag listing');

    const applied = await run(['apply', 'plan.json'], sp);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.equal(tagsLeft(acr), EXPECTED_LEFT);
    assert.ok(acr.store.manifest(REPO, release), 'the kept manifest of v1.1.0 (and pr-shared) is still there');
    assert.is(acr.store.manifest(REPO, orphan), undefined);
    assert.ok(acr.registry.requestsTo(`/acr/v1/${REPO}/_tags/pr-shared`, 'DELETE').some((r) => r.status === 202), 'pr-shared was untagged');
    assert.ok(!acr.registry.requestsTo(`/v2/${REPO}/manifests/${release}`, 'DELETE').length, 'the shared manifest was never deleted');
    noSecrets(acr, planned.out + planned.err + applied.out + applied.err);

    const again = await run(['plan', '--detailed-exitcode'], sp);
    assert.is(again.code, 0, again.out + again.err);
  });
});

test('without Azure env the Docker login of `az acr login` (null GUID + refresh token) does the cleanup', async () => {
  await withWorld({ dockerLogin: 'refresh-token' }, async ({ acr, release, run }) => {
    const applied = await run(['apply', '--auto-approve']);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.equal(tagsLeft(acr), EXPECTED_LEFT);
    assert.ok(acr.store.manifest(REPO, release));
    assert.ok(!acr.auth.calls.some((c) => c.includes('aad')), 'no Entra ID call without a service principal');
  });
});

test('a locked tag fails in apply with the unlock hint and stays; everything else is done', async () => {
  await withWorld({}, async ({ acr, sp, run }) => {
    acr.lock(`${REPO}:pr-locked`, { deleteEnabled: false });
    assert.is((await run(['plan', '--out', 'plan.json'], sp)).code, 0);
    const applied = await run(['apply', 'plan.json'], sp);
    assert.is(applied.code, 1);
    const text = applied.out + applied.err;
    assert.match(text, /pr-locked/);
    assert.match(text, 'ACR refuses it because the manifest, one of its tags or the repository is locked');
    assert.match(text, `az acr repository update --name ${acr.host} --image ${REPO}@sha256:`);
    assert.match(text, /1 failed/);
    assert.equal(tagsLeft(acr), ['main-3', 'main-4', 'pr-fresh', 'pr-locked', 'v1.0.0', 'v1.1.0']);
    noSecrets(acr, text);
  });
});

test('with no Azure credentials and no Docker login the plan stops, naming what to set, and nothing is deleted', async () => {
  await withWorld({}, async ({ acr, run }) => {
    const before = tagsLeft(acr);
    const planned = await run(['plan']);
    assert.is(planned.code, 1);
    assert.match(planned.err, `cannot clean up "${acr.host}": the ACR API needs credentials`);
    assert.match(planned.err, 'AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET');
    assert.is(planned.out, '');
    assert.equal(tagsLeft(acr), before);
    assert.equal(acr.registry.requestsTo('/', 'DELETE'), []);
  });
});

test('a wrong client secret fails the plan with Entra ID\'s message, the hint, and no secret', async () => {
  await withWorld({}, async ({ acr, sp, run }) => {
    const wrong = 'not-the-secret-2468';
    const planned = await run(['plan'], { ...sp, AZURE_CLIENT_SECRET: wrong });
    assert.is(planned.code, 1);
    assert.match(planned.err, 'AADSTS7000215');
    assert.match(planned.err, 'AZURE_CLIENT_SECRET');
    assert.not.ok(planned.err.includes(wrong));
    noSecrets(acr, planned.err);
  });
});

test('160+ tags over many /acr/v1 pages: apply deletes every planned one concurrently and the registry holds exactly what was kept', async () => {
  const acr = await startAcrEmulator({ identities: { principals: [{ tenant: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] }, pageSize: 20 });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-acr-paged-'));
  dirs.push(dir);
  try {
    const scenario = seedPagedScenario(acr.store, REPO);
    await writeFile(path.join(dir, 'registry.config.yaml'), pagedScenarioConfig({ host: acr.host, type: 'acr', api: acr.url, repo: REPO }));
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'docker', 'config.json'), '{"auths":{}}');
    const env = { HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGPLAN_CACHE_DIR: path.join(dir, 'cache'), PATH: '/nonexistent', AZURE_CLIENT_ID: CLIENT_ID, AZURE_TENANT_ID: TENANT, AZURE_CLIENT_SECRET: CLIENT_SECRET, AZURE_AUTHORITY_HOST: acr.authorityHost };
    const run = async (argv: string[]) => {
      const io = captureIo(env, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete') as unknown as { tag?: string; digest: string; mode: string }[];
    assert.is(deletes.filter((a) => a.tag !== undefined && a.mode === 'manifest').length, PAGED_DOOMED);
    assert.equal(deletes.filter((a) => a.mode === 'untag').map((a) => a.tag).sort(), scenario.shared);
    assert.equal(deletes.filter((a) => a.tag === undefined).map((a) => a.digest).sort(), [...scenario.orphans].sort());
    const pages = acr.registry.requestsTo(`/acr/v1/${REPO}/_tags`, 'GET').length;
    assert.ok(pages >= 9, `the tag listing spans pages (${pages} requests)`);

    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.match(applied.out, `Apply: ${PAGED_DOOMED + scenario.shared.length + scenario.orphans.length} done, 0 stale, 0 failed.`);
    const left = pagedScenarioLeft(acr.store, REPO, scenario, { untag: true });
    assert.equal(left.tags, left.expectedTags);
    assert.equal(left.doomedLeft, [], 'every planned manifest is gone');
    assert.equal(left.releasesMissing, [], 'every kept release is there, on its manifest');
    assert.ok(acr.store.manifest(REPO, scenario.fresh));
    assert.is(acr.store.manifests(REPO).length, scenario.releases.size + 1, 'releases and the fresh build, nothing else');
    noSecrets(acr, planned.out + planned.err + applied.out + applied.err);
  } finally {
    await acr.stop();
  }
});

test.run();
