/**
 * Quay emulator (reference §3.7, werf-behaviour §2.8) on top of the memory registry. Registry API with Quay's
 * delete semantics (DELETE by tag untags, by digest removes every tag on it). Quay API v1 under `/api/v1` with
 * `Authorization: Bearer <OAuth token>`: `GET repository/<ns>/<repo>/tag/` paged by `page`/`limit` (default 50,
 * clamped to 1..100) with `has_additional`, `specificTag=<tag>` for the tags of one name, tag fields `name,
 * reversion, start_ts, end_ts, manifest_digest, is_manifest_list, size, last_modified (RFC 2822)`, dead tags (tag history) unless `onlyActiveTags=true`;
 * `DELETE .../tag/<tag>` answering 204; errors as `application/problem+json` (401 invalid_token, 403
 * insufficient_scope, 404 not_found). Quirks: a tag whose `expiration` passed is dead, and fetching a dead tag
 * through the Registry API answers 404 `TAG_EXPIRED`; `throttle(n)` makes the next n API calls answer 429.
 * Discovery (reference §3.7; https://docs.quay.io/api/swagger/#operation--api-v1-repository-get): `GET repository?
 * namespace=<ns>&next_page=<token>` → `{repositories:[{namespace, name, …}], next_page?}`, 100 a page (Quay's
 * REPOS_PER_PAGE [R]), `next_page` an opaque token (not a URL) and absent on the last page; without namespace, starred
 * or public → 400; an unknown namespace lists nothing (Quay filters by it, it does not look it up), so
 * `GET organization/<org>` and `GET users/<name>` (404 when unknown) tell a missing namespace from an empty one.
 * Test hooks: `beforeRepositoryPage` (another writer pushing mid-listing), `hostileNextPage` (next_page is a URL of
 * another origin instead of a token).
 */
import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type MemoryAuth, type MemoryRegistry, type RegistryStore, type RouteHelpers, startMemoryRegistry } from './memory-registry.ts';

/** How the emulator behaves. */
export interface QuayEmulatorOptions {
  /** The OAuth application token the API accepts (read and write). */
  token: string;
  /** Auth of the Registry API (/v2), default none. */
  registryAuth?: MemoryAuth;
  clock?: () => Date;
  /** Namespaces that are users (any other known namespace is an organization). */
  users?: readonly string[];
  /** Namespaces that exist without repositories (one holding a repository exists anyway). */
  namespaces?: readonly string[];
  /** Repositories per page of the repository listing (default Quay's 100). */
  repositoriesPerPage?: number;
  /** Called before a page of the repository listing is answered. */
  beforeRepositoryPage?: (info: { namespace: string; page: number }) => void;
  /** Answers `next_page` with this URL instead of a token (a hostile or broken API). */
  hostileNextPage?: string;
}

/** A tag that is no longer alive: deleted, moved away from, or expired. */
export interface DeadTag {
  name: string;
  digest: string;
  start: Date;
  end: Date;
}

/** A running emulator. */
export interface QuayEmulator {
  registry: MemoryRegistry;
  host: string;
  store: RegistryStore;
  /** `http://127.0.0.1:PORT/api/v1` */
  api: string;
  /** Sets a tag's expiration (Quay's tag lifetime); once the clock passes it, the tag is dead. */
  expireTag(repo: string, tag: string, at: Date): void;
  /** Tag history of a repo (what `onlyActiveTags=false` adds). */
  history(repo: string): DeadTag[];
  /** The next `count` API calls answer 429 with `Retry-After: 0`. */
  throttle(count: number): void;
  stop(): Promise<void>;
}

const TAG_PATH = /^\/api\/v1\/repository\/(.+)\/tag\/([^/]*)$/;

