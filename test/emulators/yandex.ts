/**
 * Yandex Container Registry emulator on top of the memory registry, from Yandex Cloud's API reference (reference
 * §3.11): the images API under `/container-registry/v1` (`GET images?repositoryName=&pageSize=&pageToken=`,
 * `GET images/{id}`, `DELETE images/{id}`), the operation API (`GET /operations/{id}`), and the IAM API's OAuth
 * exchange (`POST /iam/v1/tokens {yandexPassportOauthToken}` -> `{iamToken, expiresAt}`), all with
 * `Authorization: Bearer <IAM token>`. A repo `<registry-id>/<image>` of the Registry API is the API's repository
 * of that name. Quirks reproduced, each from its documentation:
 * - proto3 JSON mapping (protobuf.dev/programming-guides/proto3#json; Yandex API "REST" concepts): int64 as a
 *   string (`compressedSize`, `config.size`), fields at their default omitted — no `images` on an empty page, no
 *   `tags` on an untagged image, no `nextPageToken` on the last page, no `done` on a running operation;
 * - paging (ImageService.List): `pageSize` up to 1000 (default 100; the emulator can cap it lower), an opaque
 *   `nextPageToken` sent back as `pageToken`. The token names the last image id served, so deletes between pages
 *   never make a page skip an image;
 * - IAM (iam/operations/iam-token/create-for-sa): a service account's JWT is PS256-signed, `kid` = key id, `aud`
 *   = `https://iam.api.cloud.yandex.net/iam/v1/tokens`, at most an hour long; the authorized key file's
 *   `private_key` starts with a "PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID …" line;
 * - ImageService.Delete answers an Operation (`metadata.@type` DeleteImageMetadata); the image goes when the
 *   operation completes, after `operationPolls` reads of it; a failed operation ends `done` with `error`
 *   (google.rpc.Status `{code, message}`), gRPC-status errors elsewhere (`{code: 5, message}` with HTTP 404).
 */
import { Buffer } from 'node:buffer';
import { constants, createHash, createPublicKey, randomUUID, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type MemoryRegistry, type RegistryStore, type RouteHelpers, startMemoryRegistry } from './memory-registry.ts';

/** How the emulator behaves. */
export interface YandexEmulatorOptions {
  /** IAM tokens the API accepts (more are issued by the OAuth exchange). */
  iamTokens?: string[];
  /** OAuth tokens the IAM API exchanges. */
  oauthTokens?: string[];
  /** Service account keys whose JWTs the IAM API exchanges: key id -> {service account id, public key PEM}. */
  serviceAccountKeys?: Record<string, { serviceAccountId: string; publicKey: string }>;
  /** The largest page served whatever `pageSize` asks (default 1000, the API's maximum). */
  maxPageSize?: number;
  /** Reads of a delete operation before it completes (default 2; 0: done in the DELETE answer). */
  operationPolls?: number;
  /** DELETE answers 404 and deletes nothing (a gateway that hides images the token may not touch). */
  deleteAnswers404?: boolean;
  clock?: () => Date;
}

/** One operation the emulator runs. */
interface EmulatedOperation {
  id: string;
  repo: string;
  digest: string;
  imageId: string;
  pollsLeft: number;
  createdAt: string;
  done: boolean;
  error?: { code: number; message: string };
}

/** A running emulator. */
export interface YandexEmulator {
  registry: MemoryRegistry;
  host: string;
  store: RegistryStore;
  /** The API origin (`http://127.0.0.1:PORT`): `api:` in the config; the operation API lives there too. */
  api: string;
  /** The IAM API base (`…/iam/v1`). */
  iam: string;
  /** Makes the next `count` delete operations end with this gRPC error (e.g. 9 FAILED_PRECONDITION). */
  failNextDeletes(count: number, error: { code: number; message: string }): void;
  /** Operations started so far. */
  operations: Map<string, EmulatedOperation>;
  /** IAM tokens issued by the OAuth exchange. */
  issued: string[];
  /** The image id the API gives a manifest (stable, as Yandex ids are). */
  imageId(repo: string, digest: string): string;
  stop(): Promise<void>;
}

const PREFIX = '/container-registry/v1/';
const grpcError = (code: number, message: string) => ({ code, message, details: [] });

