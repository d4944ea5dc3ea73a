/**
 * Seeds a distribution registry by writing its filesystem storage directly (pushing 100,000 tags through the
 * HTTP API takes far too long): the layout the registry's filesystem driver reads (distribution
 * registry/storage/paths.go), under `<root>/docker/registry/v2/`:
 *   blobs/sha256/<xx>/<hex>/data                                   every blob, manifests included
 *   repositories/<name>/_layers/sha256/<hex>/link                  config and layer blobs linked into the repo
 *   repositories/<name>/_manifests/revisions/sha256/<hex>/link     each manifest of the repo
 *   repositories/<name>/_manifests/tags/<tag>/current/link         the tag's manifest
 *   repositories/<name>/_manifests/tags/<tag>/index/sha256/<hex>/link
 * Each link file holds the digest, `sha256:<hex>`. Start the registry on the root afterwards (startRegistry's
 * `storageRoot`); the filesystem driver keeps no index, so what is on disk is what it serves.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Blob, SHARED_LAYERS, syntheticTags } from './synthetic-repo.ts';

/** What `seedRegistryStorage` wrote. */
export interface SeededStorage {
  tags: number;
  manifests: number;
}

const hexOf = (digest: string): string => digest.slice('sha256:'.length);

function writeLink(file: string, digest: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, digest);
}

function writeBlob(v2: string, blob: Blob): void {
  const hex = hexOf(blob.digest);
  const file = path.join(v2, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  if (existsSync(file)) return;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, blob.bytes);
}

/** Writes repo `name` with `tags` synthetic tags (see synthetic-repo.ts) into the storage at `root`. */
export function seedRegistryStorage(root: string, name: string, tags: number): SeededStorage {
  const v2 = path.join(root, 'docker', 'registry', 'v2');
  const repo = path.join(v2, 'repositories', ...name.split('/'));
  const linkLayer = (blob: Blob): void => {
    writeBlob(v2, blob);
    writeLink(path.join(repo, '_layers', 'sha256', hexOf(blob.digest), 'link'), blob.digest);
  };
  for (const layer of SHARED_LAYERS) linkLayer(layer);
  let manifests = 0;
  for (const entry of syntheticTags(name, tags)) {
    const hex = hexOf(entry.manifestDigest);
    if (entry.image) {
      manifests++;
      linkLayer(entry.image.config);
      writeBlob(v2, entry.image.manifest);
      writeLink(path.join(repo, '_manifests', 'revisions', 'sha256', hex, 'link'), entry.manifestDigest);
    }
    const tagDir = path.join(repo, '_manifests', 'tags', entry.tag);
    writeLink(path.join(tagDir, 'current', 'link'), entry.manifestDigest);
    writeLink(path.join(tagDir, 'index', 'sha256', hex, 'link'), entry.manifestDigest);
  }
  return { tags, manifests };
}
