/**
 * An Azure Container Registry emulator (reference §3.2) on the memory registry: the ACR metadata API under
 * `/acr/v1` (`_tags` and `_manifests` with `n`/`last`/`orderby` paging and relative `Link` headers, one tag
 * GET/DELETE, one manifest GET, RFC 3339 times with 7 fractional digits, `changeableAttributes`), ACR's token endpoints and an AAD
 * authority (./acr-auth.ts), and ACR's quirks: a DELETE on a locked tag, manifest or repository (deleteEnabled or
 * writeEnabled false) answers 405 REGISTRY_DISALLOWED_OPERATION, and 429 TOOMANYREQUESTS with Retry-After on demand.
 * Deleting a tag leaves its manifest; `DELETE /v2/<name>/manifests/<digest>` removes the manifest and its tags.
 * Discovery (reference §3.2; https://learn.microsoft.com/rest/api/containerregistry/repository/get-list): `GET /acr/v1/
 * _catalog?n=&last=` → `{repositories:[…]}` sorted by name, needing a token for `registry:catalog:*`, with the next page
 * as a relative `Link: </acr/v1/_catalog?last=<x>&n=<n>&orderby=>; rel="next"`. Test hooks: `beforeCatalogPage`
 * (another writer pushing mid-listing), `nextOrigin` (catalog Links absolute on another origin).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AcrAuth, AUTHORITY_PATH, type AcrIdentities } from './acr-auth.ts';
import { isDigestRef, startMemoryRegistry, type MemoryRegistry, type RegistryStore, type RouteHelpers, type TagDeleteMode } from './memory-registry.ts';

export { ACR_AAD_SCOPE, NULL_GUID, type AcrIdentities, type AcrRole, type ServicePrincipal } from './acr-auth.ts';

/** ACR's lock flags of a repository, tag or manifest. */
export interface ChangeableAttributes {
  deleteEnabled: boolean;
  writeEnabled: boolean;
  readEnabled: boolean;
  listEnabled: boolean;
}

/** How the emulator behaves. */
export interface AcrEmulatorOptions {
  identities: AcrIdentities;
  /** Cap on `n` of /acr/v1 listings and the size of a page without `n` (default 100). */
  pageSize?: number;
  /** What `DELETE /v2/<name>/manifests/<tag>` does (default 'unsupported-405'; the reference leaves it open [U]). */
  tagDelete?: TagDeleteMode;
  clock?: () => Date;
  /** Called before a page of `/acr/v1/_catalog` is answered. */
  beforeCatalogPage?: (info: { last: string | null }) => void;
  /** Writes catalog `Link` URLs absolute on this origin (a hostile or misconfigured API). */
  nextOrigin?: string;
}

/** A running ACR emulator. */
export interface AcrEmulator {
  registry: MemoryRegistry;
  /** `127.0.0.1:PORT`, the login server (and the `service` of token requests). */
  host: string;
  url: string;
  store: RegistryStore;
  /** The AAD authority to put in AZURE_AUTHORITY_HOST. */
  authorityHost: string;
  auth: AcrAuth;
  /** Sets lock flags (`az acr repository update --delete-enabled false`): of a repo, `repo:tag`, or `repo@digest`. */
  lock(target: string, attributes: Partial<ChangeableAttributes>): void;
  /** The next `count` requests to /acr/v1 and /oauth2 answer 429 with `Retry-After: retryAfter`. */
  throttle(count: number, retryAfter: string): void;
  stop(): Promise<void>;
}

const OPEN: ChangeableAttributes = { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true };
const DISALLOWED = 'The operation is disallowed on this registry, repository or image. View troubleshooting steps at https://aka.ms/acr/faq/#why-does-my-pull-or-push-request-fail-with-disallowed-operation';

/** ACR's timestamp form: RFC 3339 with 7 fractional digits. */
export const acrTime = (date: Date): string => date.toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');

