/**
 * Chart packaging: deterministic digests whatever the files' times and creation order, the archive layout Helm
 * loads (`<name>/...`, .helmignore honoured, read back with GNU tar), the config and annotations Helm writes,
 * and the chart version following a semver tag.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MediaType, type ImageManifest } from '../registry/oci.ts';
import { chartVersionFor, packageChart } from './chart.ts';
import type { PreparedBundle } from './types.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'regplan-chart-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

const CHART_YAML = [
  'apiVersion: v2',
  'name: web',
  '# the version CI overrides with the tag',
  'version: 0.1.0',
  'description: Web <frontend> & API',
  'home: https://example.com/web',
  'sources: [https://github.com/acme/web]',
  'maintainers:',
  '  - name: Ada',
  '    email: ada@example.com',
  '  - name: Bob',
  'appVersion: 1.0',
  'annotations:',
  '  category: web',
  '  org.opencontainers.image.title: not-the-name',
  '',
].join('\n');

const FILES: Record<string, string> = {
  'Chart.yaml': CHART_YAML,
  'values.yaml': 'replicas: 1\n',
  'templates/deployment.yaml': 'kind: Deployment\n',
  'templates/service.yaml': 'kind: Service\n',
  'templates/.editor.swp': 'junk',
  'charts/old.tgz': 'old package',
  'secrets/token': 'do-not-ship',
  'docs/README.md': '# web\n',
  '.helmignore': '# editors and build output\n*.tgz\nsecrets/\n',
};

/** Writes the chart into a fresh directory, files in the given order, every file with the given mtime. */
function writeChart(order: readonly string[], mtime: Date): string {
  const dir = mkdtempSync(path.join(scratch, 'chart-'));
  for (const name of order) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), FILES[name] as string);
    utimesSync(path.join(dir, name), mtime, mtime);
  }
  return dir;
}

