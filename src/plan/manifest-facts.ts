/**
 * What a manifest's bytes and its image config's bytes say, derived in one place. Inventory calls these on what
 * it just read from the registry and on what it finds in the manifest cache, so a cached entry can only ever
 * yield what its (verified) content yields: the cache holds content, never facts someone could edit.
 *
 * Everything comes from the bytes alone. A manifest without a `mediaType` field is an index when it has
 * `manifests`, else an image manifest (the registry's Content-Type is not part of the content). Fields of the
 * wrong shape are treated as absent: the content is the registry's, and hostile until checked.
 */
import { isValidDigest } from '../model/names.ts';
import { parseTime } from '../model/time.ts';
import { CREATED_ANNOTATION, type Descriptor, MediaType } from '../registry/oci.ts';
import type { BlobRef, ManifestFacts } from '../model/inventory.ts';

/** A manifest's facts plus the image's creation time when one is known (what inventory keeps per digest). */
export interface DatedManifestFacts extends ManifestFacts {
  created?: string;
}

/**
 * Where a manifest's creation time comes from: its own `created` annotation, the newest of its children (an index
 * has no config), or its image config's `created`; undefined when none of these can tell.
 */
export type CreatedSource = { annotation: string } | { children: string[] } | { config: Descriptor } | undefined;

/** The facts a manifest's bytes state, and where its creation time is to be found. */
export interface ManifestContent {
  facts: ManifestFacts;
  created: CreatedSource;
}

/** The facts of a manifest's exact bytes; undefined when they are not a JSON object (not a manifest). */
export function manifestContent(bytes: Uint8Array): ManifestContent | undefined {
  const manifest = jsonObject(bytes);
  if (manifest === undefined) return undefined;
  const entries = manifest['manifests'];
  const index = Array.isArray(entries);
  const children = index ? entries.map((entry) => digestOf(entry)).filter((d): d is string => d !== undefined) : [];
  const mediaType = stringOf(manifest['mediaType']) ?? (index ? MediaType.ociIndex : MediaType.ociManifest);
  const subject = digestOf(manifest['subject']);
  const artifactType = stringOf(manifest['artifactType']);
  const blobs = index ? [] : blobRefs(manifest);
  const facts: ManifestFacts = {
    mediaType,
    children,
    ...(subject === undefined ? {} : { subject }),
    ...(artifactType === undefined ? {} : { artifactType }),
    size: bytes.byteLength,
    ...(blobs.length === 0 ? {} : { blobs }),
  };
  return { facts, created: createdSource(manifest, index, children) };
}

/** The `created` time an image config's exact bytes state; undefined when it has none or is not a JSON object. */
export function configCreated(bytes: Uint8Array): string | undefined {
  return parseTime(jsonObject(bytes)?.['created']);
}

/** True for the media types of an image config (the blobs whose `created` is the build time). */
export const isImageConfig = (mediaType: unknown): boolean => mediaType === MediaType.ociConfig || mediaType === MediaType.dockerConfig;

function createdSource(manifest: Record<string, unknown>, index: boolean, children: string[]): CreatedSource {
  const annotations = manifest['annotations'];
  const annotated = isObject(annotations) ? parseTime(annotations[CREATED_ANNOTATION]) : undefined;
  if (annotated !== undefined) return { annotation: annotated };
  // An index has no config: it was built when its newest child was.
  if (index) return { children: children.filter(isValidDigest) };
  const config = manifest['config'];
  if (!isObject(config) || !isImageConfig(config['mediaType'])) return undefined;
  const digest = digestOf(config);
  if (digest === undefined || !isValidDigest(digest)) return undefined;
  const size = typeof config['size'] === 'number' ? config['size'] : 0;
  return { config: { mediaType: config['mediaType'] as string, digest, size } };
}

/**
 * The config and layers an image manifest names, with their stated sizes; a descriptor with a malformed digest or
 * a size that is not a non-negative safe integer is left out (the estimate is an estimate; hostile sizes cannot
 * inflate it past what a number can hold). Digest strings are interned: thousands of manifests share base layers.
 */
function blobRefs(manifest: Record<string, unknown>): BlobRef[] {
  const layers = Array.isArray(manifest['layers']) ? manifest['layers'] : [];
  const refs: BlobRef[] = [];
  for (const descriptor of [manifest['config'], ...layers]) {
    if (!isObject(descriptor)) continue;
    const digest = stringOf(descriptor['digest']);
    const size = descriptor['size'];
    if (digest === undefined || !isValidDigest(digest) || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) continue;
    refs.push({ digest: intern(digest), size });
  }
  return refs;
}

const interned = new Map<string, string>();
function intern(text: string): string {
  const known = interned.get(text);
  if (known !== undefined) return known;
  interned.set(text, text);
  return text;
}

function jsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const stringOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const digestOf = (descriptor: unknown): string | undefined => (isObject(descriptor) ? stringOf(descriptor['digest']) : undefined);
