/**
 * GitLab Registry (`gitlab.com`, `registry.gitlab.com`, or self-hosted set explicitly). Reads and pushes go through
 * the Registry API; listing and deleting go through the GitLab Container Registry API (REST v4, reference §3.5):
 * the repo path is a project path plus an optional sub-path, found by trying the longest project prefix first;
 * tags come from `.../registry/repositories/<rid>/tags` (paged) with one detail request per tag for digest and
 * created_at (the list carries neither); `DELETE .../tags/<tag>` removes one tag and GitLab drops the manifest
 * once no tag is left, so deleting a manifest means deleting every tag on it. Never the regex bulk delete: regplan
 * deletes exactly the planned tags. Auth: a token with the `api` scope as PRIVATE-TOKEN (CI_JOB_TOKEN cannot delete).
 */
import pLimit from 'p-limit';
import { isNotFound, RegplanError } from '../errors.ts';
import { createRegistryApiDriver } from './default.ts';
import { hostWithoutPort } from './detect.ts';
import type { Capabilities, CleanupRefuser, DetailedLister, Driver, DriverContext, DriverFactory, TagRecord, Untagger } from './driver.ts';
import { NativeApi, type NativeResponse } from './native-api.ts';

const TOKEN_FLAG = '--repo-gitlab-token';
const TOKEN_ENV = 'REGPLAN_REPO_GITLAB_TOKEN';
/** The API of gitlab.com, which serves `registry.gitlab.com`. */
const GITLAB_COM_API = 'https://gitlab.com/api/v4';
const PER_PAGE = 100;
/** Tag detail requests in flight per listing (the list endpoint has no digests: one request per tag). */
const DETAIL_CONCURRENCY = 8;

const TOKEN_ADVICE =
  `pass a personal, group or project access token with the api scope and a role that may delete container images ` +
  `as ${TOKEN_FLAG} / ${TOKEN_ENV} (or registries.<host>.credentials.token); CI_JOB_TOKEN cannot delete registry tags`;

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath:
    'GitLab Container Registry API: tags from /api/v4/projects/<id>/registry/repositories/<rid>/tags, digest and created_at ' +
    'from .../tags/<tag>, DELETE .../tags/<tag> (untag; GitLab drops a manifest once no tag is left)',
  untag: true,
  listUntagged: false,
  nativeCredentials: [
    { description: 'GitLab token with api scope (CI_JOB_TOKEN is not enough)', flag: TOKEN_FLAG, env: TOKEN_ENV, configKey: 'token' },
  ],
  notes:
    'API base: https://gitlab.com/api/v4 for gitlab.com and registry.gitlab.com, else registries.<host>.api (in GitLab CI: ' +
    '$CI_API_V4_URL); CI_JOB_TOKEN cannot delete; protected tags answer 403; one API request per tag for digests and times',
};

/**
 * The GitLab API base for a registry host: `api` when set (a bare origin gains `/api/v4`), gitlab.com's for its
 * registry, else undefined (a self-hosted registry usually lives on another host than its GitLab, so it is not guessed).
 */
export function gitlabApiBase(host: string, api: string | undefined): string | undefined {
  if (api !== undefined && api.trim() !== '') {
    const url = URL.canParse(api.trim()) ? new URL(api.trim()) : undefined;
    if (url === undefined || !/^https?:$/.test(url.protocol)) return undefined;
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/api/v4';
    return url.href.replace(/\/+$/, '');
  }
  const bare = hostWithoutPort(host).toLowerCase();
  return bare === 'gitlab.com' || bare === 'registry.gitlab.com' ? GITLAB_COM_API : undefined;
}

/** Where a repo lives in GitLab: its project (URL-encoded path) and registry repository id. */
interface RegistryLocation {
  project: string;
  repositoryId: number;
}

interface RepositoryJson {
  id: number;
  name?: string;
  path?: string;
}

interface TagJson {
  name: string;
  digest?: string | null;
  created_at?: string | null;
  media_type?: string | null;
}

