/**
 * A packaged bundle: the exact manifest bytes a push stores under the tag, the manifests an index names, and
 * every blob with where its bytes come from. Plan computes it to learn the digest; apply computes it again from
 * the same config and refuses to push when the digest differs (the inputs changed since the plan).
 */
import type { PushBlob, PushManifest } from '../drivers/driver.ts';

/** The three bundle sources of design §4. */
export type BundleKind = 'chart' | 'files' | 'image';

/** Everything a push of one bundle stores. */
export interface PreparedBundle {
  kind: BundleKind;
  /** The manifest (or index) the tag points at. */
  manifest: PushManifest & { artifactType?: string };
  /** Manifests an index names (recursively), children before their parents, each once; empty for a single manifest. */
  children: PushManifest[];
  /** Configs and layers of every manifest, each digest once. */
  blobs: PushBlob[];
}

/** Total bytes of a bundle's blobs (what an upload may move at most). */
export const bundleSize = (bundle: PreparedBundle): number => bundle.blobs.reduce((sum, blob) => sum + blob.size, 0);

/** Adds blobs to a list unless their digest is already in it (configs and layers shared between manifests). */
export function addUniqueBlobs(into: PushBlob[], blobs: readonly PushBlob[]): void {
  const seen = new Set(into.map((b) => b.digest));
  for (const blob of blobs) {
    if (seen.has(blob.digest)) continue;
    seen.add(blob.digest);
    into.push(blob);
  }
}

/** JSON bytes of a manifest as regplan writes it: compact, keys in the order given (so the digest is stable). */
export const manifestBytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
