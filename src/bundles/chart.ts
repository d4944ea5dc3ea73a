/**
 * `chart: <dir>`: a Helm chart directory packaged as Helm stores charts in a registry (helm push): an OCI image
 * manifest whose config (`application/vnd.cncf.helm.config.v1+json`) is Chart.yaml's metadata as JSON in the
 * field order of Helm's `chart.Metadata`, and whose one layer (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`)
 * is the chart archive with every file under `<chart name>/`, minus what `.helmignore` excludes. Manifest
 * annotations are the ones Helm derives from Chart.yaml (title, version, description, url, source, authors and
 * Chart.yaml's own annotations), then the bundle's; Helm's `created` timestamp is left out, so an unchanged chart
 * packages to the same digest. When the bundle tag is a semver version (Helm writes `+` as `_` in tags), it becomes
 * the chart version, in Chart.yaml inside the archive and in the config; otherwise the chart's version stays.
 */
import * as semver from 'semver';
import { isMap, parseDocument } from 'yaml';
import { RegplanError } from '../errors.ts';
import { MediaType } from '../registry/oci.ts';
import { sha256Digest } from '../registry/digest.ts';
import { listDir, path, readBytes, readTextFile, statPath } from '../runtime.ts';
import { type ArchiveEntry, deterministicGzip, tarArchive } from './archive.ts';
import { parseHelmIgnore, type IgnoreRules } from './helmignore.ts';
import { manifestBytes, type PreparedBundle } from './types.ts';

/** What `packageChart` needs: the chart directory, the bundle tag and extra manifest annotations. */
export interface ChartBundleInput {
  chart: string;
  tag: string;
  annotations?: Readonly<Record<string, string>>;
}

/** Chart.yaml fields as Helm's chart.Metadata declares them, in its JSON field order. */
const METADATA_FIELDS = [
  'name', 'home', 'sources', 'version', 'description', 'keywords', 'maintainers', 'icon', 'apiVersion', 'condition', 'tags',
  'appVersion', 'deprecated', 'annotations', 'kubeVersion', 'dependencies', 'type',
] as const;
const MAINTAINER_FIELDS = ['name', 'email', 'url'] as const;
const DEPENDENCY_FIELDS = ['name', 'version', 'repository', 'condition', 'tags', 'enabled', 'import-values', 'alias'] as const;

/** Deepest directory nesting followed (guards against symlink loops). */
const MAX_DEPTH = 64;

/** Packages a chart directory into a Helm OCI artifact. */
export async function packageChart(input: ChartBundleInput): Promise<PreparedBundle> {
  const dir = input.chart;
  const stat = await statPath(dir);
  if (!stat?.isDirectory) {
    throw new RegplanError(`chart directory "${dir}" ${stat ? 'is not a directory' : 'does not exist'}`, {
      hint: 'chart: takes the path of an unpacked Helm chart (the directory holding Chart.yaml), relative to the config file',
      context: { file: dir },
    });
  }
  const chartFile = path.join(dir, 'Chart.yaml');
  if (!(await statPath(chartFile))?.isFile) {
    throw new RegplanError(`chart directory "${dir}" has no Chart.yaml`, { hint: 'point chart: at the directory that holds Chart.yaml', context: { file: chartFile } });
  }
  const chartText = await readTextFile(chartFile);
  const doc = parseDocument(chartText);
  if (doc.errors.length > 0 || !isMap(doc.contents)) {
    throw new RegplanError(`${chartFile} is not a YAML mapping${doc.errors[0] ? `: ${doc.errors[0].message}` : ''}`, { hint: 'fix Chart.yaml; helm lint shows the problem too', context: { file: chartFile } });
  }
  const metadata = doc.toJS() as Record<string, unknown>;
  const name = metadata['name'];
  const ownVersion = scalarText(metadata['version']);
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || ownVersion === undefined) {
    throw new RegplanError(`${chartFile} needs a name (letters, digits, . _ -) and a version`, { hint: 'Helm requires both; see helm.sh/docs/topics/charts', context: { file: chartFile } });
  }
  const version = chartVersionFor(input.tag) ?? ownVersion;
  let packagedChartYaml = chartText;
  if (version !== ownVersion) {
    doc.set('version', version);
    packagedChartYaml = doc.toString();
  }
  metadata['version'] = version;

  const ignoreText = (await statPath(path.join(dir, '.helmignore')))?.isFile ? await readTextFile(path.join(dir, '.helmignore')) : '';
  const ignore = parseHelmIgnore(ignoreText, path.join(dir, '.helmignore'));
  const entries: ArchiveEntry[] = [];
  for (const relative of await chartFiles(dir, ignore)) {
    const bytes = relative === 'Chart.yaml' ? new TextEncoder().encode(packagedChartYaml) : await readBytes(path.join(dir, relative));
    entries.push({ path: `${name}/${relative}`, bytes });
  }
  const layer = deterministicGzip(tarArchive(entries));
  const config = new TextEncoder().encode(goJson(helmMetadata(metadata)));
  const annotations = sortedRecord({ ...chartAnnotations(metadata), ...(input.annotations ?? {}) });
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.helmConfig, digest: sha256Digest(config), size: config.byteLength },
    layers: [{ mediaType: MediaType.helmChart, digest: sha256Digest(layer), size: layer.byteLength }],
    ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
  };
  const bytes = manifestBytes(manifest);
  return {
    kind: 'chart',
    manifest: { digest: sha256Digest(bytes), mediaType: MediaType.ociManifest, bytes },
    children: [],
    blobs: [
      { digest: manifest.config.digest, size: config.byteLength, mediaType: MediaType.helmConfig, content: { bytes: config } },
      { digest: manifest.layers[0]!.digest, size: layer.byteLength, mediaType: MediaType.helmChart, content: { bytes: layer } },
    ],
  };
}