/** Builds the GitLab driver for one registry host. */
function createGitlabDriver(context: DriverContext): Driver {
  const base = createRegistryApiDriver(context, { type: 'gitlab', capabilities });
  const apiBase = gitlabApiBase(context.host, context.registry?.api);
  if (apiBase === undefined) {
    const refusal = () =>
      new RegplanError(`cannot clean up "${context.host}" as a GitLab registry: regplan does not know where its GitLab API is${context.registry?.api === undefined ? '' : ` (registries."${context.host}".api ${JSON.stringify(context.registry.api)} is not an http(s) URL)`}`, {
        hint:
          `set registries."${context.host}".api in the config to the GitLab API, e.g. https://gitlab.example.com/api/v4 ` +
          '(in GitLab CI that is $CI_API_V4_URL); a self-hosted registry usually has another host than GitLab itself',
        context: { registry: context.host },
      });
    const refusing: Driver & CleanupRefuser = {
      ...base,
      async deleteManifest() {
        throw refusal();
      },
      cleanupRefusal: refusal,
    };
    return refusing;
  }

  let api: Promise<NativeApi> | undefined;
  const client = (): Promise<NativeApi> =>
    (api ??= (async () => {
      const token = await context.nativeSecret(TOKEN_ENV);
      if (token === undefined || token === '') {
        throw new RegplanError(`cannot list or delete tags on "${context.host}" through the GitLab API: no GitLab token is set`, {
          hint: TOKEN_ADVICE,
          context: { registry: context.host, flag: TOKEN_FLAG },
        });
      }
      const native = new NativeApi({
        base: apiBase,
        title: 'GitLab API',
        headers: { 'private-token': token },
        authHint: `GitLab refused the token: ${TOKEN_ADVICE}; a 403 on a delete can also mean a protected container tag rule covers the tag`,
        insecure: context.registry?.insecure ?? false,
        ...(context.debug === undefined ? {} : { debug: context.debug }),
      });
      native.addSecret(token);
      return native;
    })());

  const locations = new Map<string, Promise<RegistryLocation | undefined>>();
  const locate = (name: string) => {
    let found = locations.get(name);
    if (found === undefined) locations.set(name, (found = locateRepository(client, context.host, name)));
    return found;
  };
  /** The last listing per repo: deleteManifest finds the tags on a digest here (apply lists right before deleting). */
  const lastListing = new Map<string, TagRecord[]>();
  const tagsPath = (at: RegistryLocation) => `projects/${at.project}/registry/repositories/${at.repositoryId}/tags`;
  const tagPath = (at: RegistryLocation, tag: string) => `${tagsPath(at)}/${encodeURIComponent(tag)}`;

  const details = async (at: RegistryLocation, tag: string): Promise<TagJson | undefined> => {
    try {
      return (await (await client()).get<TagJson>(tagPath(at, tag))).data;
    } catch (error) {
      if (isNotFound(error)) return undefined; // deleted since the list was read
      throw error;
    }
  };
  const deleteTag = async (name: string, at: RegistryLocation, tag: string): Promise<void> => {
    try {
      await (await client()).request('DELETE', tagPath(at, tag), { subject: `${context.host}/${name}:${tag}` });
    } catch (error) {
      if (!isNotFound(error)) throw error; // already gone counts as done (design §6)
    }
  };

  const manifestDeletes = new Map<string, Promise<void>>();
  const deleteEveryTagOn = async (name: string, digest: string): Promise<void> => {
    const at = await locate(name);
    if (at === undefined) return;
    const listing = lastListing.get(name) ?? (await driver.listTagRecords(name));
    for (const record of listing.filter((r) => r.digest === digest)) {
      const now = await details(at, record.tag);
      if (now?.digest !== digest) continue; // gone, or moved to other content: not this manifest's tag any more
      await deleteTag(name, at, record.tag);
    }
  };

  const driver: Driver & DetailedLister & Untagger = {
    ...base,
    capabilities,
    async listTagRecords(name) {
      const at = await locate(name);
      if (at === undefined) return [];
      const api = await client();
      const entries = await listAllPages<TagJson>(api, tagsPath(at));
      const limit = pLimit(DETAIL_CONCURRENCY);
      const found = await Promise.all(
        entries.map((entry) => limit(async () => (typeof entry.digest === 'string' ? entry : await details(at, entry.name)))),
      );
      const records = found.filter((t): t is TagJson => t !== undefined).map(toRecord).filter((r) => r !== undefined);
      records.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
      lastListing.set(name, records);
      return records;
    },
    async untag(name, tag) {
      const at = await locate(name);
      if (at !== undefined) await deleteTag(name, at, tag);
    },
    /**
     * GitLab's API has no manifest delete: every tag on the digest goes (each re-checked first), then GitLab drops
     * the manifest. Concurrent calls for one digest (tags sharing it, applied in parallel) share one run.
     */
    deleteManifest(name, digest) {
      const key = `${name}@${digest}`;
      let running = manifestDeletes.get(key);
      if (running === undefined) {
        running = deleteEveryTagOn(name, digest).finally(() => manifestDeletes.delete(key));
        manifestDeletes.set(key, running);
      }
      return running;
    },
  };
  return driver;
}