/** Starts the emulator on a free loopback port; always stop it. */
export async function startYandexEmulator(options: YandexEmulatorOptions = {}): Promise<YandexEmulator> {
  const accepted = new Set(options.iamTokens ?? []);
  const oauth = new Set(options.oauthTokens ?? []);
  const issued: string[] = [];
  const operations = new Map<string, EmulatedOperation>();
  const clock = options.clock ?? (() => new Date());
  let failures: { count: number; error: { code: number; message: string } } = { count: 0, error: { code: 0, message: '' } };
  const imageId = (repo: string, digest: string) => `crp${createHash('sha256').update(`${repo}@${digest}`).digest('hex').slice(0, 17)}`;

  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): Promise<boolean> => {
    if (url.pathname === '/iam/v1/tokens') return exchange(req, res, helpers), true;
    const isOperation = url.pathname.startsWith('/operations/');
    if (!url.pathname.startsWith(PREFIX) && !isOperation) return false;
    const token = String(req.headers['authorization'] ?? '').replace(/^Bearer\s+/i, '');
    if (!accepted.has(token)) {
      helpers.sendJson(req, res, 401, grpcError(16, 'The token is invalid'));
      return true;
    }
    if (isOperation) return serveOperation(req, res, decodeURIComponent(url.pathname.slice('/operations/'.length)), store, helpers), true;
    serveImages(req, res, url, store, helpers);
    return true;
  };

  async function exchange(req: IncomingMessage, res: ServerResponse, helpers: RouteHelpers): Promise<void> {
    let body: { yandexPassportOauthToken?: string; jwt?: string };
    try {
      body = JSON.parse(new TextDecoder().decode(await helpers.readBody(req))) as typeof body;
    } catch {
      return helpers.sendJson(req, res, 400, grpcError(3, 'Illegal JSON'));
    }
    if (req.method !== 'POST') return helpers.sendJson(req, res, 501, grpcError(12, 'Method not implemented'));
    if (body.jwt !== undefined) {
      if (!validJwt(body.jwt)) return helpers.sendJson(req, res, 401, grpcError(16, 'JWT signature is invalid or the token expired'));
    } else if (body.yandexPassportOauthToken === undefined || !oauth.has(body.yandexPassportOauthToken)) {
      return helpers.sendJson(req, res, 401, grpcError(16, 'The provided OAuth token is invalid.'));
    }
    const token = `t1.${randomUUID().replaceAll('-', '')}`;
    issued.push(token);
    accepted.add(token);
    helpers.sendJson(req, res, 200, { iamToken: token, expiresAt: new Date(clock().getTime() + 12 * 3_600_000).toISOString() });
  }

  /**
   * A service account JWT as Yandex's IAM docs require: PS256 with the key's id as `kid`, `iss` the service
   * account, `aud` the IAM token URL, and at most an hour between `iat` and `exp`.
   */
  function validJwt(jwt: string): boolean {
    const [head, payload, signature] = jwt.split('.');
    if (head === undefined || payload === undefined || signature === undefined) return false;
    try {
      const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: string; aud?: string; iat?: number; exp?: number };
      const key = header.kid === undefined ? undefined : options.serviceAccountKeys?.[header.kid];
      if (header.alg !== 'PS256' || key === undefined || claims.iss !== key.serviceAccountId) return false;
      if (claims.aud !== 'https://iam.api.cloud.yandex.net/iam/v1/tokens' || claims.iat === undefined || claims.exp === undefined || claims.exp - claims.iat > 3600) return false;
      if (claims.exp * 1000 < clock().getTime()) return false;
      return verify('sha256', Buffer.from(`${head}.${payload}`), { key: createPublicKey(key.publicKey), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, Buffer.from(signature, 'base64url'));
    } catch {
      return false;
    }
  }

  /** Every image of the store's repos, sorted by id (the order pages follow). */
  function allImages(store: RegistryStore, repositoryName: string): Record<string, unknown>[] {
    return store
      .manifests(repositoryName)
      .map((m) => {
        const layers = m.blobs.map((digest) => ({ digest, size: String(store.blob(digest)?.byteLength ?? 0) }));
        const tags = store.tagsOf(repositoryName, m.digest);
        const size = layers.reduce((sum, l) => sum + Number(l.size), m.bytes.byteLength);
        return {
          id: imageId(repositoryName, m.digest),
          name: repositoryName,
          digest: m.digest,
          compressedSize: String(size), // proto3 int64 -> JSON string
          ...(layers.length === 0 ? {} : { layers }),
          ...(tags.length === 0 ? {} : { tags }), // proto3: an empty repeated field is omitted
          createdAt: m.pushedAt.toISOString(),
        };
      })
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  function findImage(store: RegistryStore, id: string): { repo: string; digest: string } | undefined {
    for (const repo of store.repos()) for (const m of store.manifests(repo)) if (imageId(repo, m.digest) === id) return { repo, digest: m.digest };
    return undefined;
  }

  function serveImages(req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): void {
    const rest = url.pathname.slice(PREFIX.length);
    if (rest === 'images' && req.method === 'GET') {
      const repositoryName = url.searchParams.get('repositoryName');
      if (repositoryName === null || repositoryName === '') return helpers.sendJson(req, res, 400, grpcError(3, 'One of registry_id, repository_name or folder_id must be specified'));
      const asked = Number(url.searchParams.get('pageSize') ?? '100');
      if (!Number.isInteger(asked) || asked < 0 || asked > 1000) return helpers.sendJson(req, res, 400, grpcError(3, 'page_size: value must be in the range [0, 1000]'));
      const size = Math.min(asked === 0 ? 100 : asked, options.maxPageSize ?? 1000);
      const token = url.searchParams.get('pageToken');
      let after = '';
      if (token !== null && token !== '') {
        try {
          after = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after: string }).after;
        } catch {
          return helpers.sendJson(req, res, 400, grpcError(3, 'Invalid page token'));
        }
      }
      const remaining = allImages(store, repositoryName).filter((image) => String(image['id']) > after);
      const page = remaining.slice(0, size);
      const last = page.at(-1);
      const next = remaining.length > page.length && last !== undefined ? Buffer.from(JSON.stringify({ after: last['id'] })).toString('base64url') : undefined;
      return helpers.sendJson(req, res, 200, { ...(page.length === 0 ? {} : { images: page }), ...(next === undefined ? {} : { nextPageToken: next }) });
    }
    const match = /^images\/([^/]+)$/.exec(rest);
    if (match === null) return helpers.sendJson(req, res, 404, grpcError(5, 'Not found'));
    const id = decodeURIComponent(match[1] ?? '');
    const found = findImage(store, id);
    if (found === undefined) return helpers.sendJson(req, res, 404, grpcError(5, `Image ${id} not found`));
    if (req.method === 'GET') return helpers.sendJson(req, res, 200, allImages(store, found.repo).find((image) => image['id'] === id));
    if (req.method !== 'DELETE') return helpers.sendJson(req, res, 501, grpcError(12, 'Method not implemented'));
    if (options.deleteAnswers404 === true) return helpers.sendJson(req, res, 404, grpcError(5, `Image ${id} not found`));
    const operation: EmulatedOperation = { id: `crp${randomUUID().replaceAll('-', '').slice(0, 17)}`, repo: found.repo, digest: found.digest, imageId: id, pollsLeft: options.operationPolls ?? 2, createdAt: clock().toISOString(), done: false };
    if (failures.count > 0) {
      failures.count--;
      operation.error = failures.error;
    }
    operations.set(operation.id, operation);
    advance(operation, store);
    helpers.sendJson(req, res, 200, operationJson(operation));
  }

  /** One step of an operation: it completes (deleting the image, or failing) once its polls are used up. */
  function advance(operation: EmulatedOperation, store: RegistryStore): void {
    if (operation.done) return;
    if (operation.pollsLeft > 0) {
      operation.pollsLeft--;
      return;
    }
    operation.done = true;
    if (operation.error !== undefined) return;
    if (!store.deleteManifest(operation.repo, operation.digest)) operation.error = { code: 5, message: `Image ${operation.imageId} not found` };
  }

  function serveOperation(req: IncomingMessage, res: ServerResponse, id: string, store: RegistryStore, helpers: RouteHelpers): void {
    const operation = operations.get(id);
    if (req.method !== 'GET' || operation === undefined) return helpers.sendJson(req, res, 404, grpcError(5, `Operation ${id} not found`));
    advance(operation, store);
    helpers.sendJson(req, res, 200, operationJson(operation));
  }

  const operationJson = (operation: EmulatedOperation) => ({
    id: operation.id,
    description: 'Delete image',
    createdAt: operation.createdAt,
    createdBy: 'ajeregplanbot',
    modifiedAt: clock().toISOString(),
    ...(operation.done ? { done: true } : {}), // proto3: false is omitted
    metadata: { '@type': 'type.googleapis.com/yandex.cloud.containerregistry.v1.DeleteImageMetadata', imageId: operation.imageId },
    ...(operation.done ? (operation.error === undefined ? { response: { '@type': 'type.googleapis.com/google.protobuf.Empty' } } : { error: { ...operation.error, details: [] } }) : {}),
  });

  const registry = await startMemoryRegistry({ routes, ...(options.clock === undefined ? {} : { clock: options.clock }) });
  return {
    registry,
    host: registry.host,
    store: registry.store,
    api: registry.url,
    iam: `${registry.url}/iam/v1`,
    failNextDeletes: (count, error) => void (failures = { count, error }),
    operations,
    issued,
    imageId,
    stop: () => registry.stop(),
  };
}