/** The chart version a tag sets: the tag itself (with Helm's `_` for `+` undone) when it is semver, else undefined. */
export function chartVersionFor(tag: string): string | undefined {
  const candidate = tag.replaceAll('_', '+');
  return semver.valid(candidate) === null ? undefined : candidate;
}

/** Relative paths (forward slashes) of the files to package, sorted; ignored directories are not entered. */
async function chartFiles(root: string, ignore: IgnoreRules): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) {
      throw new RegplanError(`chart directory "${root}" nests deeper than ${MAX_DEPTH} levels at "${relative}"`, { hint: 'a symbolic link probably points at one of its parents; remove it or add it to .helmignore' });
    }
    for (const entry of await listDir(path.join(root, relative))) {
      const child = relative === '' ? entry : `${relative}/${entry}`;
      const stat = await statPath(path.join(root, child));
      if (!stat) continue; // a dangling symbolic link
      if (ignore.ignores(child, stat.isDirectory)) continue;
      if (stat.isDirectory) await walk(child, depth + 1);
      else if (stat.isFile) found.push(child);
    }
  };
  await walk('', 0);
  return found.sort();
}

/** Chart.yaml metadata shaped like Helm's chart.Metadata JSON: its field order, empty values left out. */
function helmMetadata(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of METADATA_FIELDS) {
    const value = source[field];
    if (field === 'maintainers' || field === 'dependencies') {
      const fields = field === 'maintainers' ? MAINTAINER_FIELDS : DEPENDENCY_FIELDS;
      const list = Array.isArray(value) ? value.filter(isRecord).map((item) => pick(item, fields)) : [];
      if (list.length > 0) out[field] = list;
    } else if (field === 'annotations') {
      const record = isRecord(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scalarText(v) ?? ''])) : {};
      if (Object.keys(record).length > 0) out[field] = sortedRecord(record);
    } else if (field === 'sources' || field === 'keywords') {
      const list = Array.isArray(value) ? value.map(scalarText).filter((v): v is string => v !== undefined) : [];
      if (list.length > 0) out[field] = list;
    } else if (field === 'deprecated') {
      if (value === true) out[field] = true;
    } else {
      const text = scalarText(value);
      if (text !== undefined && text !== '') out[field] = text;
    }
  }
  return out;
}

/** The manifest annotations Helm derives from Chart.yaml (without `created`), Chart.yaml's annotations included. */
function chartAnnotations(metadata: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (key: string, value: unknown) => {
    const text = scalarText(value);
    if (text) out[`org.opencontainers.image.${key}`] = text;
  };
  set('description', metadata['description']);
  set('title', metadata['name']);
  set('version', metadata['version']);
  set('url', metadata['home']);
  if (Array.isArray(metadata['sources'])) set('source', metadata['sources'][0]);
  const maintainers = Array.isArray(metadata['maintainers']) ? metadata['maintainers'].filter(isRecord) : [];
  if (maintainers.length > 0) {
    set('authors', maintainers.map((m) => `${scalarText(m['name']) ?? ''}${scalarText(m['email']) ? ` (${scalarText(m['email'])})` : ''}`).join(', '));
  }
  // Chart.yaml's own annotations win over derived ones, except title and version (as in Helm).
  const custom = metadata['annotations'];
  if (isRecord(custom)) {
    for (const [key, value] of Object.entries(custom)) {
      if (key !== 'org.opencontainers.image.title' && key !== 'org.opencontainers.image.version') out[key] = scalarText(value) ?? '';
    }
  }
  return out;
}

function pick(item: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = item[field];
    if (value === undefined || value === null || value === '' || value === false) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    out[field] = typeof value === 'number' ? String(value) : value;
  }
  return out;
}

/** A YAML scalar as Helm's string fields read it (numbers like `appVersion: 1.0` become text). */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const sortedRecord = <T>(record: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** JSON as Go's encoding/json writes it: compact, with <, >, & and U+2028/2029 escaped. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
