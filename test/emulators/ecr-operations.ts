/**
 * The operations of the ECR emulator (reference §3.1): DescribeImages, ListImages, BatchDeleteImage,
 * GetAuthorizationToken and DescribeRepositories over the memory registry's store, with ECR's paging
 * (opaque nextToken, maxResults 1–1000, default 100), list limits (1–100 ids, InvalidParameterException),
 * per-item BatchDeleteImage failures and its delete semantics (by tag: that tag, and the image with its last tag
 * unless an index holds it; by digest: the image and every tag, refused for a child of an index).
 */
import type { RegistryStore, StoredManifest } from './memory-registry/store.ts';

/** A request or response body. */
export type Body = Record<string, unknown>;
type ImageId = { imageDigest?: string; imageTag?: string };
type Failure = { imageId: ImageId; failureCode: string; failureReason: string };

/** An error answer of the API: `{"__type","message"}` with 400 (500 for ServerException). */
export class EcrFault extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** What an operation sees besides its request body. */
export interface OperationContext {
  store: RegistryStore;
  account: string;
  region: string;
  origin: string;
  registryPassword: string;
  pageLimit: number | undefined;
  now: () => Date;
  /** Called before an operation reads the store (another writer changing it while a listing pages). */
  beforeOperation?: (operation: string, body: Body) => void;
  /** Lifecycle policies by repository name (PutLifecyclePolicy / GetLifecyclePolicy), as the text that was put. */
  lifecyclePolicies: Map<string, { text: string; at: Date }>;
  /** Faults a test injected: image id key (`tag:<t>` / `digest:<d>`) -> the failure its next BatchDeleteImage item gets. */
  injectedFailures: Map<string, { failureCode: string; failureReason: string }>;
}

/** The key of an image id in `injectedFailures`. */
export const imageIdKey = (id: { imageDigest?: string; imageTag?: string }): string =>
  id.imageTag !== undefined ? `tag:${id.imageTag}` : `digest:${id.imageDigest ?? ''}`;

/** Every operation the emulator answers, by name. */
export const OPERATIONS: Record<string, (body: Body, context: OperationContext) => unknown> = {
  DescribeImages: describeImages,
  ListImages: listImages,
  BatchDeleteImage: batchDeleteImage,
  GetAuthorizationToken: getAuthorizationToken,
  DescribeRepositories: describeRepositories,
  PutLifecyclePolicy: putLifecyclePolicy,
  GetLifecyclePolicy: getLifecyclePolicy,
};