function toRecord(tag: TagJson): TagRecord | undefined {
  if (typeof tag.digest !== 'string' || tag.digest === '') return undefined;
  const time = typeof tag.created_at === 'string' ? new Date(tag.created_at) : undefined;
  return {
    tag: tag.name,
    digest: tag.digest,
    ...(typeof tag.media_type === 'string' && tag.media_type !== '' ? { mediaType: tag.media_type } : {}),
    ...(time === undefined || Number.isNaN(time.getTime()) ? {} : { pushedAt: time.toISOString() }),
  };
}

/**
 * Finds the project and registry repository of `name`: the registry path is the project path plus an optional
 * sub-path, so project paths are tried from the longest prefix (at least namespace/project) down. Undefined when a
 * project exists but holds no such repository (nothing pushed yet); an error when no prefix is a project the token sees.
 */
async function locateRepository(client: () => Promise<NativeApi>, host: string, name: string): Promise<RegistryLocation | undefined> {
  const api = await client();
  const segments = name.split('/');
  if (segments.length < 2) {
    throw new RegplanError(`"${host}/${name}" is not a GitLab registry repository: GitLab paths are <namespace>/<project>[/<image>]`, {
      hint: 'write the repo as the project path (with its group) plus the optional image name',
      context: { registry: host, repo: name },
    });
  }
  const tried: string[] = [];
  let projectFound = false;
  for (let length = segments.length; length >= 2; length--) {
    const projectPath = segments.slice(0, length).join('/');
    const project = encodeURIComponent(projectPath);
    let repositories: RepositoryJson[];
    try {
      repositories = await listAllPages<RepositoryJson>(api, `projects/${project}/registry/repositories`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      tried.push(projectPath);
      continue;
    }
    projectFound = true;
    const wanted = name.toLowerCase();
    const match = repositories.find((r) => (r.path ?? [projectPath, r.name].filter(Boolean).join('/')).toLowerCase() === wanted);
    if (match !== undefined) return { project, repositoryId: match.id };
  }
  if (projectFound) return undefined;
  throw new RegplanError(`no GitLab project holds "${host}/${name}": ${api.title} at ${api.base.href} answered 404 for ${tried.map((t) => `"${t}"`).join(', ')}`, {
    hint: `check the repo path; GitLab also answers 404 for private projects the token cannot read, so ${TOKEN_ADVICE}`,
    context: { registry: host, repo: name, status: 404 },
  });
}

/** Every item of a paged GitLab list: follows `Link rel="next"` (same origin only), else `X-Next-Page`. */
async function listAllPages<T>(api: NativeApi, path: string): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let next: URL | undefined = api.url(path, { per_page: PER_PAGE });
  while (next !== undefined && !seen.has(next.href)) {
    seen.add(next.href);
    const page: NativeResponse<T[]> = await api.get<T[]>(next);
    if (Array.isArray(page.data)) items.push(...page.data);
    next = nextPage(page, api.base);
  }
  return items;
}

/** The next page's URL, or undefined on the last page; a Link to another origin is never followed (it would get the token). */
export function nextPage(page: { headers: Headers; url: URL }, base: URL): URL | undefined {
  for (const match of (page.headers.get('link') ?? '').matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const rel = /rel\s*=\s*"?([^";,]+)"?/i.exec(match[2] ?? '')?.[1] ?? '';
    if (!rel.split(/\s+/).includes('next')) continue;
    const url = new URL(match[1] ?? '', page.url);
    if (url.origin === base.origin) return url;
  }
  const number = page.headers.get('x-next-page')?.trim();
  if (number === undefined || !/^\d+$/.test(number)) return undefined;
  const url = new URL(page.url);
  url.searchParams.set('page', number);
  return url;
}

/** The GitLab registry type. */
export const gitlabDriver = {
  type: 'gitlab',
  title: 'GitLab Registry',
  status: 'ready',
  capabilities,
  create: createGitlabDriver,
} satisfies DriverFactory;
