/**
 * Harbor (`harbor.*`, `demo.goharbor.io`, or set explicitly). A Registry API digest delete removes the artifact
 * with all its tags; the Harbor API adds tag-only deletes and untagged listing. Until that driver exists,
 * cleanup goes through the Registry API digest delete.
 */
import { createRegistryApiDriver, REGISTRY_API_DELETE } from './default.ts';
import type { Capabilities, DriverFactory } from './driver.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath:
    `${REGISTRY_API_DELETE} (removes the artifact and its tags); Harbor API /api/v2.0/projects/<p>/repositories/<r>/artifacts ` +
    'to list and .../artifacts/<digest>/tags/<tag> to untag',
  untag: true,
  listUntagged: true,
  nativeCredentials: [
    { description: 'Harbor API user (defaults to the Docker login for the host)', flag: '--repo-harbor-username', env: 'REGPLAN_REPO_HARBOR_USERNAME', configKey: 'username', optional: true },
    { description: 'Harbor API password (defaults to the Docker login for the host)', flag: '--repo-harbor-password', env: 'REGPLAN_REPO_HARBOR_PASSWORD', configKey: 'password', optional: true },
  ],
  notes:
    'Registry API DELETE by tag answers 400 UNSUPPORTED; an artifact referenced by an index answers 412; ' +
    'immutable tags answer 412; reads may fail with PROJECTPOLICYVIOLATION while a scan blocks pulls',
};

/** The Harbor registry type. */
export const harborDriver = {
  type: 'harbor',
  title: 'Harbor',
  status: 'registry-api',
  capabilities,
  create: (context) =>
    createRegistryApiDriver(context, {
      type: 'harbor',
      capabilities,
      cleanupPath: `${REGISTRY_API_DELETE} (removes the artifact and its tags; Harbor API driver not built yet)`,
    }),
} satisfies DriverFactory;
