/**
 * GitHub Packages: `ghcr.io` and the legacy `docker.pkg.github.com`. The Registry API answers DELETE with 405,
 * so cleanup needs the GitHub REST package-versions API and a token. The legacy host cannot store OCI
 * artifacts, so its capabilities differ (data in `hostCapabilities`). The native driver is not built yet.
 */
import type { Capabilities, Driver, DriverFactory, NativeCredentialSpec } from './driver.ts';
import { cleanupPendingDriver } from './unavailable.ts';

const token = (scopes: string): NativeCredentialSpec => ({
  description: `GitHub token with ${scopes}`,
  flag: '--repo-github-token',
  env: 'REGPLAN_REPO_GITHUB_TOKEN',
  configKey: 'token',
});

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'GitHub REST: list package versions (digest, tags, times), DELETE .../packages/container/<pkg>/versions/<id> (a version is a digest: every tag on it goes)',
  untag: false,
  listUntagged: true,
  nativeCredentials: [token('read:packages + delete:packages')],
  notes:
    'Registry API DELETE answers 405 UNSUPPORTED; the last tagged version cannot be deleted (delete the package instead); ' +
    'public versions with more than 5000 downloads cannot be deleted; the Actions GITHUB_TOKEN works only with admin access to the package',
};

const legacyCapabilities: Capabilities = {
  ...capabilities,
  bundles: false,
  bundlesRefusal: 'docker.pkg.github.com (the legacy GitHub Docker registry) does not store OCI artifacts; publish bundles to ghcr.io',
  customArtifactType: false,
  cleanupPath: 'GitHub REST: list package versions (package type docker), DELETE .../versions/<id> (a version is a digest: every tag on it goes)',
  nativeCredentials: [token('read:packages, write:packages, delete:packages and repo')],
  notes: `${capabilities.notes}; packages of public repositories cannot be deleted`,
};

/** The GitHub Packages registry type. */
export const githubDriver = {
  type: 'github',
  title: 'GitHub Packages',
  status: 'pending',
  capabilities,
  hostCapabilities: [{ host: /^docker\.pkg\.github\.com$/, label: 'docker.pkg.github.com', capabilities: legacyCapabilities }],
  create(context): Driver {
    return cleanupPendingDriver(githubDriver, context, {
      why: 'GitHub answers Registry API deletes with 405 UNSUPPORTED, so it needs the GitHub REST API',
      workaround: 'delete package versions in the GitHub UI (or with "gh api -X DELETE .../packages/container/<pkg>/versions/<id>") until the GitHub driver lands',
    });
  },
} satisfies DriverFactory;
