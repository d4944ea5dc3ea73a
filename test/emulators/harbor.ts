/**
 * A Harbor v2.0 emulator (reference §3.6) on top of the memory registry: the artifacts API of a repository
 * (`/api/v2.0/projects/<p>/repositories/<r double-encoded>/artifacts`) with `page`/`page_size` paging,
 * `X-Total-Count` and relative `Link` headers, `q=tags=nil|*`, embedded tags with push times, untag
 * (`.../artifacts/<ref>/tags/<tag>`) and artifact delete (the whole artifact with its tags; untagged index
 * children unreferenced elsewhere go with it). Quirks: Harbor error bodies (`NOT_FOUND`, `FORBIDDEN`,
 * `UNAUTHORIZED`, `PRECONDITION`, `VIOLATE_FOREIGN_KEY_CONSTRAINT`), 412 for immutable tags and for a child of
 * an index, 403 for a read-only account, CSRF for cookie sessions, `X-Request-Id` echoed, and on `/v2`
 * DELETE by tag → 400 UNSUPPORTED with the registry token at `/service/token` (service `harbor-registry`).
 * Discovery (reference §3.6; Harbor's api/v2.0/swagger.yaml, operations `listProjects` and `listRepositories`):
 * `GET /projects` → `[{project_id, name, repo_count, …}]` and `GET /projects/<p>/repositories` → `[{id, project_id,
 * name: "<p>/<repo>", artifact_count, …}]`, both paged like artifacts; an unknown project answers 404 NOT_FOUND, an
 * anonymous caller sees public projects only. Tag retention: `GET /projects/<p>` carries `metadata.retention_id`
 * once `setRetention` installed a policy, and `GET /retentions/<id>` answers it (Harbor API v2.0 RetentionPolicy).
 * Test hooks: `nextOrigin` (Link URLs on another origin) and
 * `beforeListPage` (another writer pushing while a project or repository listing runs).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { startMemoryRegistry, type MemoryRegistry, type RegistryStore, type StoredManifest } from './memory-registry.ts';

/** An answer a test forces on a Harbor API request (a 429 with Retry-After, a 500, …). */
export interface HarborFault {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/** How the emulated Harbor behaves. */
export interface HarborEmulatorOptions {
  /** Harbor accounts (users and robots, e.g. `robot$acme+ci`): they log into both the API and `/v2`. */
  users?: Record<string, string>;
  /** Accounts that may read but not delete (a project guest): DELETE answers 403 FORBIDDEN. */
  readOnlyUsers?: readonly string[];
  /** Projects anonymous callers may read (public projects); deleting always needs an account. */
  publicProjects?: readonly string[];
  /** Tags an immutable tag rule protects: untagging them or deleting their artifact answers 412 PRECONDITION. */
  immutableTags?: RegExp;
  /** Called before each Harbor API request is served; an answer is sent instead of serving it. */
  fault?: (req: IncomingMessage, url: URL) => HarborFault | undefined;
  /** Stamps push times of pushes over `/v2` (default: the real time). */
  clock?: () => Date;
  /** Projects that exist without repositories (a project holding a repository exists anyway). */
  projects?: readonly string[];
  /** Writes project and repository listing `Link` URLs on this origin (a hostile or misconfigured API). */
  nextOrigin?: string;
  /** Called before a page of `/projects` or `/projects/<p>/repositories` is answered. */
  beforeListPage?: (info: { path: string; page: number }) => void;
}

/** A running Harbor emulator: the memory registry plus the API base. */
export interface HarborEmulator extends MemoryRegistry {
  /** `http://127.0.0.1:PORT/api/v2.0` */
  apiBase: string;
  /**
   * Installs a tag retention policy on a project (what `POST /retentions` does): the project's
   * `metadata.retention_id` then names it and `GET /retentions/{id}` answers it with its id.
   */
  setRetention(project: string, policy: Record<string, unknown>): number;
}

const API = '/api/v2.0';
const ZERO_TIME = '0001-01-01T00:00:00.000Z';
const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;

/** Starts Harbor on a free loopback port. Always stop it. */
export async function startHarborEmulator(options: HarborEmulatorOptions = {}): Promise<HarborEmulator> {
  const users = options.users ?? {};
  const ids = new Map<string, number>();
  const idOf = (key: string): number => {
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = ids.size + 1));
    return id;
  };
  const retentions = new Map<number, Record<string, unknown>>();
  const retentionOf = new Map<string, number>();
  const registry = await startMemoryRegistry({
    auth: Object.keys(users).length === 0 ? { kind: 'none' } : { kind: 'bearer', users, service: 'harbor-registry', realmPath: '/service/token' },
    tagDelete: 'unsupported-400',
    digestDelete: 'delete',
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    routes: (req, res, url, store, helpers) => {
      if (url.pathname !== API && !url.pathname.startsWith(`${API}/`)) return false;
      const requestId = typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : randomUUID();
      const fail = (status: number, code: string, message: string, headers: Record<string, string> = {}): true => {
        helpers.sendJson(req, res, status, { errors: [{ code, message }] }, { 'x-request-id': requestId, ...headers });
        return true;
      };
      const fault = options.fault?.(req, url);
      if (fault !== undefined) return fail(fault.status, fault.code, fault.message, fault.headers);
      const method = req.method ?? 'GET';
      const user = helpers.auth.basicUser(req);
      const accounts = Object.keys(users).length > 0;
      if (accounts && req.headers.authorization !== undefined && user === undefined) return fail(401, 'UNAUTHORIZED', 'unauthorized');
      const listing = /^\/api\/v2\.0\/projects(?:\/([^/]+)\/repositories)?\/?$/.exec(url.pathname);
      if (listing !== null && method === 'GET') {
        const paging = pageOf(url);
        if (typeof paging === 'string') return fail(paging.startsWith('page_size') ? 422 : 400, paging.startsWith('page_size') ? 'UNPROCESSABLE_ENTITY' : 'BAD_REQUEST', paging);
        options.beforeListPage?.({ path: url.pathname, page: paging.page });
        const projects = [...new Set([...(options.projects ?? []), ...store.repos().map((r) => r.split('/')[0] ?? r)])].sort();
        const visible = accounts && user === undefined ? projects.filter((p) => (options.publicProjects ?? []).includes(p)) : projects;
        const send = (all: unknown[]): true => {
          helpers.sendJson(req, res, 200, all.slice((paging.page - 1) * paging.size, paging.page * paging.size), {
            'x-request-id': requestId, 'x-total-count': String(all.length), ...links(url, paging, all.length, options.nextOrigin),
          });
          return true;
        };
        if (listing[1] === undefined) return send(visible.map((name) => ({ project_id: idOf(`project ${name}`), name, repo_count: store.repos().filter((r) => r.startsWith(`${name}/`)).length, metadata: { public: String((options.publicProjects ?? []).includes(name)) } })));
        const project = decodeURIComponent(listing[1]);
        if (!visible.includes(project)) return accounts && user === undefined ? fail(401, 'UNAUTHORIZED', 'unauthorized') : fail(404, 'NOT_FOUND', `project ${project} not found`);
        const repositories = store.repos().filter((r) => r.startsWith(`${project}/`));
        return send(repositories.map((name) => ({ id: idOf(`repository ${name}`), project_id: idOf(`project ${project}`), name, artifact_count: store.manifests(name).length, pull_count: 0 })));
      }
      // GET /projects/{project_name_or_id}: the project with metadata.retention_id (a string, as Harbor stores
      // project metadata) once a retention policy exists; GET /retentions/{id}: that RetentionPolicy with its id.
      const project = /^\/api\/v2\.0\/projects\/([^/]+)\/?$/.exec(url.pathname);
      if (project !== null && method === 'GET') {
        const name = decodeURIComponent(project[1] ?? '');
        const known = [...new Set([...(options.projects ?? []), ...store.repos().map((r) => r.split('/')[0] ?? r)])];
        if (!known.includes(name)) return fail(404, 'NOT_FOUND', `project ${name} not found`);
        if (accounts && user === undefined && !(options.publicProjects ?? []).includes(name)) return fail(401, 'UNAUTHORIZED', 'unauthorized');
        const retention = retentionOf.get(name);
        helpers.sendJson(req, res, 200, { project_id: idOf(`project ${name}`), name, metadata: { public: String((options.publicProjects ?? []).includes(name)), ...(retention === undefined ? {} : { retention_id: String(retention) }) } }, { 'x-request-id': requestId });
        return true;
      }
      const retention = /^\/api\/v2\.0\/retentions\/(\d+)\/?$/.exec(url.pathname);
      if (retention !== null && method === 'GET') {
        if (accounts && user === undefined) return fail(401, 'UNAUTHORIZED', 'unauthorized');
        const policy = retentions.get(Number(retention[1]));
        if (policy === undefined) return fail(404, 'NOT_FOUND', `retention ${retention[1]} not found`);
        helpers.sendJson(req, res, 200, { id: Number(retention[1]), ...policy }, { 'x-request-id': requestId });
        return true;
      }
      const route = parseRoute(url.pathname);
      if (route === undefined) return fail(404, 'NOT_FOUND', `no route for ${req.method ?? 'GET'} ${url.pathname}`);
      if (method !== 'GET' && user === undefined && /(?:^|;\s*)sid=/.test(req.headers.cookie ?? '') && req.headers['x-harbor-csrf-token'] === undefined) {
        return fail(403, 'FORBIDDEN', 'CSRF token invalid');
      }
      const anonymousRead = method === 'GET' && (options.publicProjects ?? []).includes(route.project);
      if (accounts && user === undefined && !anonymousRead) return fail(401, 'UNAUTHORIZED', 'unauthorized');
      if (method === 'DELETE' && user !== undefined && (options.readOnlyUsers ?? []).includes(user)) return fail(403, 'FORBIDDEN', 'forbidden');
      if ('invalid' in route) return fail(404, 'NOT_FOUND', `repository ${route.project}/${route.invalid} not found`);
      const name = `${route.project}/${route.repository}`;
      if (store.repo(name) === undefined || store.manifests(name).length === 0) return fail(404, 'NOT_FOUND', `repository ${name} not found`);
      const send = (status: number, body: unknown, headers: Record<string, string> = {}): true => {
        helpers.sendJson(req, res, status, body, { 'x-request-id': requestId, ...headers });
        return true;
      };
      const done = (): true => {
        helpers.sendEmpty(res, 200, { 'x-request-id': requestId });
        return true;
      };
      const artifactOf = (manifest: StoredManifest) => artifactJson(store, name, manifest, { idOf, immutable: options.immutableTags });
      const target = route.reference === undefined ? undefined : store.resolve(name, route.reference);
      const missing = (): true => fail(404, 'NOT_FOUND', `artifact ${name}:${route.reference ?? ''} not found`);

      if (method === 'GET' && route.reference === undefined && !route.tags) {
        const paging = pageOf(url);
        if (typeof paging === 'string') return fail(paging.startsWith('page_size') ? 422 : 400, paging.startsWith('page_size') ? 'UNPROCESSABLE_ENTITY' : 'BAD_REQUEST', paging);
        const q = url.searchParams.get('q');
        if (q !== null && q !== 'tags=nil' && q !== 'tags=*') return fail(400, 'BAD_REQUEST', `invalid query: ${q}`);
        const listed = listedArtifacts(store, name).filter((m) => (q === 'tags=nil' ? store.tagsOf(name, m.digest).length === 0 : q === 'tags=*' ? store.tagsOf(name, m.digest).length > 0 : true));
        const withTags = url.searchParams.get('with_tag') !== 'false';
        const page = listed.slice((paging.page - 1) * paging.size, paging.page * paging.size).map((m) => {
          const artifact = artifactOf(m);
          return withTags ? artifact : { ...artifact, tags: null };
        });
        return send(200, page, { 'x-total-count': String(listed.length), ...links(url, paging, listed.length) });
      }
      if (method === 'GET' && route.reference !== undefined && !route.tags) return target === undefined ? missing() : send(200, artifactOf(target));
      if (method === 'GET' && route.tags && route.tag === undefined) {
        if (target === undefined) return missing();
        const paging = pageOf(url);
        if (typeof paging === 'string') return fail(400, 'BAD_REQUEST', paging);
        const tags = (artifactOf(target).tags ?? []) as unknown[];
        return send(200, tags.slice((paging.page - 1) * paging.size, paging.page * paging.size), { 'x-total-count': String(tags.length), ...links(url, paging, tags.length) });
      }
      if (method === 'DELETE' && route.tags && route.tag !== undefined) {
        if (target === undefined) return missing();
        if (!store.tagsOf(name, target.digest).includes(route.tag)) return fail(404, 'NOT_FOUND', `tag ${route.tag} not found on artifact ${target.digest}`);
        if (options.immutableTags?.test(route.tag) === true) return fail(412, 'PRECONDITION', `the tag ${route.tag} is immutable, cannot be deleted`);
        store.untag(name, route.tag);
        return done();
      }
      if (method === 'DELETE' && route.reference !== undefined && !route.tags) {
        if (target === undefined) return missing();
        const immutable = store.tagsOf(name, target.digest).find((t) => options.immutableTags?.test(t) === true);
        if (immutable !== undefined) return fail(412, 'PRECONDITION', `the artifact ${name}@${target.digest} has the immutable tag ${immutable}, cannot be deleted`);
        if (parentsOf(store, name, target.digest).length > 0) return fail(412, 'VIOLATE_FOREIGN_KEY_CONSTRAINT', 'the deleting artifact is referenced by others');
        deleteDeeply(store, name, target.digest);
        return done();
      }
      return fail(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`);
    },
  });
  return {
    ...registry,
    apiBase: `${registry.url}${API}`,
    setRetention(project, policy) {
      const id = retentionOf.get(project) ?? retentions.size + 1;
      retentions.set(id, policy);
      retentionOf.set(project, id);
      return id;
    },
  };
}

type Route = { project: string; repository: string; reference?: string; tags: boolean; tag?: string } | { project: string; invalid: string };

/** Splits an API path; the repository segment is decoded twice (`a%252Fb` → `a/b`), a once-encoded `/` misses. */
function parseRoute(pathname: string): Route | undefined {
  const match = /^\/api\/v2\.0\/projects\/([^/]+)\/repositories\/([^/]+)\/artifacts(?:\/([^/]+)(?:\/(tags)(?:\/([^/]+))?)?)?\/?$/.exec(pathname);
  if (match === null) return undefined;
  const [, project = '', rawRepository = '', reference, tags, tag] = match;
  const once = decodeURIComponent(rawRepository);
  if (once.includes('/')) return { project: decodeURIComponent(project), invalid: once.split('/')[0] ?? once };
  return {
    project: decodeURIComponent(project),
    repository: decodeURIComponent(once),
    ...(reference === undefined ? {} : { reference: decodeURIComponent(reference) }),
    tags: tags !== undefined,
    ...(tag === undefined ? {} : { tag: decodeURIComponent(tag) }),
  };
}

function pageOf(url: URL): { page: number; size: number } | string {
  const page = url.searchParams.get('page') ?? '1';
  const size = url.searchParams.get('page_size') ?? String(DEFAULT_PAGE_SIZE);
  if (!/^[1-9]\d*$/.test(page)) return `page in query should be greater than or equal to 1: ${page}`;
  if (!/^\d+$/.test(size)) return `page_size in query must be of type int64: "${size}"`;
  if (Number(size) > MAX_PAGE_SIZE) return `page_size in query should be less than or equal to ${MAX_PAGE_SIZE}`;
  return { page: Number(page), size: Number(size) === 0 ? DEFAULT_PAGE_SIZE : Number(size) };
}

/** Harbor's `Link`: relative URLs (absolute on `origin` when given), `rel="prev"` and `rel="next"` joined by " , ". */
function links(url: URL, paging: { page: number; size: number }, total: number, origin = ''): Record<string, string> {
  const at = (page: number): string => {
    const next = new URLSearchParams(url.searchParams);
    next.set('page', String(page));
    next.set('page_size', String(paging.size));
    return `<${origin}${url.pathname}?${next.toString()}>`;
  };
  const parts: string[] = [];
  if (paging.page > 1) parts.push(`${at(paging.page - 1)}; rel="prev"`);
  if (paging.page * paging.size < total) parts.push(`${at(paging.page + 1)}; rel="next"`);
  return parts.length === 0 ? {} : { link: parts.join(' , ') };
}

/** Digests of index manifests in the repo that reference `digest`. */
const parentsOf = (store: RegistryStore, name: string, digest: string): string[] =>
  store.manifests(name).filter((m) => m.children.includes(digest)).map((m) => m.digest);

/** What the artifacts list shows: tagged artifacts, and untagged ones no index references (newest push first). */
function listedArtifacts(store: RegistryStore, name: string): StoredManifest[] {
  return store
    .manifests(name)
    .filter((m) => store.tagsOf(name, m.digest).length > 0 || parentsOf(store, name, m.digest).length === 0)
    .sort((a, b) => pushTime(store, name, b).getTime() - pushTime(store, name, a).getTime() || a.digest.localeCompare(b.digest));
}

/** An artifact's push time: its latest push, by digest or through any of its tags. */
function pushTime(store: RegistryStore, name: string, manifest: StoredManifest): Date {
  const times = store.tags(name).filter((t) => t.digest === manifest.digest).map((t) => t.pushedAt.getTime());
  return new Date(Math.max(manifest.pushedAt.getTime(), ...times));
}

/** Removes an artifact with its tags, then its children that are now untagged and referenced by nothing else. */
function deleteDeeply(store: RegistryStore, name: string, digest: string): void {
  const manifest = store.manifest(name, digest);
  if (manifest === undefined) return;
  store.deleteManifest(name, digest);
  for (const child of manifest.children) {
    if (store.tagsOf(name, child).length === 0 && parentsOf(store, name, child).length === 0) deleteDeeply(store, name, child);
  }
}

/** The Artifact JSON of reference §3.6. */
function artifactJson(store: RegistryStore, name: string, m: StoredManifest, options: { idOf: (key: string) => number; immutable: RegExp | undefined }): Record<string, unknown> {
  const [project = ''] = name.split('/');
  const id = options.idOf(`${name}@${m.digest}`);
  const tags = store.tags(name).filter((t) => t.digest === m.digest);
  const image = m.artifactType === 'application/vnd.oci.image.config.v1+json' || m.artifactType === 'application/vnd.docker.container.image.v1+json';
  return {
    id,
    type: m.children.length > 0 || image ? 'IMAGE' : m.artifactType === 'application/vnd.cncf.helm.config.v1+json' ? 'CHART' : 'UNKNOWN',
    media_type: m.artifactType ?? m.mediaType,
    manifest_media_type: m.mediaType,
    project_id: options.idOf(`project ${project}`),
    repository_id: options.idOf(`repository ${name}`),
    repository_name: name,
    digest: m.digest,
    size: m.bytes.byteLength,
    icon: '',
    push_time: pushTime(store, name, m).toISOString(),
    pull_time: store.lastPull(name, m.digest)?.toISOString() ?? ZERO_TIME,
    extra_attrs: {},
    annotations: m.annotations ?? null,
    references: m.children.length === 0 ? null : m.children.map((child) => ({ parent_id: id, child_id: options.idOf(`${name}@${child}`), child_digest: child, platform: null })),
    tags:
      tags.length === 0
        ? null
        : tags.map((t) => ({
            id: options.idOf(`tag ${name}:${t.tag}`),
            repository_id: options.idOf(`repository ${name}`),
            artifact_id: id,
            name: t.tag,
            push_time: t.pushedAt.toISOString(),
            pull_time: store.lastPull(name, t.tag)?.toISOString() ?? ZERO_TIME,
            immutable: options.immutable?.test(t.tag) === true,
          })),
    labels: null,
    accessories: null,
  };
}
