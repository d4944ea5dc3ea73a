/**
 * OCI image-spec types and media types, written from the spec (no types package exists on npm).
 * Docker schema2 manifests and lists share these shapes.
 */

/** Media types regplan reads and writes. */
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  helmConfig: 'application/vnd.cncf.helm.config.v1+json',
  helmChart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
} as const;

/** The Accept list sent with every manifest GET/HEAD: all four modern types, so no schema1 fallback happens. */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest];

/** True for an index / manifest list media type. */
export const isIndexMediaType = (mediaType: string | undefined): boolean =>
  mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;

/** A content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Platform;
  urls?: string[];
}

/** A platform of an index entry. */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** An image manifest (OCI or Docker schema2). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An image index (OCI) or manifest list (Docker). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** Either kind of manifest. */
export type Manifest = ImageManifest | ImageIndex;

/** True when the parsed manifest is an index. */
export const isIndex = (manifest: Manifest): manifest is ImageIndex => Array.isArray((manifest as ImageIndex).manifests);

/** The parts of an image config regplan reads (`created` gives the push-time estimate). */
export interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  config?: { Labels?: Record<string, string> };
}

/** The `index.json` / `oci-layout` of an OCI image layout directory. */
export const OCI_LAYOUT_FILE = { imageLayoutVersion: '1.0.0' } as const;
/** Annotation naming a tag in an OCI layout's index.json. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** Annotation with a file's name in an ORAS-style artifact layer. */
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';
/** Annotation carrying the creation time. */
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';
