/**
 * A Docker Hub emulator (reference §3.3) on top of the memory registry: the Registry API with Hub's delete quirks
 * (DELETE by digest 403 DENIED while a tag points at the manifest, DELETE by tag 405 UNSUPPORTED) and, under
 * `/hub` on the same server, the Hub API regplan uses: login (`POST /v2/auth/token`, legacy `POST /v2/users/login`
 * with the 2FA answer), tag listing with digests, platform images and push times (`page`/`page_size` offset paging
 * with an absolute `next`, 404 past the last page, pages computed when served so they shift while tags are
 * deleted: reference §3.3, §5), the one-tag lookup (`GET .../tags/<tag>`, 200/404, §3.3), and tag deletion
 * (`DELETE /v2/repositories/<ns>/<repo>/tags/<tag>/`, trailing slash required, 204/404). Personal access tokens may list but not delete; `library/` belongs to nobody.
 * Every Hub API answer carries `X-RateLimit-*` headers; a per-minute limit or `throttleNext` answers 429 with
 * `Retry-After` and `X-Retry-After`.
 * Discovery (reference §3.3; https://docs.docker.com/reference/api/hub/latest/operations/listNamespaceRepositories/):
 * `GET /v2/namespaces/<ns>/repositories?page=&page_size=(≤100)&ordering=name` → `{count, next (absolute URL), previous,
 * results:[{name, namespace, repository_type, is_private, …}]}`, 404 past the last page, and 404 for a namespace the Hub
 * does not know [R]; the deprecated `GET /v2/repositories/<ns>/` answers the same. Test hooks: `beforeRepositoryPage`
 * (another writer pushing mid-listing), `nextOrigin` (`next` URLs of the repository listing on another origin).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startMemoryRegistry, type MemoryRegistry, type RegistryStore, type RouteHelpers, type StoredManifest } from './memory-registry.ts';

/** A Hub account: its password, personal access tokens, the namespaces (orgs) it may change, and 2FA. */
export interface HubAccount {
  password: string;
  pats?: readonly string[];
  /** Namespaces besides its own username it may delete tags in. */
  namespaces?: readonly string[];
  /** Password logins answer 401 with `login_2fa_token`. */
  twoFactor?: boolean;
}

/** How the emulator behaves. */
export interface DockerHubEmulatorOptions {
  accounts?: Record<string, HubAccount>;
  /** Hub API requests allowed per minute before 429 (default 180, as Hub documents for some endpoints). */
  rateLimit?: number;
  /** Drop the top-level `digest` and `media_type` of tags (older Hub answers carry only `images[]`). */
  omitTagDigest?: boolean;
  /** Answer `tag_last_pushed` as null (then `last_updated` is all a client has). */
  nullLastPushed?: boolean;
  /** The current endpoint `POST /v2/auth/token` answers 404 (only the legacy login exists). */
  legacyLoginOnly?: boolean;
  /** Stamps push times and rate-limit windows (default: the real time). */
  clock?: () => Date;
  /**
   * Each Hub API request is served after this many ms (default 0), as a remote API is: concurrent requests then
   * interleave, so a listing reads its offset page after deletes that were sent before it finished (§5).
   */
  latencyMs?: number;
  /** Namespaces that exist without repositories (accounts, their organizations and namespaces holding a repo exist anyway). */
  namespaces?: readonly string[];
  /** Called before a page of a namespace's repository listing is answered. */
  beforeRepositoryPage?: (info: { namespace: string; page: number }) => void;
  /** Writes the repository listing's `next` URLs on this origin (a hostile or misconfigured API). */
  nextOrigin?: string;
}

/** A running emulator. */
export interface DockerHubEmulator {
  /** The memory registry underneath (its `host` is what repo addresses hold). */
  registry: MemoryRegistry;
  host: string;
  store: RegistryStore;
  /** The Hub API base to put in `registries.<host>.api`, e.g. `http://127.0.0.1:PORT/hub`. */
  api: string;
  /** Issues a token as a login would (kind `pat` behaves like a personal access token); `value` picks the token itself. */
  issueToken(username: string, kind?: 'password' | 'pat', value?: string): string;
  /** The next `count` Hub API requests answer 429 (with `Retry-After: retryAfter`, default "0"). */
  throttleNext(count: number, retryAfter?: string): void;
  /** Hub API requests answered, `METHOD path?query status`, in order. */
  hubRequests(): string[];
  stop(): Promise<void>;
}

