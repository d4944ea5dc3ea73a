/**
 * JFrog Artifactory (`*.jfrog.io`, or set explicitly). Cleanup deletes by digest through the Registry API,
 * which recent Artifactory versions accept; the Artifactory API (`DELETE /artifactory/<repo-key>/<image>/<tag>`)
 * is the route for versions that do not.
 */
import { createRegistryApiDriver, REGISTRY_API_DELETE } from './default.ts';
import type { Capabilities, DriverFactory } from './driver.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: REGISTRY_API_DELETE, // the Artifactory REST tag delete is not built yet
  untag: false,
  listUntagged: false,
  nativeCredentials: [],
  notes:
    'Registry API digest deletes need a recent Artifactory; with the repository-path access method the first path component is the repo key; ' +
    'its challenge is Basic realm="Artifactory Realm"',
};

/** The Artifactory registry type. */
export const artifactoryDriver = {
  type: 'artifactory',
  title: 'JFrog Artifactory',
  status: 'registry-api',
  capabilities,
  create: (context) => createRegistryApiDriver(context, { type: 'artifactory', capabilities }),
} satisfies DriverFactory;
