/**
 * AWS ECR (`<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`): cleanup through the AWS API with the real
 * `@aws-sdk/client-ecr` (see ecr/api.ts for region, account, endpoint and credentials), reads and pushes
 * through the Registry API with the Docker login — or, when the Docker config has none for the host, with the
 * login GetAuthorizationToken hands out (`AWS:<password>`, what `aws ecr get-login-password` prints).
 *
 * - Listing: DescribeImages (tags, digests, manifest media types and push times in pages of up to 1000, through
 *   the SDK's paginator); untagged images with the UNTAGGED filter; tag names with ListImages.
 * - Delete by digest: BatchDeleteImage by imageDigest removes the image and every tag on it.
 * - Untag: BatchDeleteImage by imageTag removes only that tag — but ECR deletes the image together with its
 *   LAST tag. The plan untags only a tag whose manifest a kept tag shares, so the untag first checks that
 *   another tag still holds the image and refuses otherwise (the plan is then stale); untags of one repo run one
 *   after another, so two untags can never each count on the other to keep the image. The capability
 *   `untagLastDeletesManifest` tells apply the same, so it re-checks the tags before such an untag.
 * - Done only when ECR says so: see ecr/batch-delete.ts.
 * - Installed lifecycle policy (`readInstalledPolicy`, for `regplan drift`): GetLifecyclePolicy.
 * - Discovery (`listRepositories`): DescribeRepositories through the SDK's paginator (pages of 1000, nextToken),
 *   every repository of the registry's account filtered by the prefix; ECR has no namespaces (a `/` is part of the
 *   name), so a prefix nothing matches gives an empty list.
 */
import { Buffer } from 'node:buffer';
import type { ImageDetail, ImageIdentifier } from '@aws-sdk/client-ecr';
import type { Credential } from '../credentials/types.ts';
import { isNotFound, ProtocolError, StalePlanError } from '../errors.ts';
import { parseTime } from '../model/time.ts';
import { createRegistryApiDriver } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, RepositoryLister, Untagger, UntaggedLister } from './driver.ts';
import { EcrApi } from './ecr/api.ts';
import { BatchDeleter } from './ecr/batch-delete.ts';
import { namesWithPrefix } from './repository-prefix.ts';
import type { TagRecord } from '../model/inventory.ts';
import type { InstalledPolicy, InstalledPolicyReader } from '../export/installed.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'AWS API: DescribeImages (tags, digests, push times), BatchDeleteImage by tag (untag) or by digest; registry login via GetAuthorizationToken',
  untag: true,
  untagLastDeletesManifest: true,
  listUntagged: true,
  repositoryListing: 'AWS API: DescribeRepositories (ecr:DescribeRepositories)',
  pullTimes: true,
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
    'ImageReferencedByManifestList means the index must be deleted first; ECR deletes an image with its last tag, ' +
    'so regplan untags only while another tag keeps the image; /v2 tags/list rejects n > 1000; ' +
    'region from the host (else AWS_REGION), endpoint from registries.<host>.api (else the region\'s)',
};

/** Page size of DescribeImages / ListImages (ECR's maximum). */
const PAGE_SIZE = 1000;

