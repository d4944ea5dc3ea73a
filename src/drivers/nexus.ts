/**
 * Sonatype Nexus Repository 3 (never detected: set `registries.<host>.type: nexus`). Cleanup deletes by digest
 * through the Registry API; the Nexus components API is the richer route for listing.
 */
import { createRegistryApiDriver, REGISTRY_API_DELETE } from './default.ts';
import type { Capabilities, DriverFactory } from './driver.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: REGISTRY_API_DELETE, // the Nexus components API is not built yet
  untag: false,
  listUntagged: false,
  nativeCredentials: [],
  notes:
    'never detected from the host: set registries.<host>.type: nexus; whether a digest delete also removes the tags on it depends on the Nexus version; ' +
    'space comes back only after the "Docker - Delete unused manifests" and "Compact blob store" tasks',
};

/** The Nexus registry type. */
export const nexusDriver = {
  type: 'nexus',
  title: 'Sonatype Nexus',
  status: 'registry-api',
  capabilities,
  create: (context) => createRegistryApiDriver(context, { type: 'nexus', capabilities }),
} satisfies DriverFactory;
