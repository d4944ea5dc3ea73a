/**
 * AWS ECR cleanup end to end, in process through runCli, against the ECR emulator driven by the real
 * @aws-sdk/client-ecr: plan lists through DescribeImages with push times, apply untags a tag that shares its
 * image with a kept tag (BatchDeleteImage by tag), deletes the rest by digest, and deletes old untagged images but
 * never the children of a kept index. The Registry API reads go through the GetAuthorizationToken login (no
 * Docker login). Also: an untag whose kept partner moved since the plan is refused (ECR would delete the image
 * with its last tag), missing AWS credentials stop the plan, a missing IAM permission fails apply with a hint,
 * and no secret shows in any output or plan file.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { planSchemaProblems } from '../../src/plan/planfile.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startEcrEmulator, type EcrEmulatorOptions } from '../emulators/ecr.ts';
import { captureIo } from '../support/io.ts';
import { PAGED_DOOMED, pagedScenarioConfig, pagedScenarioLeft, seedPagedScenario } from '../support/paged-cleanup-scenario.ts';

// The SDK's default credential chain reads this process's environment and files: keep it hermetic (and away
// from the instance metadata service, which is not on loopback).
for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
process.env['AWS_CONFIG_FILE'] = '/nonexistent/regplan-test/aws-config';
process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/regplan-test/aws-credentials';

const REPO = 'acme/app';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

/** The emulator seeded with releases, PR builds (one sharing a release's image), indexes, and an old untagged image. */
async function world(options: { emulator?: EcrEmulatorOptions; awsEnv?: boolean } = {}) {
  const ecr = await startEcrEmulator(options.emulator ?? {});
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-ecr-e2e-'));
  const seed = (tags: string[], at: Date, more: { platforms?: string[]; content?: string } = {}) => ecr.store.seedImage(REPO, tags, { pushedAt: at, ...more });
  const images = {
    loose: seed([], day(0), { content: 'loose' }),
    v100: seed(['v1.0.0'], day(1)),
    v110: seed(['v1.1.0', 'pr-shared'], day(2)),
    pr1: seed(['pr-1'], day(3)),
    pr2: seed(['pr-2'], day(4), { platforms: ['linux/amd64', 'linux/arm64'] }),
    dup: seed(['pr-dup-a', 'pr-dup-b'], day(5)),
    main: seed(['main-1'], day(6)),
    v200: seed(['v2.0.0'], day(7), { platforms: ['linux/amd64', 'linux/arm64'] }),
    fresh: seed(['pr-new'], new Date()),
  };
  const config = path.join(dir, 'registry.config.yaml');
  await writeFile(
    config,
    [
      'version: 1',
      'settings: { grace: 2h }',
      'registries:',
      `  "${ecr.host}": { type: ecr, api: "${ecr.api}" }`,
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v' }]",
      "    delete: { tags: '^pr-' }",
      '    untagged: delete',
      'repos:',
      `  - repo: ${ecr.host}/${REPO}`,
      '    cleanup: ci',
      '',
    ].join('\n'),
  );
  const dockerConfig = path.join(dir, 'docker');
  await mkdir(dockerConfig);
  await writeFile(path.join(dockerConfig, 'config.json'), '{}'); // no Docker login: the ECR login comes from GetAuthorizationToken
  const aws = { AWS_ACCESS_KEY_ID: ecr.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: ecr.credentials.secretAccessKey, AWS_REGION: ecr.region };
  const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), AWS_REGION: ecr.region, ...(options.awsEnv === false ? {} : aws) };
  const secrets = [ecr.credentials.secretAccessKey, ecr.registryPassword];
  const run = async (...argv: string[]) => {
    const io = captureIo(env, dir);
    const code = await runCli(['-c', config, '--docker-config', dockerConfig, ...argv], io);
    for (const secret of secrets) assert.not.ok(io.out().includes(secret) || io.err().includes(secret), 'no secret in the output');
    return { code, out: io.out(), err: io.err() };
  };
  const tags = () => ecr.store.tags(REPO).map((t) => t.tag);
  return { ecr, dir, images, run, tags, secrets, stop: async () => (await ecr.stop(), await rm(dir, { recursive: true, force: true })) };
}