/** The ECR driver for one registry host. */
export function createEcrDriver(
  context: DriverContext,
): Driver & Untagger & DetailedLister & UntaggedLister & ManifestReader & ContentPusher & RepositoryLister & InstalledPolicyReader {
  const api = new EcrApi(context);
  const display = (name: string) => `${context.host}/${name}`;
  const deleter = new BatchDeleter(api, display);
  const registry = createRegistryApiDriver({ ...context, credentials: withEcrLogin(context, api) }, { type: 'ecr', capabilities });
  const untagQueues = new Map<string, Promise<unknown>>();

  /**
   * Every image of a repo with the given tag status, through the SDK's paginator. A repository that does not exist
   * is an error (RepositoryNotFoundException, with its hint), never an empty listing: a typo in the config or the
   * wrong account must not read as "nothing to clean".
   */
  const describeAll = (name: string, tagStatus: 'TAGGED' | 'UNTAGGED'): Promise<ImageDetail[]> =>
    api.run('DescribeImages', display(name), async (sdk, client) => {
      const pages = sdk.paginateDescribeImages({ client, pageSize: PAGE_SIZE }, { ...api.registryId, repositoryName: name, filter: { tagStatus } });
      return (await allPages(pages, display(name), 'DescribeImages')).flatMap((page) => page.imageDetails ?? []);
    });

  /** Runs the untags of one repo one after another (see the file comment). */
  const inUntagQueue = <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const run = (untagQueues.get(name) ?? Promise.resolve()).then(work, work);
    untagQueues.set(name, run.catch(() => undefined));
    return run;
  };

  return {
    ...registry,
    capabilities,
    async listTags(name) {
      const ids: ImageIdentifier[] = await api.run('ListImages', display(name), async (sdk, client) => {
        const pages = sdk.paginateListImages({ client, pageSize: PAGE_SIZE }, { ...api.registryId, repositoryName: name, filter: { tagStatus: 'TAGGED' } });
        return (await allPages(pages, display(name), 'ListImages')).flatMap((page) => page.imageIds ?? []);
      });
      return [...new Set(ids.flatMap((id) => (id.imageTag === undefined ? [] : [id.imageTag])))].sort();
    },
    async listRepositories(prefix) {
      const subject = `${context.host}/${prefix}*`;
      const repositories = await api.run('DescribeRepositories', subject, async (sdk, client) => {
        const pages = sdk.paginateDescribeRepositories({ client, pageSize: PAGE_SIZE }, { ...api.registryId });
        return (await allPages(pages, subject, 'DescribeRepositories')).flatMap((page) => page.repositories ?? []);
      });
      return namesWithPrefix(repositories.flatMap((r) => (r.repositoryName === undefined ? [] : [r.repositoryName])), prefix);
    },
    /**
     * The installed lifecycle policy (GetLifecyclePolicy, ecr:GetLifecyclePolicy), for `regplan drift`;
     * LifecyclePolicyNotFoundException means none is installed.
     */
    async readInstalledPolicy(name: string): Promise<InstalledPolicy | undefined> {
      const text = await api.run('GetLifecyclePolicy', display(name), async (sdk, client) => {
        try {
          return (await client.send(new sdk.GetLifecyclePolicyCommand({ ...api.registryId, repositoryName: name }))).lifecyclePolicyText;
        } catch (error) {
          if ((error as { name?: unknown }).name === 'LifecyclePolicyNotFoundException') return undefined;
          throw error;
        }
      });
      if (text === undefined) return undefined;
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw new ProtocolError(`the lifecycle policy of "${display(name)}" is not JSON`, { code: 'INVALID_JSON', registry: context.host, repo: display(name), hint: 'check it with "aws ecr get-lifecycle-policy"' });
      }
      return { format: 'ecr-lifecycle-policy', document, source: 'GetLifecyclePolicy' };
    },
    async listTagRecords(name) {
      const records: TagRecord[] = [];
      for (const detail of await describeAll(name, 'TAGGED')) {
        if (detail.imageDigest === undefined) continue;
        for (const tag of detail.imageTags ?? []) {
          records.push({
            tag,
            digest: detail.imageDigest,
            ...(detail.imageManifestMediaType === undefined ? {} : { mediaType: detail.imageManifestMediaType }),
            ...pushedAt(detail),
            ...lastPulled(detail),
          });
        }
      }
      return records.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    },
    async listUntagged(name) {
      return (await describeAll(name, 'UNTAGGED'))
        .filter((d) => d.imageDigest !== undefined && (d.imageTags ?? []).length === 0)
        .map((d) => ({ digest: d.imageDigest as string, ...pushedAt(d) }))
        .sort((a, b) => (a.digest < b.digest ? -1 : 1));
    },
    async deleteManifest(name, digest) {
      await deleter.delete(name, { imageDigest: digest });
    },
    untag: (name, tag) =>
      inUntagQueue(name, async () => {
        let detail: ImageDetail | undefined;
        try {
          const answer = await api.run('DescribeImages', display(name), (sdk, client) =>
            client.send(new sdk.DescribeImagesCommand({ ...api.registryId, repositoryName: name, imageIds: [{ imageTag: tag }] })),
          );
          detail = answer.imageDetails?.find((d) => (d.imageTags ?? []).includes(tag));
        } catch (error) {
          if (isNotFound(error)) return; // the tag (or the repo) is already gone
          throw error;
        }
        if (detail === undefined) return;
        if ((detail.imageTags ?? []).every((t) => t === tag)) {
          throw new StalePlanError(
            `not removing tag "${tag}" from "${display(name)}": it is now the only tag on ${detail.imageDigest ?? 'its image'}, and ECR deletes an image together with its last tag`,
            { hint: 'the tag that shared this manifest was moved or removed since the plan; run regplan plan again', context: { registry: context.host, repo: display(name), ref: tag } },
          );
        }
        await deleter.delete(name, { imageTag: tag });
      }),
  };
}