/** Starts an ACR emulator on a free loopback port. Always stop it. */
export async function startAcrEmulator(options: AcrEmulatorOptions): Promise<AcrEmulator> {
  const auth = new AcrAuth(options.identities);
  const attributes = new Map<string, Partial<ChangeableAttributes>>();
  const pageSize = options.pageSize ?? 100;
  let throttled = { count: 0, retryAfter: '1' };
  let host = '';
  const attrs = (key: string): ChangeableAttributes => ({ ...OPEN, ...attributes.get(key) });
  const locked = (key: string): boolean => !attrs(key).deleteEnabled || !attrs(key).writeEnabled;

  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): Promise<boolean> => {
    const vendor = url.pathname.startsWith('/acr/v1/') || url.pathname.startsWith('/oauth2/');
    if (vendor && throttled.count > 0) {
      throttled.count -= 1;
      helpers.sendOciError(req, res, 429, 'TOOMANYREQUESTS', 'too many requests, please retry later', { headers: { 'retry-after': throttled.retryAfter } });
      return true;
    }
    if (await auth.serve(req, res, url, helpers, host)) return true;
    const v2Delete = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (v2Delete !== null && req.method === 'DELETE' && isDigestRef(v2Delete[2] ?? '')) {
      const [, name = '', digest = ''] = v2Delete;
      if (!helpers.auth.authorize(req, res, `repository:${name}:delete`).ok) return true;
      if (locked(name) || locked(`${name}@${digest}`) || store.tagsOf(name, digest).some((t) => locked(`${name}:${t}`))) {
        helpers.sendOciError(req, res, 405, 'REGISTRY_DISALLOWED_OPERATION', DISALLOWED);
        return true;
      }
      return false; // the memory registry deletes the manifest and every tag on it
    }
    if (url.pathname === '/acr/v1/_catalog' && req.method === 'GET') {
      if (!helpers.auth.authorize(req, res, 'registry:catalog:*').ok) return true;
      const nText = url.searchParams.get('n');
      if (nText !== null && !/^\d+$/.test(nText)) return helpers.sendOciError(req, res, 400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { detail: { n: nText } }), true;
      const last = url.searchParams.get('last');
      options.beforeCatalogPage?.({ last });
      const n = Math.min(nText === null ? pageSize : Number(nText), pageSize);
      const rest = store.repos().filter((r) => last === null || r > last);
      const items = rest.slice(0, n);
      const lastItem = items.at(-1);
      const link = rest.length > items.length && lastItem !== undefined ? { link: `<${options.nextOrigin ?? ''}/acr/v1/_catalog?last=${encodeURIComponent(lastItem)}&n=${n}&orderby=>; rel="next"` } : {};
      return helpers.sendJson(req, res, 200, { repositories: items }, link), true;
    }
    const match = /^\/acr\/v1\/(.+?)\/(_tags|_manifests)(?:\/([^/]+))?$/.exec(url.pathname);
    if (match === null) return false;
    const [, name = '', kind = '', item] = match;
    const method = req.method ?? 'GET';
    const scope = `repository:${name}:${method === 'DELETE' ? 'delete' : 'metadata_read'}`;
    if (!helpers.auth.authorize(req, res, scope).ok) return true;
    if (store.repo(name) === undefined) {
      // A repository that was never pushed to; one whose manifests were all deleted lists empty pages.
      helpers.sendOciError(req, res, 404, 'NAME_UNKNOWN', 'repository name not known to registry', { detail: { name } });
      return true;
    }
    const tagJson = (tag: string) => {
      const found = store.tags(name).find((t) => t.tag === tag);
      if (found === undefined) return undefined;
      const time = acrTime(found.pushedAt);
      return { name: tag, digest: found.digest, createdTime: time, lastUpdateTime: time, signed: false, changeableAttributes: attrs(`${name}:${tag}`) };
    };
    if (kind === '_tags' && item !== undefined) {
      const tag = decodeURIComponent(item);
      const found = tagJson(tag);
      if (found === undefined) return helpers.sendOciError(req, res, 404, 'TAG_UNKNOWN', 'the specified tag does not exist', { detail: { tag } }), true;
      if (method === 'GET') return helpers.sendJson(req, res, 200, { registry: host, imageName: name, tag: found }), true;
      if (method !== 'DELETE') return helpers.sendOciError(req, res, 405, 'UNSUPPORTED', `${method} is not supported`), true;
      if (locked(name) || locked(`${name}:${tag}`)) return helpers.sendOciError(req, res, 405, 'REGISTRY_DISALLOWED_OPERATION', DISALLOWED), true;
      store.untag(name, tag);
      helpers.sendEmpty(res, 202);
      return true;
    }
    const manifestJson = (m: ReturnType<RegistryStore['manifests']>[number]) => {
      const size = m.blobs.reduce((sum, d) => sum + (store.blob(d)?.byteLength ?? 0), m.bytes.byteLength);
      const tags = store.tagsOf(name, m.digest);
      const lastTagged = store.tags(name).filter((t) => t.digest === m.digest).map((t) => t.pushedAt.getTime());
      const updated = new Date(Math.max(m.pushedAt.getTime(), ...lastTagged));
      return {
        digest: m.digest,
        imageSize: size,
        createdTime: acrTime(m.pushedAt),
        lastUpdateTime: acrTime(updated),
        mediaType: m.mediaType,
        ...(m.children.length > 0 ? { references: m.children.map((digest) => ({ digest })) } : {}),
        ...(tags.length > 0 ? { tags } : {}),
        changeableAttributes: attrs(`${name}@${m.digest}`),
      };
    };
    if (kind === '_manifests' && item !== undefined && method === 'GET') {
      // GET /acr/v1/{name}/_manifests/{digest} -> {registry, imageName, manifest} (reference §3.2).
      const digest = decodeURIComponent(item);
      const found = store.manifest(name, digest);
      if (found === undefined) return helpers.sendOciError(req, res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown', { detail: { digest } }), true;
      return helpers.sendJson(req, res, 200, { registry: host, imageName: name, manifest: manifestJson(found) }), true;
    }
    if (method !== 'GET' || item !== undefined) return helpers.sendOciError(req, res, 405, 'UNSUPPORTED', `${method} is not supported`), true;
    const nText = url.searchParams.get('n');
    if (nText !== null && !/^\d+$/.test(nText)) return helpers.sendOciError(req, res, 400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { detail: { n: nText } }), true;
    const orderby = url.searchParams.get('orderby') ?? '';
    if (!['', 'timedesc', 'timeasc'].includes(orderby)) return helpers.sendOciError(req, res, 400, 'UNSUPPORTED', `orderby "${orderby}" is not supported`), true;
    const n = Math.min(nText === null ? pageSize : Number(nText), pageSize);
    const order = <T>(items: T[], key: (i: T) => string, time: (i: T) => number): T[] =>
      orderby === '' ? items.sort((a, b) => (key(a) < key(b) ? -1 : 1)) : items.sort((a, b) => (orderby === 'timeasc' ? 1 : -1) * (time(a) - time(b)) || (key(a) < key(b) ? -1 : 1));
    const page = <T>(items: T[], key: (i: T) => string): { items: T[]; next?: string } => {
      const last = url.searchParams.get('last');
      const start = last === null ? 0 : items.findIndex((i) => key(i) === last) + 1 || items.filter((i) => key(i) <= last).length;
      const slice = items.slice(start, start + n);
      const lastItem = slice.at(-1);
      return start + slice.length < items.length && lastItem !== undefined ? { items: slice, next: key(lastItem) } : { items: slice };
    };
    const link = (next: string | undefined) =>
      next === undefined ? {} : { link: `</acr/v1/${name}/${kind}?last=${encodeURIComponent(next)}&n=${n}&orderby=${orderby}>; rel="next"` };
    if (kind === '_tags') {
      const all = order(store.tags(name), (t) => t.tag, (t) => t.pushedAt.getTime());
      const result = page(all, (t) => t.tag);
      helpers.sendJson(req, res, 200, { registry: host, imageName: name, tags: result.items.map((t) => tagJson(t.tag)) }, link(result.next));
      return true;
    }
    const all = order(store.manifests(name), (m) => m.digest, (m) => m.pushedAt.getTime());
    const result = page(all, (m) => m.digest);
    const manifests = result.items.map(manifestJson);
    helpers.sendJson(req, res, 200, { registry: host, imageName: name, manifests }, link(result.next));
    return true;
  };

  const registry = await startMemoryRegistry({
    auth: {
      kind: 'bearer',
      users: {},
      realmPath: '/oauth2/token',
      get service() {
        return host;
      },
    },
    tagDelete: options.tagDelete ?? 'unsupported-405',
    digestDelete: 'delete',
    routes,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  host = registry.host;
  return {
    registry,
    host: registry.host,
    url: registry.url,
    store: registry.store,
    authorityHost: `${registry.url}${AUTHORITY_PATH}`,
    auth,
    lock: (target, changes) => attributes.set(target, { ...attributes.get(target), ...changes }),
    throttle: (count, retryAfter) => void (throttled = { count, retryAfter }),
    stop: () => registry.stop(),
  };
}
