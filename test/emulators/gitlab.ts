/**
 * An emulator of the GitLab Container Registry REST API (reference §3.5) on top of the memory registry, served
 * under `/api/v4` on the registry's own port: project lookup by numeric id or URL-encoded path, registry
 * repositories (the project path plus an optional sub-path), tag lists with offset pagination (GitLab's x-*
 * headers and Link, no totals past 10,000) or GitLab.com's keyset style (Link only), tag details with digest and
 * created_at, single tag deletes (untag: the manifest stays), the once-an-hour bulk delete, PRIVATE-TOKEN /
 * Bearer / JOB-TOKEN auth (a read_api token cannot delete), protected tags (403), GitLab's error bodies and the
 * RateLimit-* header family with 429 + Retry-After. The Registry API untags on DELETE by tag (GitLab 16.4+) and
 * deletes by digest.
 * The job token follows GitLab 13.12+ (reference §5, MR 49750; https://docs.gitlab.com/ci/jobs/ci_job_token/:
 * "Container registry API: the token is scoped to the container registry of the job's project only"): sent as
 * `JOB-TOKEN`, it lists and deletes tags of its own project's registry; another project answers 403; a job token
 * sent as PRIVATE-TOKEN is no access token (401).
 * Groups (`GET /groups/:id/registry/repositories`, reference §3.5; https://docs.gitlab.com/api/container_registry/
 * "Within a group"): the registry repositories of every project in the group and its subgroups (GitLab's
 * ContainerRepositoriesFinder: `for_group_and_its_subgroups`), offset pages as for projects, no tags; an unknown group
 * answers `404 Group Not Found`, and a job token (scoped to its own project's registry) gets 403.
 * Projects (`GET /projects/:id`, https://docs.gitlab.com/api/projects/#get-a-single-project): id, path and the
 * `container_expiration_policy` (the cleanup policy `regplan drift` reads; disabled by default).
 * Test hooks: `nextOrigin` (Link URLs on another origin, for the same-origin check), `beforeRepositoriesPage`
 * (another writer pushing while a repository listing runs) and `collectUntagged`
 * (a manifest goes with its last tag at once, as GitLab's garbage collection later removes untagged content,
 * reference §3.5 "Blobs stay until GC runs"; the driver relies on it: `untagLastDeletesManifest`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startMemoryRegistry, type MemoryRegistry, type MemoryRegistryOptions, type MemoryRequest, type RegistryStore, type RouteHelpers } from './memory-registry.ts';

/** A GitLab project; registry repositories under its path belong to it (the longest project path wins). */
export interface GitlabProject {
  id: number;
  /** Full path with namespace, e.g. `acme/platform/api`. */
  path: string;
  /**
   * The project's cleanup policy as `GET /projects/:id` reports it in `container_expiration_policy`
   * (https://docs.gitlab.com/api/projects/#get-a-single-project): cadence, enabled, keep_n, older_than, name_regex,
   * name_regex_delete, name_regex_keep, next_run_at; absent = GitLab's default (disabled, nulls).
   */
  containerExpirationPolicy?: Record<string, unknown>;
}

/** What a token may do: `api` reads and deletes, `read_api` only reads. */
export type GitlabTokenScope = 'api' | 'read_api';

/** Options of the GitLab emulator (the memory registry's own options pass through). */
export interface GitlabEmulatorOptions extends Omit<MemoryRegistryOptions, 'routes' | 'tagDelete' | 'digestDelete'> {
  projects: readonly GitlabProject[];
  /** Groups (and subgroups) by id and full path; their registry listing covers every project below them. */
  groups?: readonly GitlabProject[];
  /** Called before a page of a project's or group's registry repositories is answered. */
  beforeRepositoriesPage?: (info: { path: string; page: number }) => void;
  /** Personal/project access tokens (PRIVATE-TOKEN or `Authorization: Bearer`) and their scope. */
  tokens?: Record<string, GitlabTokenScope>;
  /** CI_JOB_TOKEN values (JOB-TOKEN header) -> the id of the job's project, whose registry they may list and delete. */
  jobTokens?: Record<string, number>;
  /** Tags a protection rule covers: deleting one answers 403. */
  protectedTags?: RegExp;
  /** `offset` (self-managed, default) or `keyset` (GitLab.com: Link rel="next" only) for tag lists. */
  pagination?: 'offset' | 'keyset';
  /** Answer every (requests + 1)th API request with 429 (Retry-After: `retryAfter`, default 0). */
  rateLimit?: { requests: number; retryAfter?: number };
  /** The largest per_page honoured (GitLab: 100); tests lower it to page small lists. */
  maxPerPage?: number;
  /** What tag details report as created_at: the tag's push time (default) or null (an artifact without one). */
  createdAt?: 'pushed' | 'null';
  /** Writes `Link` URLs on this origin instead of the emulator's own (a hostile or misconfigured API). */
  nextOrigin?: string;
  /** Removes a manifest together with its last tag (GitLab's garbage collection of untagged manifests, at once). */
  collectUntagged?: boolean;
}