test('plan lists through DescribeImages; apply untags the shared tag, deletes the rest and old untagged images, and keeps kept content', async () => {
  const w = await world();
  try {
    const planned = await w.run('plan', '--json', '--out', 'plan.json');
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    assert.equal(planSchemaProblems(plan), []);
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    assert.equal(deletes.filter((a) => a.tag !== undefined).map((a) => a.tag).sort(), ['pr-1', 'pr-2', 'pr-dup-a', 'pr-dup-b', 'pr-shared']);
    assert.equal(deletes.filter((a) => a.tag === undefined).map((a) => a.digest), [w.images.loose.digest], 'only the loose untagged image; index children wait');
    const shared = deletes.find((a) => a.tag === 'pr-shared');
    assert.is(shared?.mode, 'untag');
    assert.match(shared?.reason ?? '', `shares manifest ${w.images.v110.digest} with kept tag v1.1.0, so only the tag is removed`);
    assert.match(deletes.find((a) => a.tag === 'pr-1')?.reason ?? '', /pushed \d+d ago/); // ECR's imagePushedAt, not unknown
    assert.equal(plan.skipped, []);
    const planFile = await readFile(path.join(w.dir, 'plan.json'), 'utf8');
    for (const secret of w.secrets) assert.not.ok(planFile.includes(secret));
    assert.ok(w.ecr.callsTo('DescribeImages').length >= 2, 'tagged and untagged listings');
    assert.ok(w.ecr.callsTo('GetAuthorizationToken').length >= 1, 'the Registry API login came from GetAuthorizationToken');

    const human = await w.run('plan');
    assert.match(human.out, /- pr-shared .*\[untag only\]/);
    assert.match(human.out, /Plan: 0 to push, 6 to delete, 5 kept, 0 skipped\./);

    const applied = await w.run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, /Apply: 6 done, 0 stale, 0 failed\./);
    assert.equal(w.tags(), ['main-1', 'pr-new', 'v1.0.0', 'v1.1.0', 'v2.0.0']);
    assert.ok(w.ecr.store.manifest(REPO, w.images.v110.digest), 'the image pr-shared shared with v1.1.0 stays');
    assert.is(w.ecr.store.resolve(REPO, 'v1.1.0')?.digest, w.images.v110.digest);
    for (const gone of [w.images.pr1, w.images.pr2, w.images.dup, w.images.loose]) assert.is(w.ecr.store.manifest(REPO, gone.digest), undefined);
    for (const child of Object.values(w.images.v200.platformDigests)) assert.ok(w.ecr.store.manifest(REPO, child), 'children of the kept index stay');
    const deleteCalls = w.ecr.callsTo('BatchDeleteImage');
    const sent = deleteCalls.flatMap((c) => c.body['imageIds'] as Record<string, string>[]);
    assert.ok(sent.some((id) => id['imageTag'] === 'pr-shared' && id['imageDigest'] === undefined), 'the shared tag went by tag');
    assert.not.ok(sent.some((id) => id['imageDigest'] === w.images.v110.digest), 'never the shared image by digest');
    assert.ok(deleteCalls.every((c) => c.status === 200));

    // The deleted index left its children as untagged images: the next run deletes them, then nothing is left to do.
    const next = await w.run('apply', '--auto-approve');
    assert.is(next.code, 0, next.out + next.err);
    for (const child of Object.values(w.images.pr2.platformDigests)) assert.is(w.ecr.store.manifest(REPO, child), undefined);
    for (const child of Object.values(w.images.v200.platformDigests)) assert.ok(w.ecr.store.manifest(REPO, child));
    const settled = await w.run('plan', '--detailed-exitcode');
    assert.is(settled.code, 0, settled.out + settled.err);
  } finally {
    await w.stop();
  }
});

test('an untag whose kept partner moved since the plan is refused, and the image keeps its last tag', async () => {
  const w = await world();
  try {
    assert.is((await w.run('plan', '--out', 'plan.json')).code, 0);
    const elsewhere = w.ecr.store.manifest(REPO, w.images.v100.digest);
    w.ecr.store.putManifest(REPO, 'v1.1.0', elsewhere?.bytes ?? new Uint8Array(), elsewhere?.mediaType ?? ''); // v1.1.0 re-pointed
    const applied = await w.run('apply', 'plan.json');
    // Stale, not failed: the registry changed since the plan, which is reported and does not fail the run.
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, `stale        ${w.ecr.host}/${REPO}:pr-shared: "pr-shared" is now the last tag on ${w.images.v110.digest}`);
    assert.match(applied.out, /Apply: \d+ done, 1 stale, 0 failed/);
    assert.equal(w.ecr.store.tagsOf(REPO, w.images.v110.digest), ['pr-shared']);
    assert.is(w.ecr.store.manifest(REPO, w.images.pr1.digest), undefined, 'the other actions still ran');
  } finally {
    await w.stop();
  }
});

