/**
 * Bundles end to end through the CLI, against the real distribution registry (token auth) with skopeo as the
 * independent reader: a Helm chart, an ORAS-style files artifact and a multi-platform image from an OCI layout are
 * planned (`+`), applied, read back with matching digests and media types, and plan as unchanged afterwards.
 * Also: cross-repo mounts, refusal for docker.pkg.github.com before any request, compare-and-push (changed inputs
 * fail, a moved tag is stale), and exporting bundles to an OCI layout that skopeo reads.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../../src/cli/main.ts';
import { planSchemaProblems } from '../../src/plan/planfile.ts';
import type { Plan, PushAction } from '../../src/plan/types.ts';
import { MediaType, type ImageIndex, type ImageManifest } from '../../src/registry/oci.ts';
import { buildTestImage, writeOciLayout, type BuiltImage } from '../harness/layout.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { runSkopeo, seedImage, skopeoInspectRaw } from '../harness/seed.ts';
import { captureIo } from '../support/io.ts';

const sha = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const IMAGE: BuiltImage = buildTestImage({ platforms: ['linux/amd64', 'linux/arm64'], content: 'web 1.4' });

let registry: TestRegistry;
const scratchDirs: string[] = [];

test.before(async () => {
  registry = await startRegistry({ auth: 'token' });
});
test.after(async () => {
  await registry?.stop();
  await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A project directory with a chart, two files and a built image layout, and a config pushing them to `repos`. */
async function project(repos: (host: string) => string): Promise<{ dir: string; run: (...argv: string[]) => Promise<{ code: number; out: string; err: string }> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-bundles-'));
  scratchDirs.push(dir);
  const put = async (name: string, content: string) => {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  };
  await put('charts/web/Chart.yaml', 'apiVersion: v2\nname: web\nversion: 0.1.0\ndescription: The web frontend\n');
  await put('charts/web/values.yaml', 'replicas: 2\n');
  await put('charts/web/templates/deployment.yaml', 'kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n');
  await put('charts/web/.helmignore', '*.tgz\n');
  await put('charts/web/old-0.0.1.tgz', 'stale package');
  await put('dist/docs.tar.gz', 'pretend docs archive\n');
  await put('dist/index.json', '{"pages":3}\n');
  await writeOciLayout(path.join(dir, 'build/layout'), [{ ref: 'web', image: IMAGE }]);
  await put('registry.config.yaml', `version: 1\nrepos:\n${repos(registry.host)}`);
  const run = async (...argv: string[]) => {
    const io = captureIo({ DOCKER_CONFIG: registry.dockerConfigDir, HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, '.cache') }, dir);
    const code = await runCli(argv, io);
    return { code, out: io.out(), err: io.err() };
  };
  return { dir, run };
}

const THREE_BUNDLES = (prefix: string) => (host: string) => `
  - repo: ${host}/${prefix}/charts/web
    bundles:
      - tag: 1.4.0
        chart: ./charts/web
  - repo: ${host}/${prefix}/docs
    bundles:
      - tag: docs-1
        files: [./dist/docs.tar.gz, ./dist/index.json]
        artifactType: application/vnd.acme.docs.v1
        annotations: { org.opencontainers.image.source: https://example.com/docs }
  - repo: ${host}/${prefix}/web
    bundles:
      - tag: '1.4'
        image: oci:./build/layout:web
`;

const pushes = (plan: Plan): PushAction[] => plan.actions.filter((a): a is PushAction => a.type === 'push');

test('plan shows the chart, the files artifact and the multi-platform image as pushes, with a schema-valid plan file', async () => {
  const { run } = await project(THREE_BUNDLES('p1'));
  const human = await run('plan');
  assert.is(human.code, 0, human.err);
  assert.match(human.out, new RegExp(`${registry.host}/p1/charts/web\\n  \\+ 1\\.4\\.0  sha256:[0-9a-f]{12}  new tag  \\[chart, 2 blobs, \\d+ B\\]`));
  assert.match(human.out, /\+ docs-1  sha256:[0-9a-f]{12}  new tag  \[files application\/vnd\.acme\.docs\.v1, 3 blobs, \d+ B\]/);
  assert.match(human.out, /\+ 1\.4  sha256:[0-9a-f]{12}  new tag  \[image, 2 manifests, 4 blobs, \d+ B\]/);
  assert.match(human.out, /Plan: 3 to push, 0 to delete, 0 kept, 0 skipped\.\n$/);
  const json = await run('plan', '--json');
  const plan = JSON.parse(json.out) as Plan;
  assert.equal(planSchemaProblems(plan), []);
  const image = pushes(plan).find((a) => a.tag === '1.4');
  assert.is(image?.digest, IMAGE.descriptor.digest, 'an image from a layout is pushed as built: same digest');
  assert.is(image?.mediaType, MediaType.ociIndex);
  assert.equal(pushes(plan).map((a) => a.source), ['chart', 'files', 'image']);
});