/** A running GitLab emulator. */
export interface GitlabEmulator extends MemoryRegistry {
  /** `http://127.0.0.1:PORT/api/v4` */
  apiUrl: string;
  /** Requests to the native API only. */
  apiRequests(): MemoryRequest[];
  /** The registry repository id GitLab gives a repository path. */
  repositoryId(path: string): number;
}

const API = '/api/v4/';
const MAX_PER_PAGE = 100;
const TOTALS_LIMIT = 10_000;

/** Starts the emulator on a free loopback port. Always stop it (try/finally or an after hook). */
export async function startGitlabEmulator(options: GitlabEmulatorOptions): Promise<GitlabEmulator> {
  const ids = new Map<string, number>();
  const repositoryId = (path: string): number => {
    let id = ids.get(path);
    if (id === undefined) ids.set(path, (id = 1000 + ids.size));
    return id;
  };
  const state: EmulatorState = { options, repositoryId, apiCalls: 0, bulkDeletes: new Map() };
  const registry = await startMemoryRegistry({
    ...options,
    tagDelete: 'untag',
    digestDelete: 'delete',
    routes: (req, res, url, store, helpers) => {
      if (!url.pathname.startsWith(API)) return false;
      return serveApi(req, res, url, { store, helpers, state }).then(() => true);
    },
  });
  return {
    ...registry,
    apiUrl: `${registry.url}/api/v4`,
    apiRequests: () => registry.requestsTo(API),
    repositoryId,
  };
}

interface EmulatorState {
  options: GitlabEmulatorOptions;
  repositoryId: (path: string) => number;
  apiCalls: number;
  /** Last bulk delete per repository id (GitLab allows one an hour). */
  bulkDeletes: Map<number, number>;
}

interface Call {
  store: RegistryStore;
  helpers: RouteHelpers;
  state: EmulatorState;
}

type Caller = { kind: 'token'; scope: GitlabTokenScope } | { kind: 'job'; project: number } | { kind: 'anonymous' } | { kind: 'invalid' };

function callerOf(req: IncomingMessage, state: EmulatorState): Caller {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const bearer = /^Bearer\s+(.+)$/i.exec(header('authorization') ?? '')?.[1];
  const token = header('private-token') ?? bearer;
  if (token !== undefined) {
    const scope = state.options.tokens?.[token];
    return scope === undefined ? { kind: 'invalid' } : { kind: 'token', scope };
  }
  const job = header('job-token');
  if (job !== undefined) {
    const project = state.options.jobTokens?.[job];
    return project === undefined ? { kind: 'invalid' } : { kind: 'job', project };
  }
  return { kind: 'anonymous' };
}

function rateHeaders(state: EmulatorState, limited: boolean): Record<string, string> {
  const limit = state.options.rateLimit?.requests ?? 2000;
  const observed = state.options.rateLimit === undefined ? state.apiCalls : ((state.apiCalls - 1) % (limit + 1)) + 1;
  const reset = Math.floor(Date.now() / 1000) + 60;
  return {
    'ratelimit-name': 'throttle_authenticated_api',
    'ratelimit-limit': String(limit),
    'ratelimit-observed': String(observed),
    'ratelimit-remaining': String(Math.max(0, limit - observed)),
    'ratelimit-reset': String(reset),
    ...(limited ? { 'ratelimit-resettime': new Date(reset * 1000).toUTCString(), 'retry-after': String(state.options.rateLimit?.retryAfter ?? 0) } : {}),
  };
}

