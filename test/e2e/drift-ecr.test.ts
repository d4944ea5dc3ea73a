/**
 * `regplan drift` and `regplan export-policy` against the ECR emulator, through the real @aws-sdk/client-ecr:
 * a lifecycle policy that keeps only the newest image would expire release tags regplan keeps (drift, exit 2,
 * each tag with the server rule and regplan's reason); the policy export-policy prints, installed with
 * PutLifecyclePolicy, shows no drift (exit 0) on the same repo; a repo without a policy says so; a missing
 * ecr:GetLifecyclePolicy permission is an error (exit 1) with a hint.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ECRClient, PutLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import { runCli } from '../../src/cli/main.ts';
import type { PolicyExport } from '../../src/export/types.ts';
import { startEcrEmulator, type EcrEmulatorOptions } from '../emulators/ecr.ts';
import { captureIo } from '../support/io.ts';

for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
process.env['AWS_CONFIG_FILE'] = '/nonexistent/regplan-test/aws-config';
process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/regplan-test/aws-credentials';

const REPO = 'acme/app';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

async function world(options: EcrEmulatorOptions = {}) {
  const ecr = await startEcrEmulator(options);
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-drift-ecr-'));
  const seed = (tags: string[], at: Date, more: { platforms?: string[]; content?: string } = {}) => ecr.store.seedImage(REPO, tags, { pushedAt: at, ...more });
  seed([], day(0), { content: 'loose' });
  seed(['v1.0.0'], day(1));
  seed(['v1.1.0', 'pr-shared'], day(2));
  seed(['pr-1'], day(3));
  seed(['main-1'], day(4), { platforms: ['linux/amd64', 'linux/arm64'] });
  seed(['v2.0.0'], day(5));
  seed(['pr-new'], new Date());
  const config = path.join(dir, 'registry.config.yaml');
  await writeFile(config, [
    'version: 1',
    'settings: { grace: 2h }',
    'registries:',
    `  "${ecr.host}": { type: ecr, api: "${ecr.api}" }`,
    'policies:',
    '  ci:',
    "    keep: [{ tags: '^v' }]",
    'repos:',
    `  - repo: ${ecr.host}/${REPO}`,
    '    cleanup: ci',
    '',
  ].join('\n'));
  const dockerConfig = path.join(dir, 'docker');
  await mkdir(dockerConfig);
  await writeFile(path.join(dockerConfig, 'config.json'), '{}');
  const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), AWS_REGION: ecr.region, AWS_ACCESS_KEY_ID: ecr.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: ecr.credentials.secretAccessKey };
  const run = async (...argv: string[]) => {
    const io = captureIo(env, dir);
    const code = await runCli(['-c', config, '--docker-config', dockerConfig, ...argv], io);
    assert.not.ok(io.out().includes(ecr.credentials.secretAccessKey) || io.err().includes(ecr.credentials.secretAccessKey), 'no secret in the output');
    return { code, out: io.out(), err: io.err() };
  };
  const client = new ECRClient({ region: ecr.region, endpoint: ecr.api, credentials: ecr.credentials, maxAttempts: 1 });
  const install = (policy: unknown) => client.send(new PutLifecyclePolicyCommand({ repositoryName: REPO, lifecyclePolicyText: JSON.stringify(policy) }));
  return { ecr, run, install, stop: async () => (await ecr.stop(), await rm(dir, { recursive: true, force: true })) };
}

test('drift: a lifecycle policy keeping only the newest image would expire release tags regplan keeps (exit 2)', async () => {
  const w = await world();
  try {
    await w.install({ rules: [{ rulePriority: 1, description: 'keep one image', selection: { tagStatus: 'tagged', tagPatternList: ['*'], countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] });
    const result = await w.run('drift', '--format', 'json');
    assert.is(result.code, 2, result.err);
    const [repo] = (JSON.parse(result.out) as { repos: { status: string; source: string; drift: { tag?: string; serverRule: string; keptBecause: string }[] }[] }).repos;
    assert.is(repo?.status, 'checked');
    assert.is(repo?.source, 'GetLifecyclePolicy');
    // The newest tagged image (pr-new) survives; every other tagged image expires. regplan deletes pr-1 and main-1
    // (no keep rule), and untags pr-shared; it keeps the v tags: those are the drift.
    assert.equal(repo?.drift.map((d) => d.tag), ['v1.0.0', 'v1.1.0', 'v2.0.0']);
    for (const d of repo?.drift ?? []) {
      assert.match(d.serverRule, /rule 1 \(priority 1, "keep one image": tagged \[\*\], imageCountMoreThan 1\)/);
      assert.match(d.keptBecause, /\^v/);
    }
    const text = await w.run('drift');
    assert.is(text.code, 2);
    assert.match(text.out, /v1\.0\.0 sha256:[0-9a-f]{12}…\s+server: rule 1/);
    assert.match(text.out, /Drift: 3 in 1 repo\./);
  } finally {
    await w.stop();
  }
});

test('drift: without a policy says so (exit 0); the policy export-policy prints, installed, shows no drift (exit 0)', async () => {
  const w = await world();
  try {
    const none = await w.run('drift');
    assert.is(none.code, 0, none.err);
    assert.match(none.out, /no policy installed/);
    const exported = await w.run('export-policy', '--format', 'json');
    assert.is(exported.code, 0, exported.err);
    const [entry] = (JSON.parse(exported.out) as { exports: PolicyExport[] }).exports;
    assert.is(entry?.status, 'exported');
    await w.install(entry?.policy);
    const checked = await w.run('drift');
    assert.is(checked.code, 0, checked.out + checked.err);
    // It does real work: pr-1 and main-1 (older than a day, no keep rule) would go; pr-shared stays with v1.1.0.
    assert.match(checked.out, /no drift \(the installed policy from GetLifecyclePolicy would delete 2, nothing regplan keeps\)/);
    assert.match(checked.out, /No drift\./);
  } finally {
    await w.stop();
  }
});

test('drift: without ecr:GetLifecyclePolicy it fails with exit 1 and names the permission', async () => {
  const w = await world({ deny: ['GetLifecyclePolicy'] });
  try {
    const result = await w.run('drift');
    assert.is(result.code, 1, result.out);
    assert.match(result.err, /GetLifecyclePolicy/);
    assert.match(result.err, /AccessDenied/);
  } finally {
    await w.stop();
  }
});

test.run();
