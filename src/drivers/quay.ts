/**
 * Quay (`quay.io`, `quay.*.com`). Its Registry API deletes a tag alone (by tag) or a manifest with every tag on it
 * (by digest), so the Registry API driver untags and deletes with Quay's real semantics; the Quay API would add
 * tag lists with digests and push times (not built yet).
 */
import { createUntaggingRegistryApiDriver } from './default.ts';
import type { Capabilities, DriverFactory } from './driver.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath:
    'Quay API: tags with digests and times from /api/v1/repository/<ns>/<repo>/tag/, DELETE .../tag/<tag> (untag); ' +
    'or the Registry API (DELETE by tag untags, by digest removes every tag on it)',
  untag: true,
  listUntagged: false,
  nativeCredentials: [
    { description: 'Quay OAuth application token (optional: the Registry API deletes with the Docker login)', flag: '--repo-quay-token', env: 'REGPLAN_REPO_QUAY_TOKEN', configKey: 'token', optional: true },
  ],
  notes: 'TAG_EXPIRED counts as a missing tag; immutable tags are refused; deleted tags stay restorable for the time-machine window',
};

/** The Quay registry type. */
export const quayDriver = {
  type: 'quay',
  title: 'Quay',
  status: 'ready',
  capabilities,
  create: (context) =>
    createUntaggingRegistryApiDriver(context, {
      type: 'quay',
      capabilities,
      cleanupPath: 'Registry API: DELETE /v2/<name>/manifests/<tag> (untag), DELETE /v2/<name>/manifests/<digest> (removes every tag on it)',
    }),
} satisfies DriverFactory;
