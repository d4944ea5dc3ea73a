/**
 * Docker Hub (`docker.io`, `index.docker.io`, `registry-1.docker.io`, host-less names). Its Registry API refuses
 * to delete a tagged manifest (403), so cleanup needs the Hub API (tag-level delete) and Hub credentials.
 * The native driver is not built yet.
 */
import type { Capabilities, Driver, DriverFactory } from './driver.ts';
import { cleanupPendingDriver } from './unavailable.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'Hub API: tags with digests and push times from /v2/namespaces/<ns>/repositories/<repo>/tags, DELETE /v2/repositories/<ns>/<repo>/tags/<tag>/ (untag)',
  untag: true,
  listUntagged: false,
  nativeCredentials: [
    { description: 'Docker Hub API token (instead of username + password)', flag: '--repo-docker-hub-token', env: 'REGPLAN_REPO_DOCKER_HUB_TOKEN', configKey: 'token' },
    { description: 'Docker Hub username (with the password)', flag: '--repo-docker-hub-username', env: 'REGPLAN_REPO_DOCKER_HUB_USERNAME', configKey: 'username' },
    { description: 'Docker Hub password (personal access tokens cannot delete tags)', flag: '--repo-docker-hub-password', env: 'REGPLAN_REPO_DOCKER_HUB_PASSWORD', configKey: 'password' },
  ],
  notes:
    'Registry API DELETE answers 403 for a manifest that still has tags; personal access tokens cannot delete tags; ' +
    'the Hub API is rate limited (X-RateLimit-* headers, 429 with Retry-After)',
};

/** The Docker Hub registry type. */
export const dockerHubDriver = {
  type: 'dockerhub',
  title: 'Docker Hub',
  status: 'pending',
  capabilities,
  create(context): Driver {
    return cleanupPendingDriver(dockerHubDriver, context, {
      why: 'Docker Hub answers Registry API deletes of tagged manifests with 403, so it needs the Hub API',
      workaround: 'delete the tags in the Docker Hub web UI (or with docker/hub-tool) until the Hub driver lands',
    });
  },
} satisfies DriverFactory;
