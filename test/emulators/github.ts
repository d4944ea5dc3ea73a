/**
 * An emulator of GitHub Packages for containers (reference §3.4) on top of the memory registry: the Registry API
 * with GHCR's quirks (DELETE by tag and by digest answer 405 UNSUPPORTED) and, under `/github-api`, the REST
 * package-versions API: org / user / authenticated-user routes, page + per_page paging with `Link` (next, last,
 * first, prev), one version per manifest digest with `metadata.container.tags`, DELETE of a version (every tag
 * on it goes), the refusals of the last tagged version and of public versions with more than 5000 downloads,
 * classic-token scopes (401 / 403 with GitHub's texts), `X-GitHub-Api-Version`, the `x-ratelimit-*` family, and
 * primary (remaining 0, until `x-ratelimit-reset`) and secondary (403 + Retry-After) rate limits.
 * Departures from the happy path that GitHub documents and the emulator reproduces:
 * - a token without admin access to a package gets `404 {"message":"Package not found."}` on DELETE of a version,
 *   not 403 (reference §5; https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api: "404
 *   instead of 403 to avoid confirming private resources"; actions/delete-package-versions#237) — `noAdmin`;
 * - user-owned packages live under `/users/{username}/packages/…`, org-owned under `/orgs/{org}/packages/…`, and the
 *   other route answers 404 (reference §3.4, §5); a version's `url` names its own route;
 * - pages are `page` + `per_page` (≤ 100, default 30) with absolute `Link` URLs (reference §3.4, §5), computed
 *   on every request from the store, so deletes running between two page requests shift the pages as on GitHub.
 * - an owner's packages (`GET /orgs|users/{owner}/packages?package_type=container`, `package_type` required; the
 *   other owner kind's route and an unknown owner answer 404) are paged like versions; a package's `name` is its path
 *   under the owner with `/` kept as is (https://docs.github.com/rest/packages/packages#list-packages-for-an-organization;
 *   reference §3.4: nested names are URL-encoded only in URLs).
 * Test hooks: `nextOrigin` (Link URLs on another origin, for the same-origin check), `beforePage` /
 * `beforePackagesPage` (another writer changing the package or the owner's packages while a listing runs).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startMemoryRegistry, type MemoryAuth, type MemoryRegistry, type RegistryStore, type RouteHelpers } from './memory-registry.ts';

/** Where the REST API lives on the emulator's server (`api: <url>/github-api` in a regplan config). */
export const GITHUB_API_PREFIX = '/github-api';
/** The REST API version GitHub serves (any other `X-GitHub-Api-Version` is refused with 400). */
export const SUPPORTED_API_VERSION = '2022-11-28';
const DOCS = 'https://docs.github.com/rest/packages/packages';
const RATE_LIMIT = 5000;

/** A classic token: whose it is and its scopes (`read:packages`, `delete:packages`, …). */
export interface GithubToken {
  login: string;
  scopes: readonly string[];
}

/** How the emulator behaves. */
export interface GithubEmulatorOptions {
  /** Token value -> owner and scopes. */
  tokens?: Record<string, GithubToken>;
  /** Account kinds; an owner not listed is an organization. */
  users?: readonly string[];
  /** The package type its routes answer (`container` for ghcr.io, `docker` for docker.pkg.github.com). */
  packageType?: string;
  /** Registry API auth (default none). */
  auth?: MemoryAuth;
  clock?: () => Date;
  /** Requests a token may make per window before the primary limit answers 403 with remaining 0 (default 5000). */
  rateLimit?: number;
  /** Seconds until the primary rate-limit window resets (default 3600); counts start over after it. */
  rateLimitResetSeconds?: number;
  /** Packages (`owner/name`) the tokens may read but not administer: DELETE of a version answers 404 "Package not found." */
  noAdmin?: readonly string[];
  /** Writes `Link` URLs on this origin instead of the emulator's own (a hostile or misconfigured API). */
  nextOrigin?: string;
  /** Called before a versions page is answered (another writer changing the package mid-listing). */
  beforePage?: (info: { repo: string; page: number }) => void;
  /** Organizations that exist without packages (an owner with a package exists anyway). */
  orgs?: readonly string[];
  /** Called before a page of an owner's packages is answered (another writer pushing or deleting mid-listing). */
  beforePackagesPage?: (info: { owner: string; page: number }) => void;
}