test('apply pushes all three; skopeo reads back the planned digests and media types, and a second plan has no changes', async () => {
  const { run, dir } = await project(THREE_BUNDLES('p2'));
  assert.is((await run('plan', '--out', 'plan.json')).code, 0);
  const plan = JSON.parse(await readFile(path.join(dir, 'plan.json'), 'utf8')) as Plan;
  const applied = await run('apply', 'plan.json');
  assert.is(applied.code, 0, applied.out + applied.err);
  assert.match(applied.out, /Apply: 3 done, 0 stale, 0 failed/);
  assert.equal(applied.out.match(/^pushed /gm)?.length, 3);

  const byTag = new Map(pushes(plan).map((a) => [a.tag, a]));
  const chartRaw = await skopeoInspectRaw(registry, 'p2/charts/web', '1.4.0');
  assert.is(sha(chartRaw), byTag.get('1.4.0')?.digest);
  const chart = JSON.parse(new TextDecoder().decode(chartRaw)) as ImageManifest;
  assert.is(chart.mediaType, MediaType.ociManifest);
  assert.is(chart.config.mediaType, MediaType.helmConfig);
  assert.equal(chart.layers.map((l) => l.mediaType), [MediaType.helmChart]);
  assert.is(chart.annotations?.['org.opencontainers.image.version'], '1.4.0');

  const docsRaw = await skopeoInspectRaw(registry, 'p2/docs', 'docs-1');
  assert.is(sha(docsRaw), byTag.get('docs-1')?.digest);
  const docs = JSON.parse(new TextDecoder().decode(docsRaw)) as ImageManifest;
  assert.is(docs.artifactType, 'application/vnd.acme.docs.v1');
  assert.is(docs.config.mediaType, MediaType.ociEmpty);
  assert.equal(docs.layers.map((l) => l.annotations?.['org.opencontainers.image.title']), ['docs.tar.gz', 'index.json']);
  assert.is(docs.layers[0]?.digest, sha('pretend docs archive\n'));

  const webRaw = await skopeoInspectRaw(registry, 'p2/web', '1.4');
  assert.is(sha(webRaw), IMAGE.descriptor.digest);
  const index = JSON.parse(new TextDecoder().decode(webRaw)) as ImageIndex;
  assert.is(index.mediaType, MediaType.ociIndex);
  assert.equal(index.manifests.map((m) => m.digest), [IMAGE.platformDigests['linux/amd64'], IMAGE.platformDigests['linux/arm64']]);

  // skopeo copies every platform (and the artifacts) out again, digests preserved.
  const out = path.join(dir, 'copied');
  for (const [repo, tag] of [['p2/web', '1.4'], ['p2/docs', 'docs-1'], ['p2/charts/web', '1.4.0']] as const) {
    await runSkopeo(registry, ['copy', '--all', '--preserve-digests', '--quiet', ...registry.skopeoArgs('src'), `docker://${registry.host}/${repo}:${tag}`, `oci:${out}:${tag}`]);
    const layoutIndex = JSON.parse(await readFile(path.join(out, 'index.json'), 'utf8')) as ImageIndex;
    const entry = layoutIndex.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
    assert.is(entry?.digest, byTag.get(tag)?.digest, `${repo}:${tag} copied by skopeo`);
  }

  const again = await run('plan', '--detailed-exitcode');
  assert.is(again.code, 0, 'no changes: exit 0 with --detailed-exitcode');
  assert.match(again.out, /= 1\.4\.0  sha256:[0-9a-f]{12}  kept by: bundle unchanged/);
  assert.match(again.out, /No changes\. 3 kept, 0 skipped\.\n$/);
});

test('a blob another repo of the same registry received in this apply is mounted, not uploaded again', async () => {
  const { run } = await project((host) => `
  - repo: ${host}/p3/charts/web
    bundles:
      - tag: 1.4.0
        chart: ./charts/web
  - repo: ${host}/p3/mirror/web
    bundles:
      - tag: 1.4.0
        chart: ./charts/web
`);
  const applied = await run('--debug', 'apply', '--auto-approve');
  assert.is(applied.code, 0, applied.out + applied.err);
  assert.match(applied.out, /pushed +\S+\/p3\/charts\/web:1\.4\.0: 2 blobs uploaded/);
  assert.match(applied.out, /pushed +\S+\/p3\/mirror\/web:1\.4\.0: 0 blobs uploaded, 2 mounted/);
  assert.match(applied.err, /POST \S+\/v2\/p3\/mirror\/web\/blobs\/uploads\/\?mount=sha256%3A[0-9a-f]{64}&from=p3%2Fcharts%2Fweb/);
  assert.is(sha(await skopeoInspectRaw(registry, 'p3/mirror/web', '1.4.0')), sha(await skopeoInspectRaw(registry, 'p3/charts/web', '1.4.0')));
});

