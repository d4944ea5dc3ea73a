/**
 * Placeholder untag (issue 12 item 6): on a registry that can delete only by digest (plain distribution), one tag
 * of a shared manifest is removed by pushing a tiny unique placeholder manifest to that tag and then deleting the
 * placeholder by digest; the shared manifest and its other tags stay. Compare-and-swap around it:
 * 1. the empty config blob the placeholder names is stored first (shared and harmless; uploaded when missing);
 * 2. right before the push, a verified GET of the tag must still show the planned digest (gone = already gone,
 *    else stale: nothing is pushed);
 * 3. after the push, a verified GET of the tag must show the placeholder; otherwise someone pushed to the tag
 *    meanwhile, and nothing is deleted (the dangling placeholder is named in the report);
 * 4. the placeholder is deleted by its digest — it is unique (a random nonce), so no other tag can be on it.
 * The Registry API has no conditional PUT: a push to the tag between steps 2 and 3 by someone else is overwritten
 * by the placeholder, and step 3 cannot tell; the window is one request long.
 */
import { randomUUID } from 'node:crypto';
import { canUntagByPlaceholder, type Driver } from '../drivers/driver.ts';
import { isNotFound } from '../errors.ts';
import { sha256Digest } from '../registry/digest.ts';
import { CREATED_ANNOTATION, MediaType } from '../registry/oci.ts';
import { EMPTY_CONFIG } from '../bundles/files.ts';
import type { Outcome } from './journal.ts';

/** The annotation that marks a placeholder manifest (with a nonce, so each one is unique). */
export const PLACEHOLDER_ANNOTATION = 'dev.regplan.placeholder';

/**
 * The exact bytes of a new placeholder manifest: an OCI image manifest with the empty config, no layers, a nonce.
 * Its `created` annotation is the push time of the tag it replaces, so a placeholder left on its tag by a failed
 * delete is judged as that tag was (a candidate past grace) and removed by the next run, not kept as brand new.
 */
export function placeholderManifest(created: string, nonce: string = randomUUID()): Uint8Array {
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: EMPTY_CONFIG.mediaType, digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size },
    layers: [],
    annotations: { [PLACEHOLDER_ANNOTATION]: `regplan placeholder ${nonce}`, [CREATED_ANNOTATION]: created },
  };
  return new TextEncoder().encode(JSON.stringify(manifest));
}

/** Removes `tag` (planned at `digest`) through a placeholder; see the module comment for the steps. */
export async function untagByPlaceholder(
  driver: Driver,
  name: string,
  planned: { tag: string; digest: string; pushedAt?: string },
): Promise<{ outcome: Outcome; message?: string }> {
  const { tag, digest } = planned;
  if (!canUntagByPlaceholder(driver)) {
    return { outcome: 'failed', message: `the ${driver.type} driver cannot remove a single tag through a placeholder` };
  }
  const now = async (): Promise<string | undefined> => {
    try {
      return (await driver.readManifest(name, tag)).descriptor.digest;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  if (!(await driver.hasBlob(name, EMPTY_CONFIG.digest))) {
    const bytes = new TextEncoder().encode('{}');
    await driver.putBlob(name, { digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size, mediaType: EMPTY_CONFIG.mediaType, content: { bytes } });
  }
  const before = await now();
  if (before === undefined) return { outcome: 'already-gone' };
  if (before !== digest) return { outcome: 'stale', message: `tag now points at ${before}, not ${digest} as planned; left alone (re-plan to reconsider)` };
  const bytes = placeholderManifest(planned.pushedAt ?? new Date().toISOString());
  const placeholder = sha256Digest(bytes);
  await driver.putManifest(name, { digest: placeholder, mediaType: MediaType.ociManifest, bytes }, { tag });
  const after = await now();
  if (after !== placeholder) {
    return {
      outcome: 'stale',
      message: `tag changed while it was being removed (it points at ${after ?? 'nothing'}, not the placeholder ${placeholder}); nothing deleted, placeholder ${placeholder} left for a re-plan`,
    };
  }
  await driver.deleteManifest(name, placeholder);
  return { outcome: 'untagged', message: `through placeholder ${placeholder}, now deleted` };
}