/** One REST call as the emulator saw it (headers a test may want to check). */
export interface GithubApiCall {
  method: string;
  path: string;
  query: string;
  status: number;
  apiVersion?: string;
  accept?: string;
}

/** A running emulator. */
export interface GithubEmulator extends MemoryRegistry {
  /** `http://127.0.0.1:PORT/github-api`. */
  apiUrl: string;
  /** Every REST call answered, in order. */
  apiCalls: GithubApiCall[];
  /** The version id GitHub gives a digest of `repo` (stable for the emulator's life). */
  versionId(repo: string, digest: string): number;
  /** Sets a version's download count. */
  setDownloads(repo: string, digest: string, downloads: number): void;
  /** Makes a package public (public versions with more than 5000 downloads cannot be deleted). */
  makePublic(repo: string): void;
  /** The next `count` REST calls answer 403 secondary rate limit with `Retry-After: seconds`. */
  throttleNext(count: number, retryAfterSeconds: number): void;
}

interface Version {
  id: number;
  digest: string;
  tags: string[];
  created: Date;
  updated: Date;
}

/** Starts the emulator on a free loopback port. Always stop it. */
export async function startGithubEmulator(options: GithubEmulatorOptions = {}): Promise<GithubEmulator> {
  const ids = new Map<string, number>();
  const downloads = new Map<string, number>();
  const publicRepos = new Set<string>();
  const apiCalls: GithubApiCall[] = [];
  const used = new Map<string, number>();
  const windowSeconds = options.rateLimitResetSeconds ?? 3600;
  let resetAt = Math.floor(Date.now() / 1000) + windowSeconds;
  let throttled = { count: 0, seconds: 0 };
  let nextId = 1000;
  const idOf = (repo: string, digest: string): number => {
    const key = `${repo}@${digest}`;
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = nextId++));
    return id;
  };

  const versionsOf = (store: RegistryStore, repo: string): Version[] => {
    const tags = store.tags(repo);
    return store
      .manifests(repo)
      .map((m) => {
        const own = tags.filter((t) => t.digest === m.digest);
        const updated = new Date(Math.max(m.pushedAt.getTime(), ...own.map((t) => t.pushedAt.getTime())));
        return { id: idOf(repo, m.digest), digest: m.digest, tags: own.map((t) => t.tag), created: m.pushedAt, updated };
      })
      .sort((a, b) => b.created.getTime() - a.created.getTime() || b.id - a.id);
  };

  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): Promise<boolean> => {
    if (!url.pathname.startsWith(`${GITHUB_API_PREFIX}/`)) return false;
    const method = req.method ?? 'GET';
    const apiVersion = header(req, 'x-github-api-version');
    const accept = header(req, 'accept');
    res.on('finish', () =>
      apiCalls.push({ method, path: url.pathname, query: url.search.replace(/^\?/, ''), status: res.statusCode, ...(apiVersion === undefined ? {} : { apiVersion }), ...(accept === undefined ? {} : { accept }) }),
    );
    const path = url.pathname.slice(GITHUB_API_PREFIX.length);
    const token = bearer(req);
    const grant = token === undefined ? undefined : options.tokens?.[token];
    if (Date.now() / 1000 >= resetAt) {
      used.clear();
      resetAt = Math.ceil(Date.now() / 1000) + windowSeconds;
    }
    const count = (used.get(token ?? '') ?? 0) + 1;
    used.set(token ?? '', count);
    const limit = options.rateLimit ?? RATE_LIMIT;
    const rate = {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - count)),
      'x-ratelimit-used': String(Math.min(count, limit)),
      'x-ratelimit-reset': String(resetAt),
      'x-ratelimit-resource': 'core',
      'x-github-api-version-selected': SUPPORTED_API_VERSION,
      'x-github-media-type': 'github.v3; format=json',
    };
    const fail = (status: number, message: string, extra: Record<string, string> = {}): true => {
      helpers.sendJson(req, res, status, { message, documentation_url: DOCS, status: String(status) }, { ...rate, ...extra });
      return true;
    };

    if (apiVersion !== undefined && apiVersion !== SUPPORTED_API_VERSION) return fail(400, `API version '${apiVersion}' is not supported.`);
    if (throttled.count > 0) {
      throttled.count--;
      return fail(403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', { 'retry-after': String(throttled.seconds) });
    }
    if (count > limit) return fail(403, `API rate limit exceeded for user ID ${grant?.login ?? 'anonymous'}.`, { 'x-ratelimit-remaining': '0' });
    if (token === undefined) return fail(401, 'Requires authentication');
    if (grant === undefined) return fail(401, 'Bad credentials');
    const scopeHeaders = { 'x-oauth-scopes': grant.scopes.join(', ') };

    const account = /^\/users\/([^/]+)$/.exec(path);
    if (account && method === 'GET') {
      const login = decodeURIComponent(account[1] ?? '');
      helpers.sendJson(req, res, 200, { login, id: 1, type: options.users?.includes(login) ? 'User' : 'Organization' }, rate);
      return true;
    }
    const packages = /^\/(orgs|users)\/([^/]+)\/packages$/.exec(path);
    if (packages && method === 'GET') {
      const owner = decodeURIComponent(packages[2] ?? '');
      const isUser = options.users?.includes(owner) ?? false;
      const known = isUser || (options.orgs?.includes(owner) ?? false) || store.repos().some((r) => r.startsWith(`${owner}/`));
      if (!known || (packages[1] === 'orgs') === isUser) return fail(404, 'Not Found');
      const withScopes = { ...scopeHeaders, 'x-accepted-oauth-scopes': 'read:packages' };
      if (!grant.scopes.includes('read:packages')) return fail(403, 'You need at least read:packages scope to list packages.', withScopes);
      const type = url.searchParams.get('package_type');
      if (type === null) return fail(400, 'package_type is required.'); // docs: package_type "Required"
      const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30));
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
      options.beforePackagesPage?.({ owner, page });
      const names = type === (options.packageType ?? 'container') ? store.repos().filter((r) => r.startsWith(`${owner}/`)) : [];
      const pages = Math.max(1, Math.ceil(names.length / perPage));
      const scope = isUser ? 'users' : 'orgs';
      const items = names.slice((page - 1) * perPage, page * perPage).map((repo) => packageJson(repo, { origin: helpers.url, owner, scope, packageType: type, id: idOf(repo, '') }));
      helpers.sendJson(req, res, 200, items, { ...rate, ...withScopes, ...pageLinks(options.nextOrigin ?? helpers.url, url, page, pages, perPage) });
      return true;
    }
    const match = /^\/(?:(orgs|users)\/([^/]+)|(user))\/packages\/([^/]+)\/([^/]+)\/versions(?:\/(\d+))?$/.exec(path);
    if (!match) return fail(404, 'Not Found');
    const [, scope, ownerText, self, packageType, packageText, idText] = match;
    const owner = self === undefined ? decodeURIComponent(ownerText ?? '') : grant.login;
    const isUser = options.users?.includes(owner) ?? false;
    if ((scope === 'orgs' && isUser) || (scope === 'users' && !isUser)) return fail(404, 'Not Found');
    const accepted = method === 'DELETE' ? 'delete:packages, read:packages' : 'read:packages';
    const withScopes = { ...scopeHeaders, 'x-accepted-oauth-scopes': accepted };
    if (!grant.scopes.includes('read:packages')) return fail(403, 'You need at least read:packages scope to list packages.', withScopes);
    if (method === 'DELETE' && !grant.scopes.includes('delete:packages')) return fail(403, 'You need at least delete:packages scope to delete packages.', withScopes);
    const repo = `${owner}/${decodeURIComponent(packageText ?? '')}`;
    const versions = versionsOf(store, repo);
    if (packageType !== (options.packageType ?? 'container') || versions.length === 0) return fail(404, 'Package not found.');

    if (idText === undefined) {
      if (method !== 'GET') return fail(404, 'Not Found');
      const state = url.searchParams.get('state') ?? 'active';
      const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30));
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
      options.beforePage?.({ repo, page });
      const current = versionsOf(store, repo);
      const listed = state === 'active' ? current : [];
      const pages = Math.max(1, Math.ceil(listed.length / perPage));
      const items = listed.slice((page - 1) * perPage, page * perPage).map((v) => versionJson(v, { origin: helpers.url, repo, owner, scope: isUser ? 'users' : 'orgs', packageType: packageType ?? 'container' }));
      helpers.sendJson(req, res, 200, items, { ...rate, ...withScopes, ...pageLinks(options.nextOrigin ?? helpers.url, url, page, pages, perPage) });
      return true;
    }
    const version = versions.find((v) => v.id === Number(idText));
    if (version === undefined) return fail(404, 'Package version not found.');
    if (method === 'GET') {
      helpers.sendJson(req, res, 200, versionJson(version, { origin: helpers.url, repo, owner, scope: isUser ? 'users' : 'orgs', packageType: packageType ?? 'container' }), rate);
      return true;
    }
    if (method !== 'DELETE') return fail(404, 'Not Found');
    if (options.noAdmin?.includes(repo) === true) return fail(404, 'Package not found.'); // reference §5: 404, not 403
    if (version.tags.length > 0 && versions.filter((v) => v.tags.length > 0).length === 1) {
      return fail(400, 'You cannot delete the last tagged version of a package. You must delete the package instead.');
    }
    if (publicRepos.has(repo) && (downloads.get(`${repo}@${version.digest}`) ?? 0) > 5000) {
      return fail(400, 'Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.');
    }
    store.deleteManifest(repo, version.digest);
    helpers.sendEmpty(res, 204, rate);
    return true;
  };

  const registry = await startMemoryRegistry({
    tagDelete: 'unsupported-405',
    digestDelete: 'unsupported-405',
    routes,
    ...(options.auth === undefined ? {} : { auth: options.auth }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return {
    ...registry,
    apiUrl: `${registry.url}${GITHUB_API_PREFIX}`,
    apiCalls,
    versionId: idOf,
    setDownloads: (repo, digest, n) => void downloads.set(`${repo}@${digest}`, n),
    makePublic: (repo) => void publicRepos.add(repo),
    throttleNext: (count, seconds) => void (throttled = { count, seconds }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The token of `Authorization: Bearer <t>` or the older `token <t>`. */
function bearer(req: IncomingMessage): string | undefined {
  const match = /^(?:bearer|token)\s+(\S+)$/i.exec(header(req, 'authorization') ?? '');
  return match?.[1];
}

/** A version as GitHub lists it; `url` names the route of its owner kind (`/orgs/…` or `/users/…`). */
function versionJson(v: Version, at: { origin: string; repo: string; owner: string; scope: 'orgs' | 'users'; packageType: string }): Record<string, unknown> {
  const pkg = encodeURIComponent(at.repo.slice(at.owner.length + 1));
  const web = at.scope === 'users' ? `https://github.com/users/${at.owner}` : `https://github.com/orgs/${at.owner}`;
  return {
    id: v.id,
    name: v.digest,
    url: `${at.origin}${GITHUB_API_PREFIX}/${at.scope}/${at.owner}/packages/${at.packageType}/${pkg}/versions/${v.id}`,
    package_html_url: `${web}/packages/${at.packageType}/package/${pkg}`,
    created_at: v.created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    updated_at: v.updated.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    html_url: `${web}/packages/${at.packageType}/${pkg}/${v.id}`,
    metadata: { package_type: at.packageType, container: { tags: v.tags } },
  };
}

/** A package as GitHub lists an owner's packages: `name` keeps its `/`, URLs encode it. */
function packageJson(repo: string, at: { origin: string; owner: string; scope: 'orgs' | 'users'; packageType: string; id: number }): Record<string, unknown> {
  const name = repo.slice(at.owner.length + 1);
  const web = at.scope === 'users' ? `https://github.com/users/${at.owner}` : `https://github.com/orgs/${at.owner}`;
  return {
    id: at.id,
    name,
    package_type: at.packageType,
    owner: { login: at.owner, type: at.scope === 'users' ? 'User' : 'Organization' },
    visibility: 'private',
    url: `${at.origin}${GITHUB_API_PREFIX}/${at.scope}/${at.owner}/packages/${at.packageType}/${encodeURIComponent(name)}`,
    html_url: `${web}/packages/${at.packageType}/package/${encodeURIComponent(name)}`,
  };
}

/** GitHub's `Link`: absolute URLs for next/last (and prev/first past page 1), keeping the other query params. */
function pageLinks(origin: string, url: URL, page: number, pages: number, perPage: number): Record<string, string> {
  const at = (n: number): string => {
    const target = new URL(url.pathname + url.search, origin);
    target.searchParams.set('per_page', String(perPage));
    target.searchParams.set('page', String(n));
    return target.href;
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${at(page - 1)}>; rel="prev"`);
  if (page < pages) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(pages)}>; rel="last"`);
  if (page > 1) links.push(`<${at(1)}>; rel="first"`);
  return links.length === 0 ? {} : { link: links.join(', ') };
}