/** The repository a request names; RepositoryNotFoundException when it holds nothing (ECR repos exist once pushed to here). */
function repositoryOf(body: Body, context: OperationContext): string {
  const name = body['repositoryName'];
  if (typeof name !== 'string' || name.length < 2 || name.length > 256) {
    throw new EcrFault('InvalidParameterException', "1 validation error detected: Value at 'repositoryName' failed to satisfy constraint: Member must have length between 2 and 256");
  }
  const registryId = body['registryId'] ?? context.account;
  if (registryId !== context.account || context.store.repo(name) === undefined) {
    throw new EcrFault('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${String(registryId)}'`);
  }
  return name;
}

function limitOf(body: Body): number {
  const max = body['maxResults'];
  if (max === undefined) return 100;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 1000) {
    throw new EcrFault('InvalidParameterException', `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`);
  }
  return max;
}

function listSize(body: Body, field: string): unknown[] | undefined {
  const list = body[field];
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw new EcrFault('SerializationException', `${field} must be a list`);
  if (list.length < 1) throw new EcrFault('InvalidParameterException', `1 validation error detected: Value '[]' at '${field}' failed to satisfy constraint: Member must have length greater than or equal to 1`);
  if (list.length > 100) throw new EcrFault('InvalidParameterException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to 100`);
  return list;
}

/** One page of `items` after `nextToken` (an opaque offset bound to the request's filter). */
function page<T>(items: readonly T[], body: Body, context: OperationContext, bind: string): { items: T[]; nextToken?: string } {
  const limit = Math.min(limitOf(body), context.pageLimit ?? Number.POSITIVE_INFINITY);
  let offset = 0;
  const token = body['nextToken'];
  if (token !== undefined) {
    try {
      const decoded = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as { o: number; b: string };
      if (decoded.b !== bind || !Number.isInteger(decoded.o)) throw new Error('mismatch');
      offset = decoded.o;
    } catch {
      throw new EcrFault('InvalidParameterException', 'Invalid parameter at \'nextToken\' failed to satisfy constraint: \'Invalid NextToken\'');
    }
  }
  const slice = items.slice(offset, offset + limit);
  const next = offset + limit < items.length ? Buffer.from(JSON.stringify({ o: offset + limit, b: bind })).toString('base64url') : undefined;
  return { items: slice, ...(next === undefined ? {} : { nextToken: next }) };
}

function tagStatusOf(body: Body): 'TAGGED' | 'UNTAGGED' | 'ANY' {
  const status = (body['filter'] as { tagStatus?: unknown } | undefined)?.tagStatus ?? 'ANY';
  if (status !== 'TAGGED' && status !== 'UNTAGGED' && status !== 'ANY') throw new EcrFault('InvalidParameterException', `Invalid parameter at 'filter.tagStatus': ${String(status)}`);
  return status;
}

/** The repo's images in a stable order (push time, then digest), each with its tags. */
function images(store: RegistryStore, repo: string): { manifest: StoredManifest; tags: string[] }[] {
  return store
    .manifests(repo)
    .sort((a, b) => a.pushedAt.getTime() - b.pushedAt.getTime() || a.digest.localeCompare(b.digest))
    .map((manifest) => ({ manifest, tags: store.tagsOf(repo, manifest.digest) }));
}

const matchesStatus = (tags: readonly string[], status: 'TAGGED' | 'UNTAGGED' | 'ANY'): boolean =>
  status === 'ANY' || (status === 'TAGGED' ? tags.length > 0 : tags.length === 0);

/** Compressed size as ECR reports it: config + layers; for an index, its largest child. */
function sizeOf(store: RegistryStore, repo: string, manifest: StoredManifest): number {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(manifest.bytes)) as { config?: { size?: number }; layers?: { size?: number }[]; manifests?: { digest: string }[] };
    if (Array.isArray(parsed.manifests)) {
      return Math.max(0, ...parsed.manifests.map((m) => {
        const child = store.manifest(repo, m.digest);
        return child === undefined ? 0 : sizeOf(store, repo, child);
      }));
    }
    return (parsed.config?.size ?? 0) + (parsed.layers ?? []).reduce((sum, l) => sum + (l.size ?? 0), 0);
  } catch {
    return manifest.bytes.byteLength;
  }
}

function imageDetail(context: OperationContext, repo: string, image: { manifest: StoredManifest; tags: string[] }): Body {
  const { manifest, tags } = image;
  return {
    registryId: context.account,
    repositoryName: repo,
    imageDigest: manifest.digest,
    ...(tags.length > 0 ? { imageTags: tags } : {}),
    imageSizeInBytes: sizeOf(context.store, repo, manifest),
    imagePushedAt: manifest.pushedAt.getTime() / 1000,
    // ImageDetail.lastRecordedPullTime: absent until the image is first pulled; ECR refreshes it at most once
    // every 24 hours (API reference, ImageDetail).
    ...lastPulled(context, repo, manifest.digest),
    imageManifestMediaType: manifest.mediaType,
    ...(manifest.artifactType === undefined ? {} : { artifactMediaType: manifest.artifactType }),
    ...(manifest.subject === undefined ? {} : { subjectManifestDigest: manifest.subject }),
    imageStatus: 'ACTIVE',
  };
}

function lastPulled(context: OperationContext, repo: string, digest: string): Body {
  const at = context.store.lastPull(repo, digest);
  return at === undefined ? {} : { lastRecordedPullTime: at.getTime() / 1000 };
}

function describeImages(body: Body, context: OperationContext): unknown {
  const repo = repositoryOf(body, context);
  const ids = listSize(body, 'imageIds') as ImageId[] | undefined;
  const all = images(context.store, repo);
  if (ids !== undefined) {
    if (body['nextToken'] !== undefined || body['maxResults'] !== undefined) {
      throw new EcrFault('InvalidParameterException', 'Invalid parameter: imageIds cannot be combined with nextToken or maxResults');
    }
    const details = ids.map((id) => {
      const digest = id.imageDigest ?? (id.imageTag === undefined ? undefined : context.store.resolve(repo, id.imageTag)?.digest);
      const found = digest === undefined ? undefined : all.find((i) => i.manifest.digest === digest);
      if (found === undefined || (id.imageTag !== undefined && !found.tags.includes(id.imageTag))) {
        throw new EcrFault('ImageNotFoundException', `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo}' in the registry with id '${context.account}'`);
      }
      return imageDetail(context, repo, found);
    });
    return { imageDetails: details };
  }
  const status = tagStatusOf(body);
  const selected = all.filter((i) => matchesStatus(i.tags, status));
  const result = page(selected, body, context, `describe:${repo}:${status}`);
  return { imageDetails: result.items.map((i) => imageDetail(context, repo, i)), ...(result.nextToken === undefined ? {} : { nextToken: result.nextToken }) };
}

