/**
 * Generates examples/demo-layout/: the small OCI image layout that the shipped registry.config.yaml points at
 * (`oci:./examples/demo-layout`) and that `npm run demo` plans and applies on a temporary copy of.
 *
 * Run: ./node_modules/.bin/node examples/make-demo-layout.ts [dir]
 *
 * The output is byte-for-byte deterministic (fixed contents, fixed times, uncompressed tar layers), so
 * regenerating it leaves git clean. It is written through regplan's own OciLayout store, and the tests check that
 * skopeo reads it.
 *
 * Times: policies such as `pushedWithin` and `grace` are relative to now, so every image has a fixed build time
 * between 2026-01 and 2026-10, far enough back that the demo's plan only changes when a rule measured in months
 * crosses one of them.
 *
 * What is inside (one repo, `oci:` layouts have no repo names):
 * - releases v1.0.0, v1.1.0, v1.2.0, v1.2.1, v2.0.0-rc.1 and v2.0.0 (a two-platform index, also `latest`)
 * - five main-<sha7> builds; main-5d6e7f8 is the build released as v1.2.1, main-3e4f5a6 the one released as v2.0.0
 * - pr-101 … pr-104 (pr-104 shares its digest with main-0f1e2d3) and branch-feature-x
 * - a cosign-style signature tag sha256-<hex of v2.0.0>.sig (no build time, as cosign writes it)
 * - one untagged manifest (an old build whose tag moved on)
 * Some manifests carry `org.opencontainers.image.created`, some only the config's `created`: both are read.
 */
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OciLayout } from '../src/layout/store.ts';
import { CREATED_ANNOTATION, type Descriptor, MediaType } from '../src/registry/oci.ts';

const LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
const COSIGN_PAYLOAD = 'application/vnd.dev.cosign.simplesigning.v1+json';
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

