/**
 * The `inUse` rule against a fake Kubernetes API server (test/emulators/kubernetes.ts): which images a cluster's
 * workloads use (pods, templates, init containers, running digests, several chunks per list), and a plan on the
 * real distribution registry that keeps an image used only by a CronJob template — by tag and by digest.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/main.ts';
import { RegplanError } from '../../errors.ts';
import { fakeKubeconfig, podSpec, startFakeKubernetes, type FakeObject } from '../../../test/emulators/kubernetes.ts';
import { startRegistry } from '../../../test/harness/registry.ts';
import { seedImage, skopeoListTags } from '../../../test/harness/seed.ts';
import { captureIo } from '../../../test/support/io.ts';
import { KUBERNETES_PAGE_SIZE, readKubernetesImages } from './kubernetes.ts';
import { readInUse } from './index.ts';

const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-inuse-'));
  dirs.push(dir);
  return dir;
}

const DIGEST = `sha256:${'d'.repeat(64)}`;

test('reads pods (containers, init containers, running digests) and every workload template, over several chunks', async () => {
  const pods: FakeObject[] = Array.from({ length: KUBERNETES_PAGE_SIZE * 2 + 3 }, (_, i) => ({ kind: 'Pod', namespace: 'web', name: `p${i}`, spec: podSpec([`nginx:1.${i}`]) }));
  pods.push({ kind: 'Pod', namespace: 'web', name: 'runner', spec: podSpec(['ghcr.io/acme/api:v1'], ['busybox']), status: { containerStatuses: [{ image: 'ghcr.io/acme/api:v1', imageID: `docker-pullable://ghcr.io/acme/api@${DIGEST}` }] } });
  const fake = await startFakeKubernetes([
    ...pods,
    { kind: 'Deployment', namespace: 'shop', name: 'api', spec: { template: { spec: podSpec(['ghcr.io/acme/api:v2']) } } },
    { kind: 'ReplicaSet', namespace: 'shop', name: 'api-old', spec: { template: { spec: podSpec(['ghcr.io/acme/api:v0']) } } },
    { kind: 'StatefulSet', namespace: 'db', name: 'pg', spec: { template: { spec: podSpec(['postgres:16']) } } },
    { kind: 'DaemonSet', namespace: 'sys', name: 'agent', spec: { template: { spec: podSpec(['ghcr.io/acme/agent:3']) } } },
    { kind: 'Job', namespace: 'jobs', name: 'migrate', spec: { template: { spec: podSpec(['ghcr.io/acme/migrate:7']) } } },
    { kind: 'CronJob', namespace: 'jobs', name: 'nightly', spec: { jobTemplate: { spec: { template: { spec: podSpec(['ghcr.io/acme/report:9']) } } } } },
  ]);
  try {
    const dir = await tempDir();
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfig, fakeKubeconfig(fake));
    const images = await readKubernetesImages({ kind: 'kubernetes', kubeconfig }, { env: {} });
    const byImage = new Map(images.map((i) => [i.image, i.by]));
    assert.is(byImage.get('nginx:1.502'), 'Pod web/p502', 'the third chunk of pods was read');
    assert.is(byImage.get('busybox'), 'Pod web/runner', 'init containers count');
    assert.is(byImage.get(`ghcr.io/acme/api@${DIGEST}`), 'Pod web/runner', 'the digest the pod runs counts');
    for (const [image, by] of [['ghcr.io/acme/api:v2', 'Deployment shop/api'], ['ghcr.io/acme/api:v0', 'ReplicaSet shop/api-old'], ['postgres:16', 'StatefulSet db/pg'], ['ghcr.io/acme/agent:3', 'DaemonSet sys/agent'], ['ghcr.io/acme/migrate:7', 'Job jobs/migrate'], ['ghcr.io/acme/report:9', 'CronJob jobs/nightly']] as const) {
      assert.is(byImage.get(image), by, image);
    }
    const podPages = fake.requests.filter((r) => r.startsWith('GET /api/v1/pods'));
    assert.is(podPages.length, 3, podPages.join('\n'));
    assert.match(podPages[1] ?? '', 'continue=');
  } finally {
    await fake.stop();
  }
});

test('a source that cannot be read stops with an error naming it: unknown context, RBAC refusal, bad file line, failing command', async () => {
  const fake = await startFakeKubernetes([], { forbidden: ['CronJob'] });
  try {
    const dir = await tempDir();
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfig, fakeKubeconfig(fake, ['prod', 'staging']));
    const context = await readInUse({ kind: 'kubernetes', kubeconfig, context: 'prd' }, { cwd: dir, env: {}, where: 'registry.config.yaml:9:9' }).catch((e: unknown) => e);
    assert.instance(context, RegplanError);
    assert.match((context as RegplanError).message, 'inUse: cannot read kubernetes context prd (inUse rule at registry.config.yaml:9:9): the kubeconfig has no context "prd"');
    assert.match((context as RegplanError).hint ?? '', 'its contexts: prod, staging');
    const refused = await readInUse({ kind: 'kubernetes', kubeconfig }, { cwd: dir, env: {} }).catch((e: unknown) => e);
    assert.match((refused as RegplanError).message, 'listing CronJobs was refused (HTTP 403)');
    assert.not.match(`${(refused as RegplanError).message} ${(refused as RegplanError).hint}`, fake.token);
    await writeFile(path.join(dir, 'running.txt'), 'ghcr.io/acme/api:v1\n# comment\nnot an image!\n');
    const file = await readInUse({ kind: 'file', file: path.join(dir, 'running.txt') }, { cwd: dir, env: {} }).catch((e: unknown) => e);
    assert.match((file as RegplanError).message, /running.txt:3: "not an image!" is not an image reference/);
    const command = await readInUse({ kind: 'command', argv: ['sh', '-c', 'echo nope >&2; exit 3'] }, { cwd: dir, env: { PATH: process.env['PATH'] } }).catch((e: unknown) => e);
    assert.match((command as RegplanError).message, 'inUse: cannot read command sh -c echo nope >&2; exit 3: it exited with code 3: nope');
    const ok = await readInUse({ kind: 'command', argv: ['printf', 'nginx\\nghcr.io/acme/api:v1\\n'] }, { cwd: dir, env: { PATH: process.env['PATH'] } });
    assert.equal(ok, [{ image: 'nginx', by: 'output of printf:1' }, { image: 'ghcr.io/acme/api:v1', by: 'output of printf:2' }]);
  } finally {
    await fake.stop();
  }
});

test('plan on the real registry: an image used only by a CronJob template is kept, by tag and by digest; the rest goes', async () => {
  const registry = await startRegistry({ auth: 'none' });
  const dir = await tempDir();
  try {
    const created = new Date('2025-01-01T00:00:00Z');
    for (const tag of ['pr-5', 'pr-7']) await seedImage(registry, { repo: 'acme/app', tag, created, content: tag });
    const six = await seedImage(registry, { repo: 'acme/app', tag: 'pr-6', created, content: 'pr-6' });
    const fake = await startFakeKubernetes([
      { kind: 'CronJob', namespace: 'jobs', name: 'nightly', spec: { jobTemplate: { spec: { template: { spec: podSpec([`${registry.host}/acme/app:pr-5`]) } } } } },
      { kind: 'CronJob', namespace: 'jobs', name: 'weekly', spec: { jobTemplate: { spec: { template: { spec: podSpec([`${registry.host}/acme/app@${six.digest}`]) } } } } },
    ]);
    try {
      await writeFile(path.join(dir, 'kubeconfig'), fakeKubeconfig(fake));
      await writeFile(path.join(dir, 'registry.config.yaml'), [
        'version: 1',
        'policies:',
        '  ci:',
        '    keep:',
        '      - inUse: { kubernetes: { kubeconfig: ./kubeconfig } }',
        "    delete: { tags: '^pr-' }",
        'repos:',
        `  - repo: ${registry.host}/acme/app`,
        '    cleanup: ci',
        '',
      ].join('\n'));
      const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), DOCKER_CONFIG: registry.dockerConfigDir };
      const io = captureIo(env, dir);
      assert.is(await runCli(['plan', '--json'], io), 0, io.err());
      const plan = JSON.parse(io.out()) as { actions: { tag?: string }[]; kept: { tag: string; rules: string[] }[] };
      assert.equal(plan.actions.map((a) => a.tag), ['pr-7']);
      assert.equal(plan.kept.map((k) => [k.tag, k.rules]), [['pr-5', ['inUse: CronJob jobs/nightly']], ['pr-6', ['inUse: CronJob jobs/weekly']]]);
      const applied = captureIo(env, dir);
      assert.is(await runCli(['apply', '--auto-approve'], applied), 0, applied.err());
      assert.equal((await skopeoListTags(registry, 'acme/app')).sort(), ['pr-5', 'pr-6']);
    } finally {
      await fake.stop();
    }
  } finally {
    await registry.stop();
  }
});

test.run();