function listImages(body: Body, context: OperationContext): unknown {
  const repo = repositoryOf(body, context);
  const status = tagStatusOf(body);
  const entries: ImageId[] = [];
  for (const { manifest, tags } of images(context.store, repo)) {
    if (!matchesStatus(tags, status)) continue;
    if (tags.length === 0) entries.push({ imageDigest: manifest.digest });
    for (const tag of tags) entries.push({ imageDigest: manifest.digest, imageTag: tag });
  }
  const result = page(entries, body, context, `list:${repo}:${status}`);
  return { imageIds: result.items, ...(result.nextToken === undefined ? {} : { nextToken: result.nextToken }) };
}

/** Index manifests of the repo that list `digest` as a child. */
const parentsOf = (store: RegistryStore, repo: string, digest: string): string[] =>
  store.manifests(repo).filter((m) => m.children.includes(digest)).map((m) => m.digest).sort();

function batchDeleteImage(body: Body, context: OperationContext): unknown {
  const repo = repositoryOf(body, context);
  const ids = listSize(body, 'imageIds') as ImageId[] | undefined;
  if (ids === undefined) throw new EcrFault('InvalidParameterException', "1 validation error detected: Value null at 'imageIds' failed to satisfy constraint: Member must not be null");
  const { store } = context;
  const deleted: ImageId[] = [];
  const failures: Failure[] = [];
  const fail = (imageId: ImageId, failureCode: string, failureReason: string) => failures.push({ imageId, failureCode, failureReason });
  for (const id of ids) {
    const imageId: ImageId = { ...(id.imageDigest === undefined ? {} : { imageDigest: id.imageDigest }), ...(id.imageTag === undefined ? {} : { imageTag: id.imageTag }) };
    if (id.imageDigest === undefined && id.imageTag === undefined) {
      fail(imageId, 'MissingDigestAndTag', 'Missing digest and tag');
      continue;
    }
    const injected = context.injectedFailures.get(imageIdKey(id));
    if (injected !== undefined) {
      context.injectedFailures.delete(imageIdKey(id));
      fail(imageId, injected.failureCode, injected.failureReason);
      continue;
    }
    if (id.imageDigest !== undefined && !SHA256_DIGEST.test(id.imageDigest)) {
      fail(imageId, 'InvalidImageDigest', 'Invalid request parameters: image digest should satisfy the regex \'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+\'');
      continue;
    }
    if (id.imageTag !== undefined && !TAG_PATTERN.test(id.imageTag)) {
      fail(imageId, 'InvalidImageTag', 'Invalid request parameters: image tag is invalid');
      continue;
    }
    const tagDigest = id.imageTag === undefined ? undefined : store.repo(repo)?.tags.get(id.imageTag);
    const digest = id.imageDigest ?? tagDigest;
    if (digest === undefined || store.manifest(repo, digest) === undefined || (id.imageTag !== undefined && tagDigest === undefined)) {
      fail(imageId, 'ImageNotFound', 'Requested image not found');
      continue;
    }
    if (id.imageTag !== undefined && id.imageDigest !== undefined && tagDigest !== id.imageDigest) {
      fail(imageId, 'ImageTagDoesNotMatchDigest', 'Invalid tag and digest combination');
      continue;
    }
    const parents = parentsOf(store, repo, digest);
    if (id.imageTag !== undefined) {
      // By tag: only that tag goes; the image goes with its last tag (a child of an index stays, untagged).
      const lastTag = store.tagsOf(repo, digest).length === 1;
      store.untag(repo, id.imageTag);
      if (lastTag && parents.length === 0) store.deleteManifest(repo, digest);
      deleted.push({ imageDigest: digest, imageTag: id.imageTag });
      continue;
    }
    if (parents.length > 0) {
      fail(imageId, 'ImageReferencedByManifestList', `Requested image referenced by manifest list: [${parents.join(', ')}]`);
      continue;
    }
    const tags = store.tagsOf(repo, digest);
    store.deleteManifest(repo, digest);
    if (tags.length === 0) deleted.push({ imageDigest: digest });
    for (const tag of tags) deleted.push({ imageDigest: digest, imageTag: tag });
  }
  return { imageIds: deleted, failures };
}

