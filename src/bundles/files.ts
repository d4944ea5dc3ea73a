/**
 * `files: [...]`: a generic OCI artifact in the shape `oras push` (ORAS 1.x, image-spec 1.1) gives one: an OCI
 * image manifest with `artifactType` (ORAS's default `application/vnd.unknown.artifact.v1` when none is
 * configured), the empty config descriptor (`application/vnd.oci.empty.v1+json`, content `{}`, with the inline
 * `data` ORAS writes), one layer per file in the order listed (`application/vnd.oci.image.layer.v1.tar`, ORAS's
 * media type for a plain file, with `org.opencontainers.image.title` = the file's base name, which is the name
 * `oras pull` writes it under), and the bundle's annotations on the manifest. ORAS also stamps
 * `org.opencontainers.image.created`; regplan does not, so an unchanged artifact keeps its digest.
 *
 * Files are hashed as streams and pushed from disk in chunks: a large file is never held in memory.
 */
import { RegplanError } from '../errors.ts';
import { fileDigest, sha256Digest } from '../registry/digest.ts';
import { MediaType, TITLE_ANNOTATION } from '../registry/oci.ts';
import { path, statPath } from '../runtime.ts';
import type { PushBlob } from '../drivers/driver.ts';
import { manifestBytes, type PreparedBundle } from './types.ts';

/** ORAS's artifactType when `--artifact-type` is not given. */
export const DEFAULT_ARTIFACT_TYPE = 'application/vnd.unknown.artifact.v1';
/** ORAS's layer media type for a plain file. */
export const FILE_LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar';
/** The empty JSON config `{}` every ORAS 1.1 artifact points at. */
export const EMPTY_CONFIG = {
  mediaType: MediaType.ociEmpty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
} as const;

/** What `packageFiles` needs. */
export interface FilesBundleInput {
  files: readonly string[];
  artifactType?: string;
  annotations?: Readonly<Record<string, string>>;
}

/** Packages files into an ORAS-compatible artifact; every file is hashed by streaming it. */
export async function packageFiles(input: FilesBundleInput): Promise<PreparedBundle> {
  if (input.files.length === 0) throw new RegplanError('a files bundle lists no file', { hint: 'list at least one file: files: [./dist/app.tar.gz]' });
  const titles = new Map<string, string>();
  const layers: PushBlob[] = [];
  for (const file of input.files) {
    const stat = await statPath(file);
    if (!stat?.isFile) {
      throw new RegplanError(`bundle file "${file}" ${stat ? 'is not a regular file' : 'does not exist'}`, {
        hint: stat?.isDirectory ? 'pack a directory into one archive first (tar czf dir.tar.gz dir) and list the archive' : 'build it before planning, or fix the path (relative to the config file)',
        context: { file },
      });
    }
    const title = path.basename(file);
    const other = titles.get(title);
    if (other !== undefined) {
      throw new RegplanError(`bundle files "${other}" and "${file}" have the same name "${title}"`, {
        hint: 'each layer is named after its file, and oras pull writes it under that name; rename one of them',
        context: { file },
      });
    }
    titles.set(title, file);
    const { digest, size } = await fileDigest(file);
    layers.push({ digest, size, mediaType: FILE_LAYER_MEDIA_TYPE, content: { path: file } });
  }
  const annotations = input.annotations ?? {};
  const artifactType = input.artifactType ?? DEFAULT_ARTIFACT_TYPE;
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType,
    config: EMPTY_CONFIG,
    layers: layers.map((layer) => ({
      mediaType: layer.mediaType,
      digest: layer.digest,
      size: layer.size,
      annotations: { [TITLE_ANNOTATION]: path.basename((layer.content as { path: string }).path) },
    })),
    ...(Object.keys(annotations).length === 0 ? {} : { annotations: Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) }),
  };
  const bytes = manifestBytes(manifest);
  const empty = new TextEncoder().encode('{}');
  const blobs: PushBlob[] = [{ digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size, mediaType: MediaType.ociEmpty, content: { bytes: empty } }];
  const seen = new Set<string>([EMPTY_CONFIG.digest]);
  for (const layer of layers) {
    if (seen.has(layer.digest)) continue;
    seen.add(layer.digest);
    blobs.push(layer);
  }
  return { kind: 'files', manifest: { digest: sha256Digest(bytes), mediaType: MediaType.ociManifest, bytes, artifactType }, children: [], blobs };
}