/** A one-file ustar archive with fixed owner, mode and time: the layer of a demo image. */
function tarOf(name: string, content: string, mtime: number): Uint8Array {
  const data = encode(content);
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(encode(text), offset);
  const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, '0')}\0`;
  put(0, name);
  put(100, octal(0o644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(data.length, 12));
  put(136, octal(mtime, 12));
  put(148, '        ');
  put(156, '0');
  put(257, 'ustar\0');
  put(263, '00');
  put(265, 'root');
  put(297, 'root');
  put(148, `${header.reduce((sum, byte) => sum + byte, 0).toString(8).padStart(6, '0')}\0 `);
  const padded = Math.ceil(data.length / 512) * 512;
  const archive = new Uint8Array(512 + padded + 1024);
  archive.set(header, 0);
  archive.set(data, 512);
  return archive;
}

interface Build {
  version: string;
  created: string;
  /** Whether the manifest carries the created annotation (else only the config has the time). */
  annotate: boolean;
  arch?: 'amd64' | 'arm64';
}

/** Stores one single-platform image and returns its manifest descriptor (not yet in index.json unless tagged). */
async function putImage(layout: OciLayout, build: Build, options: { tag?: string; child?: boolean } = {}): Promise<Descriptor> {
  const arch = build.arch ?? 'amd64';
  const mtime = Math.floor(Date.parse(build.created) / 1000);
  const layer = tarOf('app/version.txt', `demo app ${build.version} (${arch})\n`, mtime);
  const layerDesc = { mediaType: LAYER_TAR, ...(await layout.putBlob(layer)) };
  const config = {
    created: build.created,
    architecture: arch,
    os: 'linux',
    config: { Cmd: ['/app/run'], Labels: { 'org.opencontainers.image.version': build.version } },
    rootfs: { type: 'layers', diff_ids: [layerDesc.digest] },
    history: [{ created: build.created, created_by: 'regplan demo generator' }],
  };
  const configDesc = { mediaType: MediaType.ociConfig, ...(await layout.putBlob(encode(config))) };
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers: [layerDesc],
    ...(build.annotate ? { annotations: { [CREATED_ANNOTATION]: build.created } } : {}),
  };
  return layout.putManifest(encode(manifest), MediaType.ociManifest, options);
}

/** Stores a two-platform index whose children are not listed in index.json on their own. */
async function putIndex(layout: OciLayout, version: string, created: string, tag: string): Promise<Descriptor> {
  const children: Descriptor[] = [];
  for (const arch of ['amd64', 'arm64'] as const) {
    const child = await putImage(layout, { version, created, annotate: false, arch }, { child: true });
    children.push({ mediaType: child.mediaType, digest: child.digest, size: child.size, platform: { architecture: arch, os: 'linux' } });
  }
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: children, annotations: { [CREATED_ANNOTATION]: created } };
  return layout.putManifest(encode(index), MediaType.ociIndex, { tag });
}

/** A cosign-style signature manifest for `subject`, tagged `sha256-<hex>.sig`. */
async function putSignature(layout: OciLayout, subject: Descriptor): Promise<Descriptor> {
  const payload = {
    critical: { identity: { 'docker-reference': 'registry.example.com/demo/app' }, image: { 'docker-manifest-digest': subject.digest }, type: 'cosign container image signature' },
    optional: null,
  };
  const payloadDesc = await layout.putBlob(encode(payload));
  const config = { architecture: '', created: '0001-01-01T00:00:00Z', os: '', rootfs: { type: 'layers', diff_ids: [payloadDesc.digest] }, config: {} };
  const configDesc = { mediaType: MediaType.ociConfig, ...(await layout.putBlob(encode(config))) };
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers: [{ mediaType: COSIGN_PAYLOAD, ...payloadDesc, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQDdemoNOTAREALSIGNATUREdemoNOTAREALSIGNATUREdemo0123456789=' } }],
  };
  return layout.putManifest(encode(manifest), MediaType.ociManifest, { tag: `${subject.digest.replace(':', '-')}.sig` });
}

/** Writes the demo layout into `dir`, replacing whatever was there. */
export async function makeDemoLayout(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const layout = await OciLayout.create(dir);
  const image = (version: string, created: string, annotate = true): Build => ({ version, created, annotate });
  const tagAll = async (build: Build, tags: string[]) => {
    for (const tag of tags) await putImage(layout, build, { tag });
  };
  await putImage(layout, image('0.9.0', '2026-01-05T09:00:00Z')); // untagged: its tag moved on long ago
  await tagAll(image('1.0.0', '2026-01-12T10:15:00Z'), ['v1.0.0']);
  await tagAll(image('1.1.0', '2026-02-16T14:02:00Z', false), ['v1.1.0']);
  await tagAll(image('1.2.0', '2026-03-30T08:45:00Z'), ['v1.2.0']);
  await tagAll(image('main-1a2b3c4', '2026-04-21T16:20:00Z'), ['main-1a2b3c4']);
  await tagAll(image('1.2.1', '2026-05-11T11:00:00Z'), ['main-5d6e7f8', 'v1.2.1']);
  await tagAll(image('pr-101', '2026-05-25T13:30:00Z', false), ['pr-101']);
  await tagAll(image('pr-102', '2026-06-09T07:55:00Z'), ['pr-102']);
  await tagAll(image('2.0.0-rc.1', '2026-07-01T12:00:00Z'), ['v2.0.0-rc.1']);
  await tagAll(image('main-9a8b7c6', '2026-07-14T15:40:00Z'), ['main-9a8b7c6']);
  const release = await putIndex(layout, '2.0.0', '2026-08-03T10:00:00Z', 'main-3e4f5a6');
  for (const tag of ['v2.0.0', 'latest']) await putIndex(layout, '2.0.0', '2026-08-03T10:00:00Z', tag);
  await putSignature(layout, release);
  await tagAll(image('pr-103', '2026-09-02T09:25:00Z'), ['pr-103']);
  await tagAll(image('branch-feature-x', '2026-09-18T17:05:00Z'), ['branch-feature-x']);
  await tagAll(image('main-0f1e2d3', '2026-10-06T12:30:00Z'), ['main-0f1e2d3', 'pr-104']);
  const garbage = await layout.garbageCollect();
  if (garbage.removed.length > 0) throw new Error(`demo generator left unreachable blobs: ${garbage.removed.join(', ')}`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'demo-layout');
  await makeDemoLayout(dir);
  console.log(`wrote ${dir}`);
}
