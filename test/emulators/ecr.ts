/**
 * An AWS ECR emulator (reference §3.1, §4.4) on top of the memory registry: the AWS JSON 1.1 API on `POST /`
 * (`X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`, `Content-Type: application/x-amz-json-1.1`, SigV4
 * verified against known test keys) next to the Registry API, which takes Basic `AWS:<token>` from
 * GetAuthorizationToken. The real `@aws-sdk/client-ecr` talks to it through `endpoint`.
 * Quirks reproduced: `__type` error bodies with 400, nextToken paging with maxResults (1–1000, default 100),
 * epoch-second (fractional) `imagePushedAt`, one ListImages entry per tag, the 1–100 item limit of
 * BatchDeleteImage / DescribeImages imageIds (InvalidParameterException), partial failures with HTTP 200 in
 * `failures`, by-tag deletes that remove only the tag (the image goes with its last tag), by-digest deletes that
 * take every tag, ImageReferencedByManifestList for index children, index children listed as untagged images,
 * DescribeRepositories paged by nextToken, Put/GetLifecyclePolicy with LifecyclePolicyNotFoundException (see
 * ecr-operations.ts).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RegistryStore } from './memory-registry/store.ts';
import { type Body, EcrFault, imageIdKey, OPERATIONS } from './ecr-operations.ts';
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
  /** Called before DescribeRepositories reads the store (another writer pushing while a listing pages). */
  beforeOperation?: (operation: string, body: Body) => void;
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
  /**
   * A fault for tests: the next BatchDeleteImage item naming `id` (same tag, or same digest without a tag) answers
   * `failureCode` in `failures` and deletes nothing — e.g. an ImageNotFound for an image that is still there, as
   * an eventually consistent read can answer. The codes and reasons themselves are AWS's (reference §3.1).
   */
  failNextDelete(id: { imageDigest?: string; imageTag?: string }, failureCode: string, failureReason: string): void;
}

/** Starts an ECR emulator on a free loopback port. Always stop it. */
export async function startEcrEmulator(options: EcrEmulatorOptions = {}): Promise<EcrEmulator> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '123456789012';
  const keys: readonly EcrAccessKey[] = options.keys ?? [{ accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') }];
  const registryPassword = `eyJ${randomBytes(48).toString('base64url')}`;
  const apiCalls: EcrApiCall[] = [];
  const denied = new Set(options.deny ?? []);
  let throttleLeft = options.throttle ?? 0;
  const injectedFailures = new Map<string, { failureCode: string; failureReason: string }>();
  const lifecyclePolicies = new Map<string, { text: string; at: Date }>();
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
      answer(200, handler(call.body, { store, account, region, origin, registryPassword, pageLimit: options.pageLimit, now: options.clock ?? (() => new Date()), injectedFailures, lifecyclePolicies, ...(options.beforeOperation === undefined ? {} : { beforeOperation: options.beforeOperation }) }));
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
    failNextDelete: (id, failureCode, failureReason) => void injectedFailures.set(imageIdKey(id), { failureCode, failureReason }),
  };
}

async function collect(req: IncomingMessage): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks;
}