type Grant = { username: string; kind: 'password' | 'pat' };
const PREFIX = '/hub';
const MAX_PAGE_SIZE = 100;

/** Starts the emulator on a free loopback port. Always stop it (try/finally or an after hook). */
export async function startDockerHubEmulator(options: DockerHubEmulatorOptions = {}): Promise<DockerHubEmulator> {
  const accounts = options.accounts ?? {};
  const clock = options.clock ?? (() => new Date());
  const grants = new Map<string, Grant>();
  const log: string[] = [];
  const window = { start: 0, used: 0 };
  let throttled = { count: 0, retryAfter: '0' };

  const issueToken = (username: string, kind: Grant['kind'] = 'password', value?: string): string => {
    const part = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');
    const token = value ?? `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ sub: username, jti: randomBytes(8).toString('hex') })}.${randomBytes(24).toString('base64url')}`;
    grants.set(token, { username, kind });
    return token;
  };

  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): Promise<boolean> => {
    if (!url.pathname.startsWith(`${PREFIX}/`)) return false;
    const method = req.method ?? 'GET';
    const path = url.pathname.slice(PREFIX.length);
    if ((options.latencyMs ?? 0) > 0) await sleep(options.latencyMs);
    res.on('finish', () => log.push(`${method} ${path}${url.search} ${res.statusCode}`));
    const now = clock().getTime();
    if (now - window.start >= 60_000) Object.assign(window, { start: now, used: 0 });
    window.used += 1;
    const limit = options.rateLimit ?? 180;
    const rate = {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - window.used)),
      'x-ratelimit-reset': String(Math.ceil((window.start + 60_000) / 1000)),
    };
    const send = (status: number, body: unknown) => helpers.sendJson(req, res, status, body, rate);
    if (throttled.count > 0 || window.used > limit) {
      const retryAfter = throttled.count > 0 ? throttled.retryAfter : String(Math.ceil((window.start + 60_000 - now) / 1000));
      if (throttled.count > 0) throttled.count -= 1;
      helpers.sendJson(req, res, 429, { detail: 'Rate limit exceeded', error: false }, {
        ...rate,
        'retry-after': retryAfter,
        'x-retry-after': String(Math.ceil(now / 1000) + Number(retryAfter)),
      });
      return true;
    }

    if (method === 'POST' && (path === '/v2/auth/token' || path === '/v2/users/login' || path === '/v2/users/login/')) {
      if (path === '/v2/auth/token' && options.legacyLoginOnly === true) return send(404, { detail: 'Not found.' }), true;
      const body = parseJson(await helpers.readBody(req));
      const legacy = path !== '/v2/auth/token';
      const username = String(body[legacy ? 'username' : 'identifier'] ?? '');
      const secret = String(body[legacy ? 'password' : 'secret'] ?? '');
      const account = accounts[username];
      const kind = account?.pats?.includes(secret) ? 'pat' : account?.password === secret ? 'password' : undefined;
      if (account === undefined || kind === undefined) return send(401, { detail: 'Incorrect authentication credentials.', message: 'Incorrect authentication credentials.' }), true;
      if (kind === 'password' && account.twoFactor === true) {
        return send(401, { detail: 'Require secondary authentication on MFA enabled account', login_2fa_token: randomBytes(12).toString('hex') }), true;
      }
      const token = issueToken(username, kind);
      return send(200, legacy ? { token } : { access_token: token }), true;
    }

    const header = req.headers['authorization'];
    let grant: Grant | undefined;
    if (header !== undefined) {
      const match = /^(?:Bearer|JWT)\s+(\S+)$/i.exec(header);
      grant = match?.[1] === undefined ? undefined : grants.get(match[1]);
      if (grant === undefined) return send(401, { detail: 'Invalid JWT token', message: 'Invalid JWT token' }), true;
    }

    const repositories = /^\/v2\/namespaces\/([^/]+)\/repositories\/?$/.exec(path) ?? /^\/v2\/repositories\/([^/]+)\/?$/.exec(path);
    if (repositories !== null && method === 'GET') {
      const ns = decodeURIComponent(repositories[1] ?? '');
      const known = new Set([...(options.namespaces ?? []), ...Object.keys(accounts), ...Object.values(accounts).flatMap((a) => a.namespaces ?? []), ...store.repos().map((r) => r.split('/')[0] ?? r)]);
      if (!known.has(ns)) return send(404, { detail: 'Object not found', message: 'namespace not found' }), true;
      const page = Number(url.searchParams.get('page') ?? '1');
      const size = Math.min(Number(url.searchParams.get('page_size') ?? '10'), MAX_PAGE_SIZE);
      if (!Number.isInteger(page) || !Number.isInteger(size) || page < 1 || size < 1) return send(400, { fields: { page: ['A valid integer is required.'] }, text: 'invalid page or page_size' }), true;
      options.beforeRepositoryPage?.({ namespace: ns, page });
      const all = store.repos().filter((r) => r.startsWith(`${ns}/`) && !r.slice(ns.length + 1).includes('/'));
      if (url.searchParams.get('ordering') === '-name') all.reverse();
      const pages = Math.max(1, Math.ceil(all.length / size));
      if (page > pages) return send(404, { detail: 'Invalid page.', message: 'Invalid page.' }), true;
      const pageUrl = (n: number) => {
        const next = new URL(`${options.nextOrigin ?? helpers.url}${url.pathname}`);
        for (const [key, value] of url.searchParams) next.searchParams.set(key, value);
        next.searchParams.set('page', String(n));
        next.searchParams.set('page_size', String(size));
        return next.toString();
      };
      const results = all.slice((page - 1) * size, page * size).map((r) => ({ name: r.slice(ns.length + 1), namespace: ns, repository_type: 'image', status: 1, is_private: false, star_count: 0, pull_count: 0 }));
      return send(200, { count: all.length, next: page < pages ? pageUrl(page + 1) : null, previous: page > 1 ? pageUrl(page - 1) : null, results }), true;
    }

    const listing =
      /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/tags\/?$/.exec(path) ?? /^\/v2\/repositories\/([^/]+)\/([^/]+)\/tags\/?$/.exec(path);
    if (listing !== null && method === 'GET') {
      const [, ns = '', repo = ''] = listing;
      const name = `${ns}/${repo}`;
      if (store.repo(name) === undefined) return send(404, { detail: 'Object not found', message: 'object not found' }), true;
      const pageText = url.searchParams.get('page') ?? '1';
      const sizeText = url.searchParams.get('page_size') ?? '10';
      if (!/^\d+$/.test(pageText) || !/^\d+$/.test(sizeText) || Number(pageText) < 1 || Number(sizeText) < 1) {
        return send(400, { fields: { page: ['A valid integer is required.'] }, text: 'invalid page or page_size' }), true;
      }
      const page = Number(pageText);
      const size = Math.min(Number(sizeText), MAX_PAGE_SIZE);
      const ordering = url.searchParams.get('ordering') ?? '-last_updated';
      const all = orderTags(store.tags(name), ordering);
      const pages = Math.max(1, Math.ceil(all.length / size));
      if (page > pages) return send(404, { detail: 'Invalid page.', message: 'Invalid page.' }), true;
      const pageUrl = (n: number) => {
        const next = new URL(`${helpers.url}${url.pathname}`);
        for (const [key, value] of url.searchParams) next.searchParams.set(key, value);
        next.searchParams.set('page', String(n));
        next.searchParams.set('page_size', String(size));
        return next.toString();
      };
      const results = all.slice((page - 1) * size, page * size).map((t) => tagJson(store, name, t, options));
      return send(200, { count: all.length, next: page < pages ? pageUrl(page + 1) : null, previous: page > 1 ? pageUrl(page - 1) : null, results }), true;
    }

    const single = /^\/v2\/(?:namespaces\/([^/]+)\/repositories|repositories\/([^/]+))\/([^/]+)\/tags\/([^/]+?)(\/?)$/.exec(path);
    if (single !== null) {
      const [, ns1, ns2, repo = '', tag = '', slash] = single;
      const name = `${ns1 ?? ns2 ?? ''}/${repo}`;
      const found = store.tags(name).find((t) => t.tag === decodeURIComponent(tag));
      if (method === 'GET' || method === 'HEAD') {
        return found === undefined ? send(404, { detail: 'Object not found', message: 'object not found' }) : send(200, tagJson(store, name, found, options)), true;
      }
      if (method === 'DELETE' && ns2 !== undefined && slash === '/') {
        const ns = ns2;
        if (grant === undefined) return send(401, { detail: 'Authentication credentials were not provided.', message: 'Authentication credentials were not provided.' }), true;
        if (grant.kind === 'pat') return send(403, { detail: 'access to the resource is forbidden with personal access token', message: 'access to the resource is forbidden with personal access token' }), true;
        const owns = ns !== 'library' && (ns === grant.username || (accounts[grant.username]?.namespaces ?? []).includes(ns));
        if (!owns) return send(403, { detail: 'You do not have permission to perform this action.', message: 'You do not have permission to perform this action.' }), true;
        if (found === undefined) return send(404, { detail: 'Object not found', message: 'tag not found' }), true;
        store.untag(name, found.tag);
        res.writeHead(204, rate).end();
        return true;
      }
    }
    send(404, { detail: 'Not found.', message: `no route for ${method} ${path}` });
    return true;
  };

  const registry = await startMemoryRegistry({
    digestDelete: 'forbidden-if-tagged-403',
    tagDelete: 'unsupported-405',
    routes,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return {
    registry,
    host: registry.host,
    store: registry.store,
    api: `${registry.url}${PREFIX}`,
    issueToken,
    throttleNext(count, retryAfter = '0') {
      throttled = { count, retryAfter };
    },
    hubRequests: () => [...log],
    stop: () => registry.stop(),
  };
}

function parseJson(bytes: Uint8Array): Record<string, unknown> {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

type StoredTag = ReturnType<RegistryStore['tags']>[number];

function orderTags(tags: StoredTag[], ordering: string): StoredTag[] {
  const byName = (a: StoredTag, b: StoredTag) => a.tag.localeCompare(b.tag);
  const byTime = (a: StoredTag, b: StoredTag) => a.pushedAt.getTime() - b.pushedAt.getTime() || byName(a, b);
  const sorted = [...tags].sort(ordering.replace(/^-/, '') === 'name' ? byName : byTime);
  return ordering.startsWith('-') ? sorted.reverse() : sorted;
}

/** A tag as the Hub API shows it, with one `images[]` entry per platform. */
function tagJson(store: RegistryStore, name: string, tag: StoredTag, options: DockerHubEmulatorOptions): Record<string, unknown> {
  const manifest = store.manifest(name, tag.digest);
  const pushed = tag.pushedAt.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  const images = manifest === undefined ? [] : platformImages(store, name, manifest, pushed);
  return {
    id: Number.parseInt(tag.digest.slice(7, 15), 16),
    name: tag.tag,
    creator: 1,
    repository: 1,
    full_size: images.reduce((sum, i) => sum + Number(i['size']), 0),
    last_updated: pushed,
    last_updater: 1,
    last_updater_username: name.split('/')[0],
    v2: true,
    tag_status: 'active',
    status: 'active',
    // tag_last_pulled: null until the tag is first pulled (reference §3.4: timestamps "or null")
    tag_last_pulled: store.lastPull(name, tag.tag)?.toISOString() ?? null,
    tag_last_pushed: options.nullLastPushed === true ? null : pushed,
    images,
    ...(options.omitTagDigest === true ? {} : { digest: tag.digest, media_type: manifest?.mediaType ?? null, content_type: 'image' }),
  };
}

function platformImages(store: RegistryStore, name: string, manifest: StoredManifest, pushed: string): Record<string, unknown>[] {
  const parsed = JSON.parse(new TextDecoder().decode(manifest.bytes)) as {
    manifests?: { digest: string; size: number; platform?: { os?: string; architecture?: string; variant?: string } }[];
    config?: { digest: string };
    layers?: { size: number }[];
  };
  const image = (digest: string, size: number, platform: { os?: string; architecture?: string; variant?: string }) => ({
    architecture: platform.architecture ?? 'unknown',
    os: platform.os ?? 'unknown',
    variant: platform.variant ?? null,
    features: '',
    os_features: '',
    os_version: null,
    digest,
    size,
    status: 'active',
    last_pulled: null,
    last_pushed: pushed,
  });
  if (parsed.manifests !== undefined) return parsed.manifests.map((m) => image(m.digest, m.size, m.platform ?? {}));
  const config = parsed.config === undefined ? undefined : store.blob(parsed.config.digest);
  const platform = config === undefined ? {} : (JSON.parse(new TextDecoder().decode(config)) as { os?: string; architecture?: string; variant?: string });
  return [image(manifest.digest, (parsed.layers ?? []).reduce((sum, l) => sum + l.size, 0), platform)];
}