test('docker.pkg.github.com is refused in the plan with its reason, without a single request to it', async () => {
  const { run } = await project((host) => `
  - repo: docker.pkg.github.com/acme/web/charts
    bundles:
      - tag: 1.4.0
        chart: ./charts/web
  - repo: ${host}/p4/docs
    bundles:
      - tag: docs-1
        files: [./dist/index.json]
`);
  const result = await run('--debug', 'plan', '--json');
  assert.is(result.code, 0, result.err);
  const plan = JSON.parse(result.out) as Plan;
  assert.equal(plan.skipped, [{
    repo: 'docker.pkg.github.com/acme/web/charts',
    tag: '1.4.0',
    reason: 'docker.pkg.github.com (the legacy GitHub Docker registry) does not store OCI artifacts; publish bundles to ghcr.io',
  }]);
  assert.equal(pushes(plan).map((a) => a.repo), [`${registry.host}/p4/docs`]);
  assert.not.match(result.err, /docker\.pkg\.github\.com/, 'no request line names the refused host');
  assert.match(result.err, /p4\/docs/, 'debug lines are there for the registry that was asked');
  const human = await run('plan');
  assert.match(human.out, /~ 1\.4\.0  skipped: docker\.pkg\.github\.com \(the legacy GitHub Docker registry\) does not store OCI artifacts/);
  const markdown = await run('plan', '--format', 'markdown');
  assert.match(markdown.out, /\| ⏭ skip \| `1\.4\.0` \| — \| docker\.pkg\.github\.com \(the legacy/);
  assert.match(markdown.out, /\| ➕ push \| `docs-1` \| `sha256:[0-9a-f]{12}` \| new tag \(files application\/vnd\.unknown\.artifact\.v1, 2 blobs, 14 B\) \|/);
});

test('apply refuses a push whose inputs changed since the plan, and leaves a tag that moved meanwhile alone', async () => {
  const { run, dir } = await project(THREE_BUNDLES('p5'));
  assert.is((await run('plan', '--out', 'plan.json')).code, 0);
  await writeFile(path.join(dir, 'dist/index.json'), '{"pages":4}\n');
  const moved = await seedImage(registry, { repo: 'p5/web', tag: '1.4', content: 'pushed by someone else' });
  const applied = await run('apply', 'plan.json');
  assert.is(applied.code, 1);
  assert.match(applied.out, /failed +\S+\/p5\/docs:docs-1: the bundle now packages to sha256:[0-9a-f]{64}, not sha256:[0-9a-f]{64} as planned: its inputs changed since the plan/);
  assert.match(applied.out, /stale +\S+\/p5\/web:1\.4: the tag now points at sha256:[0-9a-f]{64}; at plan time it did not exist/);
  assert.match(applied.out, /pushed +\S+\/p5\/charts\/web:1\.4\.0/);
  assert.is(sha(await skopeoInspectRaw(registry, 'p5/web', '1.4')), moved.digest, 'the moved tag was left alone');
  const docs = await runSkopeo(registry, ['inspect', '--raw', ...registry.skopeoArgs(), `docker://${registry.host}/p5/docs:docs-1`]).catch((e: Error) => e);
  assert.ok(docs instanceof Error, 'nothing was pushed for the changed bundle');
});

test('the OCI layout driver takes pushes: bundles exported to oci: are read by skopeo, and re-plan is unchanged', async () => {
  const { run, dir } = await project(() => `
  - repo: oci:./export
    bundles:
      - tag: chart-1.4.0
        chart: ./charts/web
      - tag: docs-1
        files: [./dist/docs.tar.gz]
      - tag: web-1.4
        image: oci:./build/layout:web
`);
  const json = JSON.parse((await run('plan', '--json')).out) as Plan;
  assert.equal(pushes(json).map((a) => `${a.repo} ${a.tag} ${a.reason}`), ['oci:./export chart-1.4.0 new tag', 'oci:./export docs-1 new tag', 'oci:./export web-1.4 new tag']);
  const applied = await run('apply', '--auto-approve');
  assert.is(applied.code, 0, applied.out + applied.err);
  for (const action of pushes(json)) {
    const raw = await runSkopeo(registry, ['inspect', '--raw', `oci:${path.join(dir, 'export')}:${action.tag}`]);
    assert.is(sha(raw.stdout), action.digest, action.tag);
  }
  const copied = path.join(dir, 'copied');
  await runSkopeo(registry, ['copy', '--all', '--preserve-digests', '--quiet', `oci:${path.join(dir, 'export')}:web-1.4`, `oci:${copied}:web`]);
  const again = await run('plan');
  assert.match(again.out, /No changes\. 3 kept, 0 skipped\./);
});

test.run();
