/**
 * The synthetic repository every benchmark fixture serves (the real registry's storage, the in-memory registry,
 * the OCI layout), so the three measure the same shape: N tags named like a CI's (`v1.N.0` releases, `main-N`,
 * `pr-N`), one OCI manifest and one config per image, layers drawn from a small shared pool, and every fifth tag
 * pointing at the previous tag's manifest (~20% of tags share a digest). Deterministic: the same repo name and
 * tag count give the same digests, so two registries seeded alike answer alike (the apply ceiling relies on it).
 */
import { createHash } from 'node:crypto';
import { MediaType } from '../src/registry/oci.ts';

/** A content-addressed blob: its digest and bytes. */
export interface Blob {
  digest: string;
  bytes: Buffer;
}

/** One tag of the synthetic repo; `image` is set on the first tag of each manifest, undefined on a tag that reuses it. */
export interface SyntheticTag {
  tag: string;
  manifestDigest: string;
  manifestSize: number;
  /** The created time recorded in the config (and as the manifest's created annotation in the layout). */
  created: string;
  image?: { manifest: Blob; config: Blob; layers: Blob[] };
}

/** Layers shared by every image of every synthetic repo (a base image and language runtimes, as it were). */
export const SHARED_LAYERS: readonly Blob[] = Array.from({ length: 24 }, (_, i) => blobOf(Buffer.from(`regplan bench shared layer ${i}\n`.repeat(8))));

/** `sha256:<hex>` and the bytes. */
export function blobOf(bytes: Buffer): Blob {
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

/** The tag name of the i-th tag: every 20th a release, then alternately main and pr builds. */
export function tagName(i: number): string {
  return i % 20 === 0 ? `v1.${i}.0` : i % 2 === 0 ? `main-${i}` : `pr-${i}`;
}

const START = Date.UTC(2025, 5, 1);

/** The tags of repo `name` (`count` of them), built lazily so 100,000 tags never sit in memory at once. */
export function* syntheticTags(name: string, count: number): Generator<SyntheticTag> {
  let previous: SyntheticTag | undefined;
  for (let i = 0; i < count; i++) {
    const tag = tagName(i);
    if (i % 5 === 4 && previous !== undefined) {
      yield { tag, manifestDigest: previous.manifestDigest, manifestSize: previous.manifestSize, created: previous.created };
      continue;
    }
    const created = new Date(START + i * 60_000).toISOString();
    const layers = [SHARED_LAYERS[i % 4], SHARED_LAYERS[4 + (i % 20)]] as Blob[];
    const config = blobOf(
      Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created, config: { Labels: { repo: name, build: String(i) } }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })),
    );
    const manifest = blobOf(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.bytes.length },
          layers: layers.map((l) => ({ mediaType: MediaType.ociLayerGzip, digest: l.digest, size: l.bytes.length })),
        }),
      ),
    );
    previous = { tag, manifestDigest: manifest.digest, manifestSize: manifest.bytes.length, created, image: { manifest, config, layers } };
    yield previous;
  }
}

/** How many distinct manifests `count` tags have (the rest share a digest). */
export function distinctManifests(count: number): number {
  return count - Math.floor(count / 5);
}
