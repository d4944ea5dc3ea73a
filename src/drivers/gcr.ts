/**
 * Google Container Registry and Artifact Registry (`gcr.io`, `*.gcr.io`, `container.cloud.google.com`,
 * `*-docker.pkg.dev`). The Registry API is enough, with Google's semantics: DELETE by tag untags, DELETE by digest
 * works only once no tag is left (400 GOOGLE_MANIFEST_DANGLING_TAG), and tags/list carries digests and upload times.
 */
import type { Capabilities, DriverFactory } from './driver.ts';
import { nativeDriverUnavailable } from './unavailable.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'Registry API: untag (DELETE /v2/<name>/manifests/<tag>), then delete the digest once no tag is left; tags/list gives digests and upload times',
  untag: true,
  listUntagged: true,
  nativeCredentials: [],
  notes: 'DELETE by digest answers 400 GOOGLE_MANIFEST_DANGLING_TAG while a tag still references it; tags/list ignores paging and returns everything at once',
};

/** The GCR / Artifact Registry type. */
export const gcrDriver = {
  type: 'gcr',
  title: 'GCR / Artifact Registry',
  capabilities,
  create(context) {
    throw nativeDriverUnavailable(gcrDriver, context, {
      why: 'GCR refuses a digest delete while tags remain, so each tag must be untagged first',
      workaround: 'delete images with "gcloud artifacts docker images delete --delete-tags" until the GCR driver lands',
    });
  },
} satisfies DriverFactory;