/** ImageDetail.lastRecordedPullTime (refreshed at most daily by ECR); absent means the image was never pulled. */
function lastPulled(detail: ImageDetail): { pulled: string } | Record<string, never> {
  if (detail.lastRecordedPullTime === undefined) return { pulled: 'never' };
  const time = parseTime(detail.lastRecordedPullTime);
  return time === undefined ? {} : { pulled: time };
}

/** The push time of an image as ECR reports it (the SDK's Date); judging it is inventory's job. */
function pushedAt(detail: ImageDetail): { pushedAt?: string } {
  const time = parseTime(detail.imagePushedAt);
  return time === undefined ? {} : { pushedAt: time };
}

/**
 * Every page of an SDK paginator (the SDK follows nextToken). A token ECR sends twice would make the paginator
 * loop or, told to stop on it, end early with part of the listing; either way regplan stops with an error.
 */
async function allPages<P extends { nextToken?: string | undefined }>(pages: AsyncIterable<P>, subject: string, operation: string): Promise<P[]> {
  const all: P[] = [];
  const tokens = new Set<string>();
  for await (const page of pages) {
    all.push(page);
    const token = page.nextToken;
    if (token === undefined) continue;
    if (tokens.has(token)) {
      throw new ProtocolError(`AWS ECR kept paging ${operation} of "${subject}" (nextToken seen twice)`, {
        code: 'PAGING_LOOP',
        repo: subject,
        hint: 'the listing would be incomplete, so regplan stops instead of planning from part of it; retry, and report it to AWS support if it persists',
      });
    }
    tokens.add(token);
  }
  return all;
}

/**
 * Registry API credentials: the Docker login for the host when there is one, else the login ECR hands out to
 * the AWS identity (GetAuthorizationToken: base64 `AWS:<password>`, valid 12 hours). When that fails too the
 * registry is asked anonymously, and its 401 says to log in.
 */
function withEcrLogin(context: DriverContext, api: EcrApi): () => Promise<Credential | undefined> {
  return async () => {
    const docker = await context.credentials();
    if (docker !== undefined) return docker;
    try {
      const answer = await api.run('GetAuthorizationToken', context.host, (sdk, client) => client.send(new sdk.GetAuthorizationTokenCommand({})));
      const token = answer.authorizationData?.[0]?.authorizationToken;
      if (token === undefined) return undefined;
      api.addSecret(token);
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      const password = decoded.slice(colon + 1);
      api.addSecret(password);
      return { username: decoded.slice(0, colon), password, source: 'ECR GetAuthorizationToken (AWS credentials)' };
    } catch (error) {
      context.debug?.(`ECR: no Docker login for ${context.host}, and GetAuthorizationToken failed: ${(error as Error).message}`);
      return undefined;
    }
  };
}

/** The ECR registry type. */
export const ecrDriver = {
  type: 'ecr',
  title: 'AWS ECR',
  status: 'ready',
  capabilities,
  create: (context): Driver => createEcrDriver(context),
} satisfies DriverFactory;