function getAuthorizationToken(_body: Body, context: OperationContext): unknown {
  return {
    authorizationData: [
      {
        authorizationToken: Buffer.from(`AWS:${context.registryPassword}`).toString('base64'),
        expiresAt: context.now().getTime() / 1000 + 12 * 3600,
        proxyEndpoint: context.origin,
      },
    ],
  };
}

/**
 * DescribeRepositories (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeRepositories.html):
 * every repository in pages of maxResults (1–1000, default 100) with an opaque nextToken, names with `/` as they
 * are; `repositoryNames` (1–100) cannot be combined with maxResults or nextToken ("This option cannot be used when you
 * specify repositories with repositoryNames"); another account's registryId finds nothing of this registry.
 */
function describeRepositories(body: Body, context: OperationContext): unknown {
  const names = listSize(body, 'repositoryNames') as string[] | undefined;
  if (names !== undefined && (body['maxResults'] !== undefined || body['nextToken'] !== undefined)) {
    throw new EcrFault('InvalidParameterException', 'Invalid parameter: maxResults and nextToken cannot be used with repositoryNames');
  }
  context.beforeOperation?.('DescribeRepositories', body);
  const registryId = body['registryId'] ?? context.account;
  // A repository outlives its images (CreateRepository/DeleteRepository manage it; BatchDeleteImage never removes it).
  const all = registryId === context.account ? context.store.repos({ includeEmpty: true }) : [];
  for (const name of names ?? []) {
    if (!all.includes(name)) throw new EcrFault('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${context.account}'`);
  }
  const selected = names ?? all;
  const host = `${context.account}.dkr.ecr.${context.region}.amazonaws.com`;
  const result = names === undefined ? page(selected, body, context, 'repositories') : { items: selected };
  return {
    repositories: result.items.map((name) => ({
      repositoryArn: `arn:aws:ecr:${context.region}:${context.account}:repository/${name}`,
      registryId: context.account,
      repositoryName: name,
      repositoryUri: `${host}/${name}`,
      createdAt: 1_700_000_000,
      imageTagMutability: 'MUTABLE',
    })),
    ...('nextToken' in result && result.nextToken !== undefined ? { nextToken: result.nextToken } : {}),
  };
}

/**
 * PutLifecyclePolicy (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutLifecyclePolicy.html):
 * stores `lifecyclePolicyText` (100–30720 characters, InvalidParameterException otherwise; ECR also refuses text
 * that is not a policy document with `rules`) and answers {registryId, repositoryName, lifecyclePolicyText}.
 */
function putLifecyclePolicy(body: Body, context: OperationContext): unknown {
  const repo = repositoryOf(body, context);
  const text = body['lifecyclePolicyText'];
  if (typeof text !== 'string' || text.length < 100 || text.length > 30720) {
    throw new EcrFault('InvalidParameterException', "1 validation error detected: Value at 'lifecyclePolicyText' failed to satisfy constraint: Member must have length between 100 and 30720");
  }
  let rules: unknown;
  try {
    rules = (JSON.parse(text) as { rules?: unknown }).rules;
  } catch {
    rules = undefined;
  }
  if (!Array.isArray(rules) || rules.length === 0) throw new EcrFault('InvalidParameterException', "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure'");
  context.lifecyclePolicies.set(repo, { text, at: context.now() });
  return { registryId: context.account, repositoryName: repo, lifecyclePolicyText: text };
}

/**
 * GetLifecyclePolicy (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetLifecyclePolicy.html):
 * {registryId, repositoryName, lifecyclePolicyText, lastEvaluatedAt (epoch seconds)}; a repository without a
 * policy answers LifecyclePolicyNotFoundException ("Lifecycle policy does not exist for the repository with name
 * '…' in the registry with id '…'").
 */
function getLifecyclePolicy(body: Body, context: OperationContext): unknown {
  const repo = repositoryOf(body, context);
  const policy = context.lifecyclePolicies.get(repo);
  if (policy === undefined) {
    throw new EcrFault('LifecyclePolicyNotFoundException', `Lifecycle policy does not exist for the repository with name '${repo}' in the registry with id '${context.account}'`);
  }
  return { registryId: context.account, repositoryName: repo, lifecyclePolicyText: policy.text, lastEvaluatedAt: policy.at.getTime() / 1000 };
}
