/**
 * Writes the synthetic repo (bench/synthetic-repo.ts) as an OCI image layout directly on disk, as skopeo or
 * BuildKit would leave it: `oci-layout`, `blobs/sha256/<hex>` for every manifest, config and layer, and one
 * index.json entry per tag carrying only the `org.opencontainers.image.ref.name` annotation (no created
 * annotation, so a cold plan reads each manifest and config for its push time).
 */
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import { MediaType, REF_NAME_ANNOTATION } from '../src/registry/oci.ts';
import { type Blob, SHARED_LAYERS, syntheticTags } from './synthetic-repo.ts';

/** Writes a layout of `tags` synthetic tags into `dir` (created; must not hold a layout yet). */
export async function seedOciLayout(dir: string, tags: number): Promise<void> {
  const blobs = path.join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const writeBlob = (blob: Blob): void => {
    const file = path.join(blobs, blob.digest.slice('sha256:'.length));
    if (!existsSync(file)) writeFileSync(file, blob.bytes);
  };
  for (const layer of SHARED_LAYERS) writeBlob(layer);
  // index.json is streamed: at 100,000 tags it is tens of MB.
  const index = createWriteStream(path.join(dir, 'index.json'));
  const write = async (text: string): Promise<void> => {
    if (!index.write(text)) await once(index, 'drain');
  };
  await write(`{"schemaVersion":2,"mediaType":"${MediaType.ociIndex}","manifests":[`);
  let first = true;
  for (const entry of syntheticTags('layout', tags)) {
    if (entry.image) {
      writeBlob(entry.image.config);
      writeBlob(entry.image.manifest);
    }
    const descriptor = { mediaType: MediaType.ociManifest, digest: entry.manifestDigest, size: entry.manifestSize, annotations: { [REF_NAME_ANNOTATION]: entry.tag } };
    await write(`${first ? '' : ','}${JSON.stringify(descriptor)}`);
    first = false;
  }
  await write(']}');
  index.end();
  await once(index, 'close');
}
