/**
 * Quay (`quay.io`, `quay.*.com`). Its Registry API deletes a tag alone (by tag) or a manifest with every tag on it
 * (by digest); the Quay API adds tag lists with digests and times. Until the native driver exists, cleanup goes
 * through the Registry API digest delete.
 */
import { createRegistryApiDriver, REGISTRY_API_DELETE } from './default.ts';
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
  capabilities,
  create: (context) =>
    createRegistryApiDriver(context, {
      type: 'quay',
      capabilities,
      cleanupPath: `${REGISTRY_API_DELETE} (removes every tag on it; Quay API driver not built yet)`,
    }),
} satisfies DriverFactory;