async function serveApi(req: IncomingMessage, res: ServerResponse, requestUrl: URL, call: Call): Promise<void> {
  const { state, helpers } = call;
  const url = new URL(`${requestUrl.pathname}${requestUrl.search}`, helpers.url); // absolute Links carry the port
  state.apiCalls += 1;
  const every = state.options.rateLimit?.requests;
  if (every !== undefined && state.apiCalls % (every + 1) === 0) {
    res.writeHead(429, { 'content-type': 'text/plain', ...rateHeaders(state, true) });
    return void res.end('Retry later\n');
  }
  const headers = rateHeaders(state, false);
  const send = (status: number, body: unknown, extra: Record<string, string> = {}) => helpers.sendJson(req, res, status, body, { ...headers, ...extra });
  const caller = callerOf(req, state);
  const maxPerPage = state.options.maxPerPage ?? MAX_PER_PAGE;
  if (caller.kind === 'invalid') return send(401, { message: '401 Unauthorized' });

  // /api/v4/projects/:id/registry/repositories[/:rid/tags[/:tag]] — the raw path keeps %2F inside :id.
  const parts = url.pathname.slice(API.length).split('/');
  if (parts[0] === 'groups' && parts[2] === 'registry' && parts[3] === 'repositories' && parts.length === 4 && parts[1] !== undefined) {
    const group = findProject(state.options.groups ?? [], decodeURIComponent(parts[1]));
    if (group === undefined || caller.kind === 'anonymous') return send(404, { message: '404 Group Not Found' });
    if (caller.kind === 'job') return send(403, { message: '403 Forbidden' }); // a job token reaches its own project only
    if ((req.method ?? 'GET') !== 'GET') return send(405, { message: '405 Method Not Allowed' });
    state.options.beforeRepositoriesPage?.({ path: group.path, page: Number(url.searchParams.get('page') ?? '1') });
    const inGroup = state.options.projects.filter((p) => p.path.toLowerCase().startsWith(`${group.path.toLowerCase()}/`));
    const listed = inGroup.flatMap((p) => repositoriesOf(p, call).map((path) => ({ path, project: p }))).sort((a, b) => (a.path < b.path ? -1 : 1));
    const page = offsetPage(listed, url, maxPerPage, state.options.nextOrigin);
    return send(200, page.items.map((r) => repositoryJson(r.path, r.project, call, new URL(url.pathname, url.origin))), page.headers);
  }
  if (parts[0] === 'projects' && parts.length === 2 && parts[1] !== undefined && parts[1] !== '') {
    // GET /projects/:id: the project with its container_expiration_policy (projects API, "Get a single project").
    const project = findProject(state.options.projects, decodeURIComponent(parts[1]));
    if (project === undefined || caller.kind === 'anonymous') return send(404, { message: '404 Project Not Found' });
    if (caller.kind === 'job') return send(403, { message: '403 Forbidden' }); // the job token is scoped to the registry API
    if ((req.method ?? 'GET') !== 'GET') return send(405, { message: '405 Method Not Allowed' });
    const policy = { cadence: '1d', enabled: false, keep_n: 10, older_than: '90d', name_regex: '.*', name_regex_delete: '.*', name_regex_keep: null, next_run_at: null, ...project.containerExpirationPolicy };
    return send(200, { id: project.id, path_with_namespace: project.path, container_registry_enabled: true, container_expiration_policy: policy });
  }
  if (parts[0] !== 'projects' || parts[2] !== 'registry' || parts[3] !== 'repositories' || parts[1] === undefined) {
    return send(404, { error: '404 Not Found' });
  }
  const project = findProject(state.options.projects, decodeURIComponent(parts[1]));
  if (project === undefined || caller.kind === 'anonymous') return send(404, { message: '404 Project Not Found' });
  if (caller.kind === 'job' && caller.project !== project.id) return send(403, { message: '403 Forbidden' }); // reference §5
  const method = req.method ?? 'GET';
  const repositories = repositoriesOf(project, call);

  if (parts.length === 4) {
    if (method !== 'GET') return send(405, { message: '405 Method Not Allowed' });
    state.options.beforeRepositoriesPage?.({ path: project.path, page: Number(url.searchParams.get('page') ?? '1') });
    const page = offsetPage(repositories, url, maxPerPage, state.options.nextOrigin);
    return send(200, page.items.map((r) => repositoryJson(r, project, call, url)), page.headers);
  }
  const repository = repositories.find((r) => String(state.repositoryId(r)) === parts[4]);
  if (repository === undefined || parts[5] !== 'tags') return send(404, { message: '404 Repository Not Found' });
  const tags = call.store.tags(repository);
  const location = (tag?: string) => `${helpers.url.replace(/^https?:\/\//, '')}/${repository}${tag === undefined ? '' : `:${tag}`}`;

  if (parts.length === 6) {
    if (method === 'GET') {
      const names = tags.map((t) => t.tag);
      const page = state.options.pagination === 'keyset' ? keysetPage(names, url, maxPerPage, state.options.nextOrigin) : offsetPage(names, url, maxPerPage, state.options.nextOrigin);
      return send(200, page.items.map((name) => ({ name, path: `${repository}:${name}`, location: location(name) })), page.headers);
    }
    if (method === 'DELETE') return bulkDelete(url, repository, call, send);
    return send(405, { message: '405 Method Not Allowed' });
  }
  const tagName = decodeURIComponent(parts.slice(6).join('/'));
  const tag = tags.find((t) => t.tag === tagName);
  if (tag === undefined) return send(404, { message: '404 Tag Not Found' });
  if (method === 'GET') {
    const manifest = call.store.manifest(repository, tag.digest);
    const config = manifest?.blobs[0];
    const size = (manifest?.blobs ?? []).reduce((sum, d) => sum + (call.store.blob(d)?.byteLength ?? 0), 0);
    return send(200, {
      name: tag.tag,
      path: `${repository}:${tag.tag}`,
      location: location(tag.tag),
      revision: config?.replace(/^sha256:/, '') ?? null,
      short_revision: config?.replace(/^sha256:/, '').slice(0, 9) ?? null,
      digest: tag.digest,
      created_at: state.options.createdAt === 'null' ? null : gitlabTime(tag.pushedAt),
      total_size: size,
    });
  }
  if (method !== 'DELETE') return send(405, { message: '405 Method Not Allowed' });
  const refusal = deleteRefusal(caller, tag.tag, state);
  if (refusal !== undefined) return send(403, refusal);
  call.store.untag(repository, tag.tag); // the manifest stays until GitLab's garbage collection
  if (state.options.collectUntagged === true && call.store.tagsOf(repository, tag.digest).length === 0) call.store.deleteManifest(repository, tag.digest);
  res.writeHead(200, { ...headers, 'content-length': '0' });
  res.end();
}

