/**
 * AWS ECR (`<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`). Target: the AWS API — DescribeImages lists
 * tags with digests and push times, BatchDeleteImage removes one tag (by tag) or a whole image (by digest),
 * credentials from the standard AWS chain. The native driver is not built yet.
 */
import type { Capabilities, Driver, DriverFactory } from './driver.ts';
import { cleanupPendingDriver } from './unavailable.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'AWS API: DescribeImages (tags, digests, push times), BatchDeleteImage by tag (untag) or by digest; registry login via GetAuthorizationToken',
  untag: true,
  listUntagged: true,
  nativeCredentials: [
    {
      description: 'standard AWS credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, instance role)',
      flag: '',
      env: 'AWS_ACCESS_KEY_ID',
      source: 'chain',
      chainEnv: ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'],
    },
  ],
  notes:
    'BatchDeleteImage takes at most 100 ids per call and reports per-image failures with HTTP 200; ' +
    'ImageReferencedByManifestList means the index must be deleted first; /v2 tags/list rejects n > 1000',
};

/** The ECR registry type. */
export const ecrDriver = {
  type: 'ecr',
  title: 'AWS ECR',
  status: 'pending',
  capabilities,
  create(context): Driver {
    return cleanupPendingDriver(ecrDriver, context, {
      why: 'it deletes through the AWS API: DescribeImages, BatchDeleteImage',
      workaround:
        `ECR also accepts Registry API deletes by digest: set registries["${context.host}"].type: default in the config ` +
        '(or --repo-container-registry default); a tag that shares its manifest with a kept tag is then skipped',
    });
  },
} satisfies DriverFactory;
