/**
 * When a layout entry was pushed. A layout keeps no push log, so regplan takes the best recorded time, in order:
 * the `org.opencontainers.image.created` annotation on the index.json entry (read here, with the listing, at no
 * cost), then on the manifest, then the image config's `created` (for an index: the newest of its children). The
 * last two are read from the content by inventory (plan/inventory.ts), as for every registry, once per digest.
 * Unknown stays unknown, and the planner treats unknown as new (design §5.2), so a missing time can never get an
 * image deleted by age.
 */
import { parseTime, plausiblePushTime } from '../model/time.ts';
import { CREATED_ANNOTATION, type Descriptor } from '../registry/oci.ts';

/**
 * A recorded time as ISO 8601, or undefined when it does not parse or is not a plausible push time (the rule of
 * src/model/time.ts), so a reproducible-build placeholder falls through to the next record.
 */
export function normalizeTime(value: unknown): string | undefined {
  return plausiblePushTime(parseTime(value), Date.now());
}

/** The push time an index.json entry records itself (its `created` annotation), or undefined when it records none. */
export function entryPushTime(descriptor: Descriptor): string | undefined {
  return normalizeTime(descriptor.annotations?.[CREATED_ANNOTATION]);
}