/** Why GitLab would refuse this caller deleting `tag`, as its 403 body; undefined when it may. */
function deleteRefusal(caller: Caller, tag: string, state: EmulatorState): unknown {
  if (caller.kind === 'token' && caller.scope !== 'api') {
    return { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope: 'api' };
  }
  if (state.options.protectedTags?.test(tag) === true) return { message: '403 Forbidden' };
  return undefined;
}

/** `DELETE .../tags` with name_regex_delete: async (202), at most once an hour, never `latest` or protected tags. */
function bulkDelete(url: URL, repository: string, call: Call, send: (status: number, body: unknown) => void): void {
  const pattern = url.searchParams.get('name_regex_delete') ?? url.searchParams.get('name_regex');
  if (pattern === null) return send(400, { error: 'name_regex_delete is missing' });
  const id = call.state.repositoryId(repository);
  const last = call.state.bulkDeletes.get(id);
  if (last !== undefined && Date.now() - last < 3_600_000) return send(400, { message: 'This request has already been made. You can run this at most once an hour for a given container repository' });
  call.state.bulkDeletes.set(id, Date.now());
  const remove = new RegExp(`^(?:${pattern})$`);
  const keepText = url.searchParams.get('name_regex_keep');
  const keep = keepText === null ? undefined : new RegExp(`^(?:${keepText})$`);
  for (const { tag } of call.store.tags(repository)) {
    if (tag === 'latest' || !remove.test(tag) || keep?.test(tag) === true || call.state.options.protectedTags?.test(tag) === true) continue;
    call.store.untag(repository, tag);
  }
  send(202, {});
}

function findProject(projects: readonly GitlabProject[], id: string): GitlabProject | undefined {
  return /^\d+$/.test(id) ? projects.find((p) => String(p.id) === id) : projects.find((p) => p.path.toLowerCase() === id.toLowerCase());
}

