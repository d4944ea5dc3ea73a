/**
 * Builds tiny, deterministic OCI images in Node and writes them as an OCI image layout, so tests can seed a
 * registry with skopeo without any network or base image. The same options always give the same digests;
 * a different `content` or `created` gives a different image.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { MediaType, OCI_LAYOUT_FILE, REF_NAME_ANNOTATION, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from '../../src/registry/oci.ts';

/** What distinguishes one test image from another. */
export interface TestImageOptions {
  /** The config's `created` time (default 2024-01-01T00:00:00Z). */
  created?: Date;
  /** `os/arch[/variant]` list; two or more make an image index (default: one linux/amd64 manifest). */
  platforms?: readonly string[];
  /** Text stored in the layer and a config label; different text gives a different image (default "regplan test image"). */
  content?: string;
}

/** A built image: its top-level descriptor and every blob (layers, configs, manifests) by digest. */
export interface BuiltImage {
  descriptor: Descriptor;
  blobs: Map<string, Uint8Array>;
  /** Digest of each platform manifest, keyed `os/arch[/variant]`. */
  platformDigests: Record<string, string>;
}

/** The fixed default creation time of test images. */
export const DEFAULT_CREATED = new Date('2024-01-01T00:00:00Z');

/** `sha256:<hex>` of some bytes. */
export const sha256Digest = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A one-file ustar archive (header, padded content, two zero blocks) with fixed mtime and owner. */
export function tarWithOneFile(name: string, content: Uint8Array): Uint8Array {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string): void => void header.write(value.slice(0, length), offset, 'ascii');
  const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, '0')}\0`;
  field(0, 100, name);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(content.length, 12));
  field(136, 12, octal(0, 12));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 8, 'ustar\u000000');
  let checksum = 0;
  for (const byte of header) checksum += byte;
  field(148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `);
  const padded = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  padded.set(content);
  return Buffer.concat([header, padded, Buffer.alloc(1024)]);
}

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));

function parsePlatform(platform: string): { os: string; architecture: string; variant?: string } {
  const [os, architecture, variant] = platform.split('/');
  if (!os || !architecture) throw new Error(`platform "${platform}" is not os/arch[/variant]`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

function buildPlatformManifest(blobs: Map<string, Uint8Array>, platform: string, content: string, created: Date): Descriptor {
  const { os, architecture, variant } = parsePlatform(platform);
  const tar = tarWithOneFile('regplan-test.txt', Buffer.from(`${content}\n${platform}\n`));
  const layer = gzipSync(tar, { level: 9 });
  blobs.set(sha256Digest(layer), layer);
  const config: ImageConfig & Record<string, unknown> = {
    created: created.toISOString(),
    architecture,
    os,
    ...(variant ? { variant } : {}),
    config: { Labels: { 'org.regplan.test.content': content } },
    rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
    history: [{ created: created.toISOString(), created_by: 'regplan test harness' }],
  };
  const configBytes = json(config);
  blobs.set(sha256Digest(configBytes), configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256Digest(configBytes), size: configBytes.length },
    layers: [{ mediaType: MediaType.ociLayerGzip, digest: sha256Digest(layer), size: layer.length }],
  };
  const manifestBytes = json(manifest);
  blobs.set(sha256Digest(manifestBytes), manifestBytes);
  return { mediaType: MediaType.ociManifest, digest: sha256Digest(manifestBytes), size: manifestBytes.length };
}

/** Builds an image (one platform) or an index (several platforms) from the options, deterministically. */
export function buildTestImage(options: TestImageOptions = {}): BuiltImage {
  const created = options.created ?? DEFAULT_CREATED;
  const content = options.content ?? 'regplan test image';
  const platforms = options.platforms?.length ? options.platforms : ['linux/amd64'];
  const blobs = new Map<string, Uint8Array>();
  const platformDigests: Record<string, string> = {};
  const manifests = platforms.map((platform) => {
    const descriptor = buildPlatformManifest(blobs, platform, content, created);
    platformDigests[platform] = descriptor.digest;
    return { ...descriptor, platform: parsePlatform(platform) };
  });
  const single = manifests.length === 1 ? manifests[0] : undefined;
  if (single) {
    const { platform: _platform, ...descriptor } = single;
    return { descriptor, blobs, platformDigests };
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  const indexBytes = json(index);
  blobs.set(sha256Digest(indexBytes), indexBytes);
  return { descriptor: { mediaType: MediaType.ociIndex, digest: sha256Digest(indexBytes), size: indexBytes.length }, blobs, platformDigests };
}

/** Writes images into an OCI image layout at `dir`, each under its ref name (index.json `ref.name` annotation). */
export async function writeOciLayout(dir: string, images: ReadonlyArray<{ ref: string; image: BuiltImage }>): Promise<void> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const { image } of images) {
    for (const [digest, bytes] of image.blobs) {
      await writeFile(path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
    }
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map(({ ref, image }) => ({ ...image.descriptor, annotations: { [REF_NAME_ANNOTATION]: ref } })),
  };
  await writeFile(path.join(dir, 'index.json'), JSON.stringify(index));
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify(OCI_LAYOUT_FILE));
}
