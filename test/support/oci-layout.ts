/**
 * Test support for OCI layouts: temp copies of the demo layout (tests never touch the committed one), small
 * images built through the store, and skopeo as the independent client that checks what the store wrote.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OciLayout } from '../../src/layout/store.ts';
import { CREATED_ANNOTATION, type Descriptor, MediaType } from '../../src/registry/oci.ts';

/** The committed demo layout. */
export const DEMO_LAYOUT = fileURLToPath(new URL('../../examples/demo-layout', import.meta.url));

const made: string[] = [];

/** A fresh temp directory (removed by `removeTempDirs`). */
export async function tempDir(prefix = 'regplan-layout-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A temp copy of the demo layout. */
export async function copyDemoLayout(): Promise<string> {
  const dir = path.join(await tempDir(), 'layout');
  await cp(DEMO_LAYOUT, dir, { recursive: true });
  return dir;
}

/** Removes every temp directory this process made. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Every blob digest in a layout, sorted. */
export async function blobDigests(dir: string): Promise<string[]> {
  const names = await readdir(path.join(dir, 'blobs', 'sha256'));
  return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`).sort();
}

/** Runs skopeo; resolves with exit code and output (never rejects on a non-zero exit). */
export function skopeo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('skopeo', ['--insecure-policy', ...args], { encoding: 'buffer', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout: stdout.toString('latin1'), stderr: stderr.toString() });
    });
  });
}

/** The digest skopeo computes from the raw manifest it reads for `oci:<dir>:<tag>`, or undefined when it cannot read it. */
export async function skopeoDigest(dir: string, tag: string): Promise<string | undefined> {
  const result = await skopeo(['inspect', '--raw', `oci:${dir}:${tag}`]);
  if (result.code !== 0) return undefined;
  return `sha256:${createHash('sha256').update(Buffer.from(result.stdout, 'latin1')).digest('hex')}`;
}

/** JSON as bytes. */
export const jsonBytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** What `putTestImage` stored. */
export interface TestImage {
  manifest: Descriptor;
  config: Descriptor;
  layer: Descriptor;
}

/** Stores a one-layer image (layer bytes are `content`) with optional times; tagged when `tag` is given. */
export async function putTestImage(
  layout: OciLayout,
  content: string,
  options: { tag?: string; child?: boolean; configCreated?: string; annotationCreated?: string; subject?: Descriptor } = {},
): Promise<TestImage> {
  const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar', ...(await layout.putBlob(new TextEncoder().encode(content))) };
  const configJson = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] }, ...(options.configCreated ? { created: options.configCreated } : {}) };
  const config = { mediaType: MediaType.ociConfig, ...(await layout.putBlob(jsonBytes(configJson))) };
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config,
    layers: [layer],
    ...(options.subject ? { subject: options.subject } : {}),
    ...(options.annotationCreated ? { annotations: { [CREATED_ANNOTATION]: options.annotationCreated } } : {}),
  };
  const descriptor = await layout.putManifest(jsonBytes(manifest), MediaType.ociManifest, {
    ...(options.tag === undefined ? {} : { tag: options.tag }),
    ...(options.child === undefined ? {} : { child: options.child }),
  });
  return { manifest: descriptor, config, layer };
}

/**
 * A temp copy of the whole demo: the shipped registry.config.yaml (pointing at `./layout`), the demo layout and
 * the demo bundle's files, so CLI tests plan exactly what `npm run demo` plans.
 */
export async function copyDemo(): Promise<{ dir: string; layout: string; config: string }> {
  const layout = await copyDemoLayout();
  const dir = path.dirname(layout);
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const config = path.join(dir, 'registry.config.yaml');
  const text = await readFile(path.join(root, 'registry.config.yaml'), 'utf8');
  await writeFile(config, text.replace('oci:./examples/demo-layout', 'oci:./layout'));
  await cp(path.join(root, 'examples', 'demo-bundle'), path.join(dir, 'examples', 'demo-bundle'), { recursive: true });
  return { dir, layout, config };
}