/** Registry repositories of a project: store repos at its path or below it, unless a deeper project owns them. */
function repositoriesOf(project: GitlabProject, call: Call): string[] {
  const owner = (repo: string) =>
    call.state.options.projects
      .filter((p) => repo === p.path || repo.startsWith(`${p.path}/`))
      .sort((a, b) => b.path.length - a.path.length)[0];
  return call.store.repos().filter((repo) => owner(repo)?.id === project.id);
}

function repositoryJson(path: string, project: GitlabProject, call: Call, url: URL): Record<string, unknown> {
  const tags = call.store.tags(path);
  return {
    id: call.state.repositoryId(path),
    name: path === project.path ? '' : path.slice(project.path.length + 1),
    path,
    project_id: project.id,
    location: `${call.helpers.url.replace(/^https?:\/\//, '')}/${path}`,
    created_at: gitlabTime(new Date(Date.UTC(2024, 0, 1))),
    cleanup_policy_started_at: null,
    status: null,
    ...(url.searchParams.get('tags_count') === 'true' ? { tags_count: tags.length } : {}),
    ...(url.searchParams.get('tags') === 'true' ? { tags: tags.map((t) => ({ name: t.tag, path: `${path}:${t.tag}`, location: `${path}:${t.tag}` })) } : {}),
  };
}

/** GitLab's timestamp style: `2019-01-06T16:49:51.272+00:00`. */
const gitlabTime = (date: Date): string => date.toISOString().replace('Z', '+00:00');

function perPage(url: URL, max: number): number {
  const asked = Number(url.searchParams.get('per_page') ?? '20');
  return Math.min(Number.isInteger(asked) && asked > 0 ? asked : 20, max);
}

/** Offset pagination: page/per_page, x-* headers and Link (prev/next/first/last); no totals past 10,000. */
function offsetPage<T>(all: readonly T[], url: URL, max: number, origin?: string): { items: T[]; headers: Record<string, string> } {
  const size = perPage(url, max);
  const page = Math.max(1, Number(url.searchParams.get('page') ?? '1') || 1);
  const items = all.slice((page - 1) * size, page * size);
  const pages = Math.max(1, Math.ceil(all.length / size));
  const withPage = (n: number) => {
    const next = new URL(`${url.pathname}${url.search}`, origin ?? url.origin);
    next.searchParams.set('page', String(n));
    next.searchParams.set('per_page', String(size));
    return next;
  };
  const hasNext = page * size < all.length;
  const links = [
    ...(page > 1 ? [`<${withPage(page - 1).href}>; rel="prev"`] : []),
    ...(hasNext ? [`<${withPage(page + 1).href}>; rel="next"`] : []),
    `<${withPage(1).href}>; rel="first"`,
    ...(all.length <= TOTALS_LIMIT ? [`<${withPage(pages).href}>; rel="last"`] : []),
  ];
  return {
    items,
    headers: {
      'x-page': String(page),
      'x-per-page': String(size),
      'x-next-page': hasNext ? String(page + 1) : '',
      'x-prev-page': page > 1 ? String(page - 1) : '',
      ...(all.length <= TOTALS_LIMIT ? { 'x-total': String(all.length), 'x-total-pages': String(pages) } : {}),
      link: links.join(', '),
    },
  };
}

/** GitLab.com keyset pagination of tag names: sorted by name, `last` is exclusive, Link rel="next" only. */
function keysetPage(all: readonly string[], url: URL, max: number, origin?: string): { items: string[]; headers: Record<string, string> } {
  const size = perPage(url, max);
  const sorted = [...all].sort();
  if (url.searchParams.get('sort') === 'desc') sorted.reverse();
  const last = url.searchParams.get('last');
  const start = last === null ? 0 : sorted.findIndex((name) => (url.searchParams.get('sort') === 'desc' ? name < last : name > last));
  const rest = start < 0 ? [] : sorted.slice(start);
  const items = rest.slice(0, size);
  const lastItem = items.at(-1);
  if (rest.length <= items.length || lastItem === undefined) return { items, headers: {} };
  const next = new URL(`${url.pathname}${url.search}`, origin ?? url.origin);
  for (const [key, value] of [['pagination', 'keyset'], ['order_by', 'name'], ['sort', url.searchParams.get('sort') ?? 'asc'], ['per_page', String(size)], ['last', lastItem]] as const) next.searchParams.set(key, value);
  next.searchParams.delete('page');
  return { items, headers: { link: `<${next.href}>; rel="next"` } };
}
