/**
 * An AWS ECR emulator (reference §3.1, §4.4) on top of the memory registry: the AWS JSON 1.1 API on `POST /`
 * (`X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`, `Content-Type: application/x-amz-json-1.1`, SigV4
 * verified against known test keys) next to the Registry API, which takes Basic `AWS:<token>` from
 * GetAuthorizationToken. The real `@aws-sdk/client-ecr` talks to it through `endpoint`.
 * Quirks reproduced: `__type` error bodies with 400, nextToken paging with maxResults (1–1000, default 100),
 * epoch-second (fractional) `imagePushedAt`, one ListImages entry per tag, the 1–100 item limit of
 * BatchDeleteImage / DescribeImages imageIds (InvalidParameterException), partial failures with HTTP 200 in
 * `failures`, by-tag deletes that remove only the tag (the image goes with its last tag), by-digest deletes that
 * take every tag, ImageReferencedByManifestList for index children, index children listed as untagged images.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RegistryStore, StoredManifest } from './memory-registry/store.ts';
import { startMemoryRegistry, type MemoryRegistry, type MemoryRegistryOptions } from './memory-registry.ts';
import { verifySigV4 } from './ecr-sigv4.ts';

/** The JSON 1.1 target prefix every ECR operation carries. */
export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';

/** One AWS access key the emulator accepts. */
export interface EcrAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** How the ECR emulator behaves. */
export interface EcrEmulatorOptions {
  /** Accepted keys (default: one generated key, see `credentials`). */
  keys?: readonly EcrAccessKey[];
  /** Signing region the API accepts (default us-east-1). */
  region?: string;
  /** The 12-digit account (registryId) of the registry (default 123456789012). */
  account?: string;
  /** Server-side cap on one page (ECR may answer fewer than maxResults); default none. */
  pageLimit?: number;
  /** Operations answered with AccessDeniedException (an IAM policy without them). */
  deny?: readonly string[];
  /** The first `throttle` API calls are answered with ThrottlingException (the SDK retries them). */
  throttle?: number;
  /** When false the Registry API needs no auth (default true: Basic AWS:<GetAuthorizationToken password>). */
  registryAuth?: boolean;
  clock?: () => Date;
  store?: MemoryRegistryOptions['store'];
}

/** One API call as the emulator received it. */
export interface EcrApiCall {
  operation: string;
  contentType: string;
  body: Record<string, unknown>;
  /** The access key id that signed it, when the signature was valid. */
  accessKeyId?: string;
  status: number;
}

/** A running ECR emulator. */
export interface EcrEmulator extends MemoryRegistry {
  /** The API endpoint for `registries.<host>.api` / the SDK's `endpoint`. */
  api: string;
  region: string;
  account: string;
  /** The first accepted key (what tests export as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). */
  credentials: EcrAccessKey;
  /** The Registry API password GetAuthorizationToken hands out (user `AWS`). */
  registryPassword: string;
  /** Every API call, in order. */
  apiCalls: EcrApiCall[];
  /** API calls of one operation. */
  callsTo(operation: string): EcrApiCall[];
}

type Body = Record<string, unknown>;
type ImageId = { imageDigest?: string; imageTag?: string };
type Failure = { imageId: ImageId; failureCode: string; failureReason: string };

