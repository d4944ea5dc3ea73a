/**
 * An in-memory OCI Distribution registry on 127.0.0.1 (port 0): the base every vendor emulator (Harbor, Quay,
 * Docker Hub, GHCR, GitLab, ACR, ECR, Selectel) builds on by adding native routes through `routes` and picking
 * its delete quirks through `tagDelete` / `digestDelete`. skopeo and regplan's RegistryClient both work against
 * it; tests seed and inspect it through `store` without HTTP, and read every request from `requests`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { RegistryAuth, type MemoryAuth } from './memory-registry/auth.ts';
import { readBody, sendBytes, sendEmpty, sendJson, sendOciError } from './memory-registry/respond.ts';
import { linkHeader, paginate, serveRegistryApi, type DigestDeleteMode, type TagDeleteMode } from './memory-registry/routes.ts';
import { RegistryStore } from './memory-registry/store.ts';
import { Uploads } from './memory-registry/uploads.ts';

export { RegistryStore, isDigestRef, manifestReferences } from './memory-registry/store.ts';
export type { SeededMemoryImage, StoredManifest, StoredRepo, StoredTag } from './memory-registry/store.ts';
export { RegistryAuth } from './memory-registry/auth.ts';
export type { IssuedToken, MemoryAuth } from './memory-registry/auth.ts';
export type { DigestDeleteMode, TagDeleteMode } from './memory-registry/routes.ts';
export { readBody, sendBytes, sendEmpty, sendJson, sendOciError } from './memory-registry/respond.ts';
export { linkHeader, paginate } from './memory-registry/routes.ts';

/** Helpers handed to vendor routes, so they answer and authenticate the way the registry does. */
export interface RouteHelpers {
  auth: RegistryAuth;
  /** The registry's own `http://127.0.0.1:PORT`. */
  url: string;
  readBody: typeof readBody;
  sendJson: typeof sendJson;
  sendBytes: typeof sendBytes;
  sendEmpty: typeof sendEmpty;
  sendOciError: typeof sendOciError;
  paginate: typeof paginate;
  linkHeader: typeof linkHeader;
}

/** A vendor route hook: answers the request and returns true, or returns false to let the registry answer. */
export type VendorRoutes = (req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers) => boolean | Promise<boolean>;

/** How the memory registry behaves. */
export interface MemoryRegistryOptions {
  /** Default `{ kind: 'none' }`. Bearer serves its token endpoint at `realmPath` (default `/token`) on the same server. */
  auth?: MemoryAuth;
  /** What DELETE by tag does: 'untag' (distribution v3, Quay, GCR), 'unsupported-400' (Harbor), 'unsupported-405' (GHCR), 'digest-invalid-400' (distribution 2.8, the default). */
  tagDelete?: TagDeleteMode;
  /** What DELETE by digest does: 'delete' (default), 'unsupported-405' (GHCR), 'forbidden-if-tagged-403' (Docker Hub), 'dangling-tag-400' (GCR). */
  digestDelete?: DigestDeleteMode;
  /** Page size of tags/list and _catalog when `n` is absent, and the cap on `n` (default: everything in one page). */
  pageSize?: number;
  /** Answer an empty tags/list page with `"tags": null` instead of `[]` (reference §4.2). */
  nullEmptyTags?: boolean;
  /** Stamps push times (default: the real time). */
  clock?: () => Date;
  /** Vendor native APIs; called before the Registry API routes and before auth (the hook authenticates itself). */
  routes?: VendorRoutes;
  /** A store to serve (default: a new empty one), e.g. to restart a registry over the same content. */
  store?: RegistryStore;
}

/** One request as the registry answered it. */
export interface MemoryRequest {
  method: string;
  path: string;
  /** The query string without `?` (empty when none). */
  query: string;
  status: number;
}

/** A running memory registry. */
export interface MemoryRegistry {
  /** `127.0.0.1:PORT` (what a repo address holds). */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  store: RegistryStore;
  auth: RegistryAuth;
  uploads: Uploads;
  /** Every request answered, in order. */
  requests: MemoryRequest[];
  /** Requests whose path starts with `prefix` (and method, when given). */
  requestsTo(prefix: string, method?: string): MemoryRequest[];
  /** Closes the server and every open connection; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts a memory registry on a free loopback port. Always stop it (try/finally or an after hook). */
export async function startMemoryRegistry(options: MemoryRegistryOptions = {}): Promise<MemoryRegistry> {
  const store = options.store ?? new RegistryStore(options.clock === undefined ? {} : { clock: options.clock });
  const auth = new RegistryAuth(options.auth ?? { kind: 'none' });
  const uploads = new Uploads(store);
  const routeOptions = { tagDelete: options.tagDelete ?? 'digest-invalid-400', digestDelete: options.digestDelete ?? 'delete', ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }), ...(options.nullEmptyTags === undefined ? {} : { nullEmptyTags: options.nullEmptyTags }) } as const;
  const requests: MemoryRequest[] = [];
  const sockets = new Set<Socket>();
  let helpers: RouteHelpers | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.on('finish', () => requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.search.replace(/^\?/, ''), status: res.statusCode }));
    try {
      if (options.routes !== undefined && helpers !== undefined && (await options.routes(req, res, url, store, helpers))) return;
      if (auth.tokenPath !== undefined && url.pathname === auth.tokenPath) return await auth.serveToken(req, res, url);
      if (await serveRegistryApi(req, res, url, { store, auth, uploads, options: routeOptions })) return;
      sendOciError(req, res, 404, 'NOT_FOUND', `no route for ${req.method ?? 'GET'} ${url.pathname}`);
    } catch (error) {
      if (!res.headersSent) sendOciError(req, res, 500, 'UNKNOWN', `memory registry failed: ${String(error)}`);
      else res.destroy();
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  auth.setOrigin(url);
  helpers = { auth, url, readBody, sendJson, sendBytes, sendEmpty, sendOciError, paginate, linkHeader };
  let stopped: Promise<void> | undefined;

  return {
    host: `127.0.0.1:${port}`,
    url,
    store,
    auth,
    uploads,
    requests,
    requestsTo: (prefix, method) => requests.filter((r) => r.path.startsWith(prefix) && (method === undefined || r.method === method)),
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      })),
  };
}