/** Starts the emulator on a free loopback port; always stop it. */
export async function startQuayEmulator(options: QuayEmulatorOptions): Promise<QuayEmulator> {
  const clock = options.clock ?? (() => new Date());
  /** Live tags as last seen, per repo: tag -> digest + start; diffed against the store to record history. */
  const seen = new Map<string, Map<string, { digest: string; start: Date }>>();
  const dead = new Map<string, DeadTag[]>();
  const expirations = new Map<string, Date>();
  let throttled = 0;

  /** Brings the tag history up to date with the store, and kills tags whose expiration passed. */
  function sync(store: RegistryStore): void {
    const now = clock();
    for (const [key, at] of expirations) {
      if (at.getTime() > now.getTime()) continue;
      const [repo = '', tag = ''] = key.split('\u0000');
      store.untag(repo, tag);
      expirations.delete(key);
    }
    for (const repo of new Set([...store.repos(), ...seen.keys()])) {
      const before = seen.get(repo) ?? new Map<string, { digest: string; start: Date }>();
      const current = new Map(store.tags(repo).map((t) => [t.tag, { digest: t.digest, start: t.pushedAt }]));
      for (const [tag, was] of before) {
        const is = current.get(tag);
        if (is === undefined || is.digest !== was.digest) {
          (dead.get(repo) ?? dead.set(repo, []).get(repo) ?? []).push({ name: tag, digest: was.digest, start: was.start, end: now });
        }
      }
      seen.set(repo, current);
    }
  }

  const problem = (req: IncomingMessage, res: ServerResponse, helpers: RouteHelpers, status: number, type: string, detail: string) =>
    helpers.sendJson(req, res, status, { status, title: type, error_type: type, detail, error_message: detail, type: `${helpers.url}/api/v1/error/${type}` }, { 'content-type': 'application/problem+json' });

  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): Promise<boolean> => {
    sync(store);
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (manifest !== null && (req.method === 'GET' || req.method === 'HEAD')) {
      const [, repo = '', ref = ''] = manifest;
      if (ref.includes(':') || store.resolve(repo, ref) !== undefined || !(dead.get(repo) ?? []).some((t) => t.name === ref)) return false;
      if (!helpers.auth.authorize(req, res, `repository:${repo}:pull`).ok) return true;
      helpers.sendOciError(req, res, 404, 'TAG_EXPIRED', 'Tag was deleted', { detail: { tag: ref } });
      return true;
    }
    if (!url.pathname.startsWith('/api/v1/')) return false;
    if (throttled > 0) {
      throttled--;
      helpers.sendJson(req, res, 429, { status: 429, title: 'too_many_requests', detail: 'Rate limited' }, { 'retry-after': '0' });
      return true;
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === undefined) return problem(req, res, helpers, 403, 'insufficient_scope', 'Unauthorized'), true;
    if (bearer !== options.token) return problem(req, res, helpers, 401, 'invalid_token', 'The access token provided is invalid'), true;
    if (url.pathname === '/api/v1/repository' && req.method === 'GET') return listRepositories(req, res, url, store, helpers), true;
    const account = /^\/api\/v1\/(organization|users)\/([^/]+)$/.exec(url.pathname);
    if (account !== null && req.method === 'GET') {
      const name = decodeURIComponent(account[2] ?? '');
      const known = (options.namespaces ?? []).includes(name) || (options.users ?? []).includes(name) || store.repos().some((r) => r.startsWith(`${name}/`));
      if (!known || (account[1] === 'users') !== (options.users ?? []).includes(name)) return problem(req, res, helpers, 404, 'not_found', 'Not Found'), true;
      helpers.sendJson(req, res, 200, account[1] === 'users' ? { username: name, kind: 'user' } : { name, is_admin: false });
      return true;
    }
    const match = TAG_PATH.exec(url.pathname);
    if (match === null) return problem(req, res, helpers, 404, 'not_found', 'Not Found'), true;
    const [, repoPath = '', rawTag = ''] = match;
    let repo: string;
    let tag: string;
    try {
      repo = repoPath.split('/').map((s) => decodeURIComponent(s)).join('/');
      tag = decodeURIComponent(rawTag);
    } catch {
      return problem(req, res, helpers, 400, 'invalid_request', 'Malformed path'), true;
    }
    if (store.manifests(repo).length === 0) return problem(req, res, helpers, 404, 'not_found', 'Not Found'), true;
    if (req.method === 'GET' && tag === '') return listTags(req, res, url, store, repo, helpers), true;
    if (req.method === 'DELETE' && tag !== '') {
      if (!store.untag(repo, tag)) return problem(req, res, helpers, 404, 'not_found', 'Not Found'), true;
      sync(store);
      helpers.sendEmpty(res, 204);
      return true;
    }
    return problem(req, res, helpers, 405, 'invalid_request', 'Method not allowed'), true;
  };

  function listRepositories(req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): void {
    const namespace = url.searchParams.get('namespace');
    if (namespace === null && url.searchParams.get('starred') === null && url.searchParams.get('public') === null) {
      return problem(req, res, helpers, 400, 'invalid_request', 'namespace, starred or public are required for this API call');
    }
    let offset = 0;
    const token = url.searchParams.get('next_page');
    if (token !== null) {
      const decoded = /^\d+$/.test(Buffer.from(token, 'base64url').toString('utf8')) ? Number(Buffer.from(token, 'base64url').toString('utf8')) : undefined;
      if (decoded === undefined) return problem(req, res, helpers, 400, 'invalid_request', 'Invalid page token');
      offset = decoded;
    }
    const size = options.repositoriesPerPage ?? 100;
    options.beforeRepositoryPage?.({ namespace: namespace ?? '', page: Math.floor(offset / size) + 1 });
    const all = store.repos().filter((r) => namespace !== null && r.startsWith(`${namespace}/`));
    const repositories = all.slice(offset, offset + size).map((r) => ({
      namespace, name: r.slice((namespace ?? '').length + 1), description: null, is_public: false, kind: 'image', state: 'NORMAL', is_starred: false,
    }));
    const more = offset + size < all.length;
    const next = options.hostileNextPage ?? Buffer.from(String(offset + size), 'utf8').toString('base64url');
    helpers.sendJson(req, res, 200, { repositories, ...(more ? { next_page: next } : {}) });
  }

  function listTags(req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, repo: string, helpers: RouteHelpers): void {
    const limit = Math.min(100, Math.max(1, Number.parseInt(url.searchParams.get('limit') ?? '50', 10) || 50));
    const page = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1);
    const active = store.tags(repo).map((t) => {
      const m = store.manifest(repo, t.digest);
      const expiration = expirations.get(`${repo}\u0000${t.tag}`);
      return {
        name: t.tag,
        reversion: false,
        start_ts: Math.floor(t.pushedAt.getTime() / 1000),
        manifest_digest: t.digest,
        is_manifest_list: (m?.children.length ?? 0) > 0,
        size: m?.bytes.byteLength ?? 0,
        last_modified: t.pushedAt.toUTCString().replace('GMT', '-0000'),
        ...(expiration === undefined ? {} : { end_ts: Math.floor(expiration.getTime() / 1000), expiration: expiration.toUTCString().replace('GMT', '-0000') }),
      };
    });
    const history = url.searchParams.get('onlyActiveTags') === 'true'
      ? []
      : (dead.get(repo) ?? []).map((t) => ({
          name: t.name, reversion: false, start_ts: Math.floor(t.start.getTime() / 1000), end_ts: Math.floor(t.end.getTime() / 1000),
          manifest_digest: t.digest, is_manifest_list: false, size: 0, last_modified: t.start.toUTCString().replace('GMT', '-0000'),
        }));
    // `specificTag` lists only tags of that name (reference §3.7); Quay orders by lifetime start, newest first
    const specific = url.searchParams.get('specificTag');
    const all = [...active, ...history]
      .filter((t) => specific === null || t.name === specific)
      .sort((a, b) => b.start_ts - a.start_ts || (a.name < b.name ? -1 : 1));
    const tags = all.slice((page - 1) * limit, page * limit);
    helpers.sendJson(req, res, 200, { tags, page, has_additional: page * limit < all.length });
  }

  const registry = await startMemoryRegistry({
    routes,
    tagDelete: 'untag',
    digestDelete: 'delete',
    ...(options.registryAuth === undefined ? {} : { auth: options.registryAuth }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return {
    registry,
    host: registry.host,
    store: registry.store,
    api: `${registry.url}/api/v1`,
    expireTag: (repo, tag, at) => void expirations.set(`${repo}\u0000${tag}`, at),
    history: (repo) => {
      sync(registry.store);
      return [...(dead.get(repo) ?? [])];
    },
    throttle: (count) => void (throttled = count),
    stop: () => registry.stop(),
  };
}
