/**
 * GitLab Registry (`gitlab.com`, `registry.gitlab.com`, or self-hosted set explicitly). Target: the GitLab
 * Container Registry API (tags with digests and times, tag-level delete) or the Registry API's tag delete on
 * GitLab 16.4+. Until then cleanup goes through the Registry API digest delete, which GitLab answers with 202.
 */
import { createRegistryApiDriver, REGISTRY_API_DELETE } from './default.ts';
import type { Capabilities, DriverFactory } from './driver.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath:
    'GitLab Container Registry API (/api/v4/projects/<id>/registry/repositories/<rid>/tags: digests, times, tag delete) ' +
    'or the Registry API (DELETE /v2/<name>/manifests/<tag> on GitLab 16.4+), depending on the GitLab version',
  untag: true,
  listUntagged: false,
  nativeCredentials: [
    { description: 'GitLab token with api scope (CI_JOB_TOKEN is not enough)', flag: '--repo-gitlab-token', env: 'REGPLAN_REPO_GITLAB_TOKEN', configKey: 'token' },
  ],
  notes:
    'CI_JOB_TOKEN cannot delete unless the job\'s user and the project\'s job-token permissions allow it; ' +
    'protected tags answer 403; a digest delete can take minutes per tag',
};

/** The GitLab registry type. */
export const gitlabDriver = {
  type: 'gitlab',
  title: 'GitLab Registry',
  status: 'registry-api',
  capabilities,
  create: (context) =>
    createRegistryApiDriver(context, {
      type: 'gitlab',
      capabilities,
      cleanupPath: `${REGISTRY_API_DELETE} with Docker credentials (GitLab API driver not built yet)`,
    }),
} satisfies DriverFactory;
