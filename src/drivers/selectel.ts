/**
 * Selectel CRaaS (`cr.selcloud.ru`). Cleanup needs the CRaaS API (images with digests, tags and times; delete by
 * digest) with a project-scoped Keystone token made from account, username and password. The native driver is
 * not built yet.
 */
import type { Capabilities, Driver, DriverFactory } from './driver.ts';
import { cleanupPendingDriver } from './unavailable.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'CRaaS API: GET /api/v1/registries/<id>/repositories/<repo>/images (digests, tags, times), DELETE .../<repo>/<digest>',
  untag: false,
  listUntagged: true,
  nativeCredentials: [
    { description: 'Selectel account number', flag: '--repo-selectel-account', env: 'REGPLAN_REPO_SELECTEL_ACCOUNT' },
    { description: 'Selectel service user name', flag: '--repo-selectel-username', env: 'REGPLAN_REPO_SELECTEL_USERNAME', configKey: 'username' },
    { description: 'Selectel service user password', flag: '--repo-selectel-password', env: 'REGPLAN_REPO_SELECTEL_PASSWORD', configKey: 'password' },
  ],
  notes: 'DELETE answers 409 while the registry\'s garbage collection runs (regplan retries); an empty list may come as 204 No Content',
};

/** The Selectel registry type. */
export const selectelDriver = {
  type: 'selectel',
  title: 'Selectel CRaaS',
  status: 'pending',
  capabilities,
  create(context): Driver {
    return cleanupPendingDriver(selectelDriver, context, {
      why: 'it deletes through the CRaaS API',
      workaround: `if your registry accepts Registry API deletes by digest, set registries["${context.host}"].type: default (or --repo-container-registry default)`,
    });
  },
} satisfies DriverFactory;