/** An error answer of the API: `{"__type","message"}` with 400 (500 for ServerException). */
class EcrFault extends Error {
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

/** Starts an ECR emulator on a free loopback port. Always stop it. */
export async function startEcrEmulator(options: EcrEmulatorOptions = {}): Promise<EcrEmulator> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '123456789012';
  const keys: readonly EcrAccessKey[] = options.keys ?? [{ accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') }];
  const registryPassword = `eyJ${randomBytes(48).toString('base64url')}`;
  const apiCalls: EcrApiCall[] = [];
  const denied = new Set(options.deny ?? []);
  let throttleLeft = options.throttle ?? 0;
  let origin = '';

  const api = async (req: IncomingMessage, res: ServerResponse, store: RegistryStore): Promise<void> => {
    const raw = Buffer.concat(await collect(req));
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(ECR_TARGET_PREFIX) ? target.slice(ECR_TARGET_PREFIX.length) : target;
    const call: EcrApiCall = { operation, contentType: String(req.headers['content-type'] ?? ''), body: {}, status: 200 };
    apiCalls.push(call);
    const answer = (status: number, body: unknown) => {
      call.status = status;
      const bytes = Buffer.from(JSON.stringify(body));
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': String(bytes.length), 'x-amzn-requestid': randomBytes(16).toString('hex') });
      res.end(bytes);
    };
    try {
      const signed = verifySigV4(req, raw, { keys, region, service: 'ecr' });
      if (!signed.ok) throw new EcrFault(signed.code, signed.message);
      call.accessKeyId = signed.accessKeyId;
      if (!target.startsWith(ECR_TARGET_PREFIX)) throw new EcrFault('UnknownOperationException', `Unknown operation ${target}`);
      if (!call.contentType.startsWith('application/x-amz-json-1.1')) throw new EcrFault('SerializationException', `Unexpected content type ${call.contentType}`);
      try {
        call.body = raw.length === 0 ? {} : (JSON.parse(raw.toString('utf8')) as Body);
      } catch {
        throw new EcrFault('SerializationException', 'Start of structure or map found where not expected.');
      }
      if (throttleLeft > 0) {
        throttleLeft -= 1;
        throw new EcrFault('ThrottlingException', 'Rate exceeded');
      }
      if (denied.has(operation)) {
        throw new EcrFault('AccessDeniedException', `User: arn:aws:iam::${account}:user/test is not authorized to perform: ecr:${operation} on resource: arn:aws:ecr:${region}:${account}:repository/${String(call.body['repositoryName'] ?? '*')} because no identity-based policy allows the ecr:${operation} action`);
      }
      const handler = OPERATIONS[operation];
      if (handler === undefined) throw new EcrFault('UnknownOperationException', `Unknown operation ${operation}`);
      answer(200, handler(call.body, { store, account, region, origin, registryPassword, pageLimit: options.pageLimit, now: options.clock ?? (() => new Date()) }));
    } catch (error) {
      if (error instanceof EcrFault) answer(error.status, { __type: error.code, message: error.message });
      else answer(500, { __type: 'ServerException', message: String(error) });
    }
  };

  const registry = await startMemoryRegistry({
    auth: options.registryAuth === false ? { kind: 'none' } : { kind: 'basic', users: { AWS: registryPassword }, realm: `https://${account}.dkr.ecr.${region}.amazonaws.com/` },
    tagDelete: 'digest-invalid-400', // [U] for ECR; regplan never deletes through /v2 on ECR
    digestDelete: 'delete',
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.store === undefined ? {} : { store: options.store }),
    routes: async (req, res, url, store) => {
      if (req.method !== 'POST' || url.pathname !== '/' || req.headers['x-amz-target'] === undefined) return false;
      await api(req, res, store);
      return true;
    },
  });
  origin = registry.url;
  return {
    ...registry,
    api: `${registry.url}/`,
    region,
    account,
    credentials: keys[0] as EcrAccessKey,
    registryPassword,
    apiCalls,
    callsTo: (operation) => apiCalls.filter((c) => c.operation === operation),
  };
}

async function collect(req: IncomingMessage): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks;
}

/** What an operation sees besides its request body. */
interface OperationContext {
  store: RegistryStore;
  account: string;
  region: string;
  origin: string;
  registryPassword: string;
  pageLimit: number | undefined;
  now: () => Date;
}

const OPERATIONS: Record<string, (body: Body, context: OperationContext) => unknown> = {
  DescribeImages: describeImages,
  ListImages: listImages,
  BatchDeleteImage: batchDeleteImage,
  GetAuthorizationToken: getAuthorizationToken,
  DescribeRepositories: describeRepositories,
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
    imageManifestMediaType: manifest.mediaType,
    ...(manifest.artifactType === undefined ? {} : { artifactMediaType: manifest.artifactType }),
    ...(manifest.subject === undefined ? {} : { subjectManifestDigest: manifest.subject }),
    imageStatus: 'ACTIVE',
  };
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

function describeRepositories(body: Body, context: OperationContext): unknown {
  const names = listSize(body, 'repositoryNames') as string[] | undefined;
  const all = context.store.repos();
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