/** The message a promise rejects with (the test fails when it resolves). */
async function failure(pending: Promise<unknown>): Promise<string> {
  try {
    await pending;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
}

const manifestOf = (bundle: PreparedBundle) => JSON.parse(new TextDecoder().decode(bundle.manifest.bytes)) as ImageManifest;
const blobBytes = (bundle: PreparedBundle, mediaType: string): Uint8Array => {
  const blob = bundle.blobs.find((b) => b.mediaType === mediaType);
  if (!blob || !('bytes' in blob.content)) throw new Error(`no in-memory ${mediaType} blob`);
  return blob.content.bytes;
};

/** GNU tar's view of the chart layer: file names, and the text of one member. */
function tarView(bundle: PreparedBundle, member?: string): string {
  const file = path.join(scratch, `layer-${Math.random().toString(36).slice(2)}.tgz`);
  writeFileSync(file, blobBytes(bundle, MediaType.helmChart));
  return execFileSync('tar', member === undefined ? ['-tzf', file] : ['-xzOf', file, member], { encoding: 'utf8' });
}

test('the same chart in two directories, written in different orders with different mtimes, has one digest', async () => {
  const names = Object.keys(FILES);
  const first = await packageChart({ chart: writeChart(names, new Date('2020-01-01T00:00:00Z')), tag: '1.4.0' });
  const second = await packageChart({ chart: writeChart([...names].reverse(), new Date('2024-06-30T12:34:56Z')), tag: '1.4.0' });
  assert.is(second.manifest.digest, first.manifest.digest);
  assert.equal(second.blobs.map((b) => b.digest), first.blobs.map((b) => b.digest));
  const other = await packageChart({ chart: writeChart(names, new Date('2020-01-01T00:00:00Z')), tag: '1.4.1' });
  assert.is.not(other.manifest.digest, first.manifest.digest, 'another version is another artifact');
});

test('the layer is the chart under <name>/, without what .helmignore and the templates default exclude', async () => {
  const bundle = await packageChart({ chart: writeChart(Object.keys(FILES), new Date()), tag: 'latest' });
  assert.equal(tarView(bundle).trim().split('\n'), [
    'web/.helmignore', 'web/Chart.yaml', 'web/docs/README.md', 'web/templates/deployment.yaml', 'web/templates/service.yaml', 'web/values.yaml',
  ]);
});

test('a semver tag becomes the chart version in Chart.yaml, the config and the annotations; comments survive', async () => {
  const bundle = await packageChart({ chart: writeChart(Object.keys(FILES), new Date()), tag: '1.4.0-rc.1_build.7' });
  const chartYaml = tarView(bundle, 'web/Chart.yaml');
  assert.match(chartYaml, /^version: 1\.4\.0-rc\.1\+build\.7$/m);
  assert.match(chartYaml, /# the version CI overrides with the tag/);
  const config = JSON.parse(new TextDecoder().decode(blobBytes(bundle, MediaType.helmConfig))) as Record<string, unknown>;
  assert.is(config['version'], '1.4.0-rc.1+build.7');
  assert.is(manifestOf(bundle).annotations?.['org.opencontainers.image.version'], '1.4.0-rc.1+build.7');
});

test('a tag that is not semver leaves Chart.yaml byte for byte and the chart version as written', async () => {
  const bundle = await packageChart({ chart: writeChart(Object.keys(FILES), new Date()), tag: 'stable' });
  assert.is(tarView(bundle, 'web/Chart.yaml'), CHART_YAML);
  assert.is(manifestOf(bundle).annotations?.['org.opencontainers.image.version'], '0.1.0');
  assert.is(chartVersionFor('stable'), undefined);
  assert.is(chartVersionFor('2.0.0'), '2.0.0');
});

test('the config is Chart.yaml as Helm writes chart.Metadata: its field order, strings, Go HTML escaping', async () => {
  const bundle = await packageChart({ chart: writeChart(Object.keys(FILES), new Date()), tag: 'stable' });
  assert.is(
    new TextDecoder().decode(blobBytes(bundle, MediaType.helmConfig)),
    '{"name":"web","home":"https://example.com/web","sources":["https://github.com/acme/web"],"version":"0.1.0",' +
      '"description":"Web \\u003cfrontend\\u003e \\u0026 API","maintainers":[{"name":"Ada","email":"ada@example.com"},{"name":"Bob"}],' +
      '"apiVersion":"v2","appVersion":"1","annotations":{"category":"web","org.opencontainers.image.title":"not-the-name"}}',
  );
});

test('the manifest is an OCI image manifest with Helm media types and annotations, no timestamp, and the bundle annotations', async () => {
  const bundle = await packageChart({ chart: writeChart(Object.keys(FILES), new Date()), tag: '1.4.0', annotations: { 'org.opencontainers.image.source': 'https://example.com/override' } });
  const manifest = manifestOf(bundle);
  assert.is(manifest.mediaType, MediaType.ociManifest);
  assert.is(bundle.manifest.mediaType, MediaType.ociManifest);
  assert.is(manifest.config.mediaType, MediaType.helmConfig);
  assert.equal(manifest.layers.map((l) => l.mediaType), [MediaType.helmChart]);
  assert.equal(manifest.annotations, {
    category: 'web',
    'org.opencontainers.image.authors': 'Ada (ada@example.com), Bob',
    'org.opencontainers.image.description': 'Web <frontend> & API',
    'org.opencontainers.image.source': 'https://example.com/override',
    'org.opencontainers.image.title': 'web',
    'org.opencontainers.image.url': 'https://example.com/web',
    'org.opencontainers.image.version': '1.4.0',
  });
});

test('a directory without Chart.yaml, or none at all, is a clear error', async () => {
  const empty = mkdtempSync(path.join(scratch, 'empty-'));
  assert.match(await failure(packageChart({ chart: empty, tag: '1.0.0' })), /has no Chart\.yaml/);
  assert.match(await failure(packageChart({ chart: path.join(scratch, 'absent'), tag: '1.0.0' })), /chart directory ".*absent" does not exist/);
});

test.run();