test('without AWS credentials the plan stops with the chain to set, before any ECR call', async () => {
  const w = await world({ awsEnv: false });
  try {
    const planned = await w.run('plan');
    assert.is(planned.code, 1);
    assert.match(planned.err, `no AWS credentials for ECR DescribeImages on "${w.ecr.host}/${REPO}"`);
    assert.match(planned.err, 'export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    assert.is(planned.out, '');
    assert.is(w.ecr.apiCalls.length, 0);
  } finally {
    await w.stop();
  }
});

test('without ecr:BatchDeleteImage apply reports each failed delete with the IAM hint and deletes nothing', async () => {
  const w = await world({ emulator: { deny: ['BatchDeleteImage'] } });
  try {
    const before = w.tags();
    const applied = await w.run('apply', '--auto-approve');
    assert.is(applied.code, 1, applied.out + applied.err);
    assert.match(applied.out + applied.err, 'not authorized to perform: ecr:BatchDeleteImage');
    assert.match(applied.out + applied.err, 'allow ecr:DescribeImages, ecr:ListImages, ecr:BatchDeleteImage');
    assert.match(applied.out, /Apply: 0 done, 0 stale, 6 failed\./);
    assert.equal(w.tags(), before);
  } finally {
    await w.stop();
  }
});

test('160+ tags over several DescribeImages pages: apply deletes every planned image in batches and ECR holds exactly what was kept', async () => {
  const ecr = await startEcrEmulator({ pageLimit: 40 }); // ECR may answer fewer than maxResults per page
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-ecr-paged-'));
  try {
    const scenario = seedPagedScenario(ecr.store, REPO);
    const config = path.join(dir, 'registry.config.yaml');
    await writeFile(config, pagedScenarioConfig({ host: ecr.host, type: 'ecr', api: ecr.api, repo: REPO }));
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'docker', 'config.json'), '{}');
    const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), AWS_REGION: ecr.region, AWS_ACCESS_KEY_ID: ecr.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: ecr.credentials.secretAccessKey };
    const run = async (...argv: string[]) => {
      const io = captureIo(env, dir);
      const code = await runCli(['-c', config, '--docker-config', path.join(dir, 'docker'), ...argv], io);
      assert.not.ok(`${io.out()}${io.err()}`.includes(ecr.credentials.secretAccessKey));
      return { code, out: io.out(), err: io.err() };
    };
    const planned = await run('plan', '--json', '--out', 'plan.json');
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    assert.is(deletes.filter((a) => a.tag !== undefined && a.mode === 'manifest').length, PAGED_DOOMED);
    assert.equal(deletes.filter((a) => a.mode === 'untag').map((a) => a.tag).sort(), scenario.shared);
    assert.equal(deletes.filter((a) => a.tag === undefined).map((a) => a.digest).sort(), [...scenario.orphans].sort());
    const tagged = ecr.callsTo('DescribeImages').filter((c) => (c.body['filter'] as { tagStatus?: string } | undefined)?.tagStatus === 'TAGGED');
    assert.ok(tagged.length >= 5, `DescribeImages TAGGED spans pages (${tagged.length} calls)`);
    assert.ok(tagged.some((c) => typeof c.body['nextToken'] === 'string'), 'later pages asked with nextToken');

    const applied = await run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, `Apply: ${PAGED_DOOMED + scenario.shared.length + scenario.orphans.length} done, 0 stale, 0 failed.`);
    const left = pagedScenarioLeft(ecr.store, REPO, scenario, { untag: true });
    assert.equal(left.tags, left.expectedTags);
    assert.equal(left.doomedLeft, [], 'every planned image is gone');
    assert.equal(left.releasesMissing, [], 'every kept release is there, on its image');
    assert.is(ecr.store.manifests(REPO).length, scenario.releases.size + 1, 'releases and the fresh build, nothing else');
    const batches = ecr.callsTo('BatchDeleteImage');
    assert.ok(batches.every((c) => c.status === 200 && (c.body['imageIds'] as unknown[]).length <= 100));
    assert.ok(batches.some((c) => (c.body['imageIds'] as unknown[]).length > 1), 'concurrent deletes went out together');
  } finally {
    await ecr.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
