/**
 * When a layout entry was pushed. A layout keeps no push log, so regplan takes the best recorded time, in order:
 * the `org.opencontainers.image.created` annotation on the index.json entry, then on the manifest, then the image
 * config's `created` (for an index: the newest of its children). Unknown stays unknown, and the planner treats
 * unknown as new (design §5.2), so a missing time can never get an image deleted by age.
 */
import { parseTime, plausiblePushTime } from '../model/time.ts';
import { CREATED_ANNOTATION, type Descriptor, type ImageConfig, isIndex, type Manifest } from '../registry/oci.ts';
import type { OciLayout } from './store.ts';

/**
 * A recorded time as ISO 8601, or undefined when it does not parse or is not a plausible push time (the rule of
 * src/model/time.ts), so the chain below falls through a reproducible-build placeholder to the next record.
 */
export function normalizeTime(value: unknown): string | undefined {
  return plausiblePushTime(parseTime(value), Date.now());
}

const newest = (times: (string | undefined)[]): string | undefined =>
  times.filter((t): t is string => t !== undefined).sort().at(-1);

/** The push time of an index.json entry or child descriptor, ISO 8601, or undefined when unknown. */
export async function pushTime(layout: OciLayout, descriptor: Descriptor, depth = 0): Promise<string | undefined> {
  const annotated = normalizeTime(descriptor.annotations?.[CREATED_ANNOTATION]);
  if (annotated !== undefined) return annotated;
  if (depth > 2) return undefined;
  const manifest = (await readJson(layout, descriptor.digest)) as Manifest | undefined;
  if (manifest === undefined) return undefined;
  const own = normalizeTime(manifest.annotations?.[CREATED_ANNOTATION]);
  if (own !== undefined) return own;
  if (isIndex(manifest)) {
    return newest(await Promise.all(manifest.manifests.map((child) => pushTime(layout, child, depth + 1))));
  }
  if (typeof manifest.config?.digest !== 'string') return undefined;
  const config = (await readJson(layout, manifest.config.digest)) as ImageConfig | undefined;
  return normalizeTime(config?.created);
}

/** A blob parsed as JSON, or undefined when it is missing, corrupt or not JSON (its time is then unknown). */
async function readJson(layout: OciLayout, digest: string): Promise<unknown> {
  try {
    if (!(await layout.hasBlob(digest))) return undefined;
    return JSON.parse(new TextDecoder().decode(await layout.readBlob(digest))) ?? undefined;
  } catch {
    return undefined;
  }
}
