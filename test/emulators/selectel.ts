/**
 * Selectel CRaaS emulator (reference §3.12, craas-go v1) on top of the memory registry: the Keystone identity
 * service (`POST /identity/v3/auth/tokens`, password method, account or project scope, token in
 * `X-Subject-Token`), and the CRaaS API under `/api/v1` with `X-Auth-Token`: registries, repositories (204 when
 * empty), images with digests, tags and RFC 3339 nanosecond `createdAt` (no paging), tags, and
 * `DELETE .../<repo>/<digest>` answering 204, 404 when missing and 409 while garbage collection runs.
 * Repository names are URL-encoded path segments (`app%2Fweb`). A repo `<registry>/<path>` of the Registry API
 * is repository `<path>` of CRaaS registry `<registry>`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type MemoryAuth, type MemoryRegistry, type RegistryStore, type RouteHelpers, startMemoryRegistry } from './memory-registry.ts';

/** The service user and the account it belongs to. */
export interface SelectelAccount {
  /** Account number (the Keystone domain name). */
  account: string;
  username: string;
  password: string;
  /** The project holding the registries. */
  project: { name: string; id: string };
}

/** How the emulator behaves. */
export interface SelectelEmulatorOptions {
  user: SelectelAccount;
  /** CRaaS registries of the project: name -> id (default `{ acme: <uuid> }`). */
  registries?: Record<string, string>;
  /** CRaaS refuses account-scoped tokens with 401, as it serves project resources (default false: both scopes pass). */
  requireProjectScope?: boolean;
  /** Auth of the Registry API (/v2), default none. */
  registryAuth?: MemoryAuth;
  clock?: () => Date;
}

/** A running emulator. */
export interface SelectelEmulator {
  registry: MemoryRegistry;
  /** `127.0.0.1:PORT` */
  host: string;
  store: RegistryStore;
  /** The CRaaS API base, `http://127.0.0.1:PORT/api/v1`. */
  api: string;
  /** The Keystone endpoint, `http://127.0.0.1:PORT/identity/v3`. */
  identity: string;
  registries: Record<string, string>;
  /** Starts a garbage collection: the next `refusedDeletes` DELETEs answer 409 (Infinity: until `finishGarbageCollection`). */
  startGarbageCollection(refusedDeletes: number): void;
  finishGarbageCollection(): void;
  /** Tokens issued so far, and the scope each was issued for. */
  tokens: Map<string, 'account' | 'project'>;
  stop(): Promise<void>;
}

const KEYSTONE_UNAUTHORIZED = { error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } };

/** Starts the emulator on a free loopback port; always stop it. */
export async function startSelectelEmulator(options: SelectelEmulatorOptions): Promise<SelectelEmulator> {
  const registries = options.registries ?? { acme: randomUUID() };
  const tokens = new Map<string, 'account' | 'project'>();
  let refusedDeletes = 0;
  const clock = options.clock ?? (() => new Date());

  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): Promise<boolean> => {
    if (url.pathname === '/identity/v3/auth/tokens') return issueToken(req, res, helpers), true;
    if (!url.pathname.startsWith('/api/v1/')) return false;
    const scope = tokens.get(String(req.headers['x-auth-token'] ?? ''));
    if (scope === undefined || (options.requireProjectScope === true && scope !== 'project')) {
      helpers.sendJson(req, res, 401, { error: scope === undefined ? 'invalid or missing X-Auth-Token' : 'a project-scoped token is required' });
      return true;
    }
    serveCraas(req, res, url, store, helpers);
    return true;
  };

  async function issueToken(req: IncomingMessage, res: ServerResponse, helpers: RouteHelpers): Promise<void> {
    if (req.method !== 'POST') return helpers.sendJson(req, res, 405, { error: { code: 405, message: 'The method is not allowed for the requested URL.', title: 'Method Not Allowed' } });
    let body: KeystoneAuthBody;
    try {
      body = JSON.parse(new TextDecoder().decode(await helpers.readBody(req))) as KeystoneAuthBody;
    } catch {
      return helpers.sendJson(req, res, 400, { error: { code: 400, message: 'Malformed request body', title: 'Bad Request' } });
    }
    const identity = body.auth?.identity;
    const user = identity?.password?.user;
    if (!identity?.methods?.includes('password') || user === undefined) {
      return helpers.sendJson(req, res, 400, { error: { code: 400, message: "Expecting to find identity in auth. The server could not comply with the request since it is either malformed or otherwise incorrect.", title: 'Bad Request' } });
    }
    const account = options.user;
    const rightUser = user.name === account.username && user.domain?.name === account.account && user.password === account.password;
    const scope = body.auth?.scope;
    const project = scope?.project;
    const projectMatches = project !== undefined && (project.id === account.project.id || (project.name === account.project.name && project.domain?.name === account.account));
    const domainMatches = project === undefined && scope?.domain?.name === account.account;
    if (!rightUser || !(projectMatches || domainMatches)) return helpers.sendJson(req, res, 401, KEYSTONE_UNAUTHORIZED);
    const token = `gAAAA${randomUUID().replaceAll('-', '')}`;
    tokens.set(token, projectMatches ? 'project' : 'account');
    const now = clock();
    helpers.sendJson(req, res, 201, {
      token: {
        methods: ['password'],
        user: { id: 'u-1', name: account.username, domain: { id: account.account, name: account.account } },
        ...(projectMatches ? { project: { id: account.project.id, name: account.project.name, domain: { id: account.account, name: account.account } } } : { domain: { id: account.account, name: account.account } }),
        issued_at: now.toISOString(),
        expires_at: new Date(now.getTime() + 86_400_000).toISOString(),
      },
    }, { 'x-subject-token': token });
  }

  function serveCraas(req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): void {
    const method = req.method ?? 'GET';
    let segments: string[];
    try {
      segments = url.pathname.slice('/api/v1/'.length).split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    } catch {
      return helpers.sendJson(req, res, 400, { error: 'malformed path' });
    }
    const notFound = (id: string, message: string) => helpers.sendJson(req, res, 404, { error: { id, message } });
    if (segments[0] !== 'registries') return notFound(url.pathname, 'not found');
    if (segments.length === 1 && method === 'GET') {
      return helpers.sendJson(req, res, 200, Object.entries(registries).map(([name, id]) => ({ id, name, createdAt: '2024-01-01T00:00:00Z', status: 'ACTIVE', size: 0, sizeLimit: 0, used: 0 })));
    }
    const registryId = segments[1] ?? '';
    const registryName = Object.entries(registries).find(([, id]) => id === registryId)?.[0];
    if (registryName === undefined) return notFound(registryId, 'registry not found');
    const prefix = `${registryName}/`;
    if (segments[2] === 'garbage-collection' && method === 'POST') {
      refusedDeletes = 3;
      return helpers.sendEmpty(res, 201);
    }
    if (segments[2] !== 'repositories') return notFound(url.pathname, 'not found');
    if (segments.length === 3 && method === 'GET') {
      const repos = store.repos().filter((r) => r.startsWith(prefix));
      if (repos.length === 0) return helpers.sendEmpty(res, 204);
      return helpers.sendJson(req, res, 200, repos.map((r) => ({ name: r.slice(prefix.length), size: repoSize(store, r), updatedAt: nanoTime(latest(store, r)) })));
    }
    const repoName = segments[3] ?? '';
    const repo = `${prefix}${repoName}`;
    if (segments.length > 5) return notFound(url.pathname, 'not found'); // an unencoded "/" in the repository name lands here
    if (store.repo(repo) === undefined) return notFound(repoName, 'repository not found'); // never pushed to; an emptied one lists []
    const tail = segments[4];
    if (tail === 'images' && method === 'GET') return helpers.sendJson(req, res, 200, images(store, repo));
    if (tail === 'tags' && method === 'GET') return helpers.sendJson(req, res, 200, store.tags(repo).map((t) => t.tag));
    if (tail !== undefined && method === 'DELETE') {
      if (refusedDeletes > 0) {
        refusedDeletes--;
        return helpers.sendJson(req, res, 409, { error: 'garbage collection is in progress, try again later' });
      }
      const digest = tail.startsWith('sha256:') ? tail : store.resolve(repo, tail)?.digest;
      if (digest === undefined || !store.deleteManifest(repo, digest)) return notFound(tail, 'manifest not found');
      return helpers.sendEmpty(res, 204);
    }
    if (tail !== undefined && method === 'GET') {
      const manifest = store.resolve(repo, tail);
      if (manifest === undefined) return notFound(tail, 'manifest not found');
      return helpers.sendJson(req, res, 200, manifest.blobs.map((digest) => ({ digest, size: store.blob(digest)?.byteLength ?? 0 })));
    }
    helpers.sendJson(req, res, 405, { error: `${method} is not allowed here` });
  }

  const registry = await startMemoryRegistry({
    routes,
    ...(options.registryAuth === undefined ? {} : { auth: options.registryAuth }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return {
    registry,
    host: registry.host,
    store: registry.store,
    api: `${registry.url}/api/v1`,
    identity: `${registry.url}/identity/v3`,
    registries,
    startGarbageCollection: (n) => void (refusedDeletes = n),
    finishGarbageCollection: () => void (refusedDeletes = 0),
    tokens,
    stop: () => registry.stop(),
  };
}

/** The body of a Keystone v3 password authentication. */
interface KeystoneAuthBody {
  auth?: {
    identity?: { methods?: string[]; password?: { user?: { name?: string; domain?: { name?: string }; password?: string } } };
    scope?: { domain?: { name?: string }; project?: { id?: string; name?: string; domain?: { name?: string } } };
  };
}

/** Every manifest of a repo as CRaaS lists images: digest, createdAt, tags (empty when untagged), size, layers. */
function images(store: RegistryStore, repo: string): unknown[] {
  return store.manifests(repo).map((m) => {
    const layers = m.blobs.map((digest) => ({ digest, size: store.blob(digest)?.byteLength ?? 0 }));
    return { digest: m.digest, createdAt: nanoTime(m.pushedAt), tags: store.tagsOf(repo, m.digest), size: layers.reduce((sum, l) => sum + l.size, m.bytes.byteLength), layers };
  });
}

/** RFC 3339 with nanoseconds, as Go marshals a time.Time (`2025-01-01T00:00:00.123456789Z`). */
const nanoTime = (date: Date): string => `${date.toISOString().slice(0, 23)}456789Z`;

const latest = (store: RegistryStore, repo: string): Date => new Date(Math.max(...store.manifests(repo).map((m) => m.pushedAt.getTime())));

const repoSize = (store: RegistryStore, repo: string): number => store.manifests(repo).reduce((sum, m) => sum + m.bytes.byteLength, 0);
