/**
 * Google Container Registry and Artifact Registry (`gcr.io`, `*.gcr.io`, `container.cloud.google.com`,
 * `*-docker.pkg.dev`). The Registry API is enough, with Google's semantics: DELETE by tag untags, and DELETE by
 * digest works only once no tag is left — otherwise 400 GOOGLE_MANIFEST_DANGLING_TAG "Manifest is still
 * referenced by tag: X". So deleting a manifest untags the tags the error names (or, when it names none, every
 * tag that resolves to the digest) and tries again.
 */
import { isValidTag } from '../model/names.ts';
import { isRegistryError, type RegistryError } from '../errors.ts';
import { createUntaggingRegistryApiDriver } from './default.ts';
import type { Capabilities, Driver, DriverFactory, Untagger } from './driver.ts';

/** The error code GCR/AR answer a digest delete with while a tag still points at it. */
export const DANGLING_TAG_CODE = 'GOOGLE_MANIFEST_DANGLING_TAG';
/** How many rounds of "untag the named tag, retry" before falling back to scanning every tag once. */
const NAMED_TAG_ROUNDS = 20;

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'Registry API: untag (DELETE /v2/<name>/manifests/<tag>), then delete the digest once no tag is left',
  untag: true,
  // Google's tags/list `manifest` map (digests with `tag: []`, `timeUploadedMs`) is not read yet, so untagged
  // manifests are not listed: `untagged: delete` has no effect here and the plan says so.
  listUntagged: false,
  nativeCredentials: [],
  notes: 'DELETE by digest answers 400 GOOGLE_MANIFEST_DANGLING_TAG while a tag still references it; tags/list ignores paging and returns everything at once',
};

/** Tags a dangling-tag error names ("Manifest is still referenced by tag: v1"). */
export function danglingTags(error: RegistryError): string[] {
  return error.errors
    .filter((entry) => entry.code === DANGLING_TAG_CODE)
    .flatMap((entry) => [...(entry.message ?? '').matchAll(/referenced by tags?:\s*([A-Za-z0-9_][A-Za-z0-9._-]*(?:\s*,\s*[A-Za-z0-9_][A-Za-z0-9._-]*)*)/g)])
    .flatMap((match) => (match[1] ?? '').split(',').map((t) => t.trim()))
    .filter((t) => t !== '');
}

/** Wraps a Registry-API driver so deleteManifest untags first, as GCR requires. */
export function withUntagBeforeDelete<D extends Driver & Untagger>(base: D): D {
  const tagsPointingAt = async (name: string, digest: string): Promise<string[]> => {
    const tags = (await base.listTags(name)).filter(isValidTag);
    const resolved = await Promise.all(tags.map(async (tag) => ((await base.resolveTag(name, tag))?.digest === digest ? tag : undefined)));
    return resolved.filter((t): t is string => t !== undefined);
  };
  return {
    ...base,
    async deleteManifest(name, digest) {
      const untagged = new Set<string>();
      let scanned = false;
      for (;;) {
        try {
          await base.deleteManifest(name, digest);
          return;
        } catch (error) {
          if (!isRegistryError(error) || error.code !== DANGLING_TAG_CODE) throw error;
          let tags = danglingTags(error).filter((t) => !untagged.has(t));
          if (tags.length === 0 || untagged.size >= NAMED_TAG_ROUNDS) {
            if (scanned) throw error;
            scanned = true;
            tags = await tagsPointingAt(name, digest);
            if (tags.length === 0) throw error;
          }
          for (const tag of tags) {
            await base.untag(name, tag);
            untagged.add(tag);
          }
        }
      }
    },
  };
}

/** The GCR / Artifact Registry type. */
export const gcrDriver = {
  type: 'gcr',
  title: 'GCR / Artifact Registry',
  status: 'ready',
  capabilities,
  create(context) {
    const base = createUntaggingRegistryApiDriver(context, {
      type: 'gcr',
      capabilities,
    });
    return withUntagBeforeDelete(base);
  },
} satisfies DriverFactory;
