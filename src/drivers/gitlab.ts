/**
 * GitLab Registry (`gitlab.com`, `registry.gitlab.com`, or self-hosted set explicitly). Reads and pushes go through
 * the Registry API; listing and deleting go through the GitLab Container Registry API (REST v4, reference §3.5):
 * the repo path is a project path plus an optional sub-path, found by trying the longest project prefix first;
 * tags come from `.../registry/repositories/<rid>/tags` (paged) with one detail request per tag for digest and
 * created_at (the list carries neither); `DELETE .../tags/<tag>` removes one tag and GitLab drops the manifest
 * once no tag is left, so deleting a manifest means deleting every tag on it. Never the regex bulk delete: regplan
 * deletes exactly the planned tags.
 * Auth: an access token with the `api` scope as PRIVATE-TOKEN; else, in GitLab CI (GITLAB_CI=true), the job's
 * CI_JOB_TOKEN as JOB-TOKEN, which GitLab accepts for the container registry API of the job's own project since
 * 13.12 (reference §5; https://docs.gitlab.com/ci/jobs/ci_job_token/), never sent as PRIVATE-TOKEN.
 * Discovery (`listRepositories`): the prefix's namespace path is tried as a group (`/groups/<path>/registry/
 * repositories`: every project of the group and its subgroups) and, on 404, as a project (`/projects/<path>/registry/
 * repositories`); each repository's `path` is its Registry-API name. A prefix without a namespace is an error (the
 * instance-wide `/v2/_catalog` needs a GitLab admin, reference §3.5).
 * Installed cleanup policy (`readInstalledPolicy`, for `regplan drift`): `GET /projects/:id` -> container_expiration_policy.
 * Paging: offset pages (`X-Next-Page`) or GitLab.com keyset pages (`Link rel="next"`), through `NativeApi.listAll`
 * on the API's own origin only (reference §3.5).
 */
import pLimit from 'p-limit';
import { isNotFound, RegplanError } from '../errors.ts';
import { parseTime } from '../model/time.ts';
import { createRegistryApiDriver } from './default.ts';
import { hostWithoutPort } from './detect.ts';
import type { Capabilities, CleanupRefuser, DetailedLister, Driver, DriverContext, DriverFactory, RepositoryLister, Untagger } from './driver.ts';
import { confirmGone, headerPageNext, NativeApi, SingleFlight, tagSegment } from './native-api.ts';
import { namespaceNotFound, namespaceRequired, namesWithPrefix, prefixNamespace } from './repository-prefix.ts';
import type { TagRecord } from '../model/inventory.ts';
import type { InstalledPolicyReader } from '../export/installed.ts';

const TOKEN_FLAG = '--repo-gitlab-token';
const TOKEN_ENV = 'REGPLAN_REPO_GITLAB_TOKEN';
/** GitLab CI's predefined variables: the job token, and the marker that a job runs in GitLab CI. */
const JOB_TOKEN_ENV = 'CI_JOB_TOKEN';
const GITLAB_CI_ENV = 'GITLAB_CI';
/** The API of gitlab.com, which serves `registry.gitlab.com`. */
const GITLAB_COM_API = 'https://gitlab.com/api/v4';
const PER_PAGE = 100;
/** Tag detail requests in flight per listing (the list endpoint has no digests: one request per tag). */
const DETAIL_CONCURRENCY = 8;

const TOKEN_ADVICE =
  `pass a personal, group or project access token with the api scope and a role that may delete container images ` +
  `as ${TOKEN_FLAG} / ${TOKEN_ENV} (or registries.<host>.credentials.token); in GitLab CI without one, the job's ` +
  `CI_JOB_TOKEN is used (it reaches only the job's own project)`;
const JOB_TOKEN_ADVICE =
  `GitLab refused CI_JOB_TOKEN (sent as JOB-TOKEN): a job token reaches only the container registry of the job's own ` +
  `project, with the role of the user who started the pipeline. Either pass a project or group access token with the api ` +
  `scope as ${TOKEN_FLAG} / ${TOKEN_ENV}, or allow this job's project in the target project's job token allowlist ` +
  `(Settings > CI/CD > Job token permissions; the job token scope, GitLab 13.12+)`;

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath:
    'GitLab Container Registry API: tags from /api/v4/projects/<id>/registry/repositories/<rid>/tags, digest and created_at ' +
    'from .../tags/<tag>, DELETE .../tags/<tag> (untag; GitLab drops a manifest once no tag is left)',
  untag: true,
  untagLastDeletesManifest: true,
  listUntagged: false,
  repositoryListing: 'GitLab API: GET /groups/<path>/registry/repositories, else /projects/<path>/registry/repositories (a group or project is required)',
  nativeCredentials: [
    { description: 'GitLab access token with api scope', flag: TOKEN_FLAG, env: TOKEN_ENV, configKey: 'token' },
    {
      description: 'GitLab CI job token, used when no GitLab token is set (JOB-TOKEN; the job\'s own project only)',
      flag: '',
      env: JOB_TOKEN_ENV,
      source: 'ci',
      chainEnv: [GITLAB_CI_ENV],
      optional: true,
    },
  ],
  notes:
    'API base: https://gitlab.com/api/v4 for gitlab.com and registry.gitlab.com, else registries.<host>.api (in GitLab CI: ' +
    '$CI_API_V4_URL); in GitLab CI without a GitLab token, CI_JOB_TOKEN (GitLab 13.12+) cleans the job\'s own project; ' +
    'protected tags answer 403; one API request per tag for digests and times',
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
      const credential = await gitlabCredential(context);
      const native = new NativeApi({
        base: apiBase,
        title: 'GitLab API',
        headers: { [credential.header]: credential.value },
        authHint:
          credential.header === 'job-token'
            ? JOB_TOKEN_ADVICE
            : `GitLab refused the token: ${TOKEN_ADVICE}; a 403 on a delete can also mean a protected container tag rule covers the tag`,
        insecure: context.registry?.insecure ?? false,
        ...(context.debug === undefined ? {} : { debug: context.debug }),
      });
      native.addSecret(credential.value);
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
  const tagPath = (at: RegistryLocation, tag: string) => `${tagsPath(at)}/${tagSegment(tag, `GitLab API call for repository ${at.repositoryId}`)}`;

  const details = async (at: RegistryLocation, tag: string): Promise<TagJson | undefined> => {
    try {
      return (await (await client()).get<TagJson>(tagPath(at, tag))).data;
    } catch (error) {
      if (isNotFound(error)) return undefined; // deleted since the list was read
      throw error;
    }
  };
  /** Deletes one tag; a 404 counts as done only when a fresh lookup of that tag finds nothing (design §6). */
  const deleteTag = async (name: string, at: RegistryLocation, tag: string): Promise<void> => {
    const subject = `${context.host}/${name}:${tag}`;
    try {
      await (await client()).request('DELETE', tagPath(at, tag), { subject });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await confirmGone({
        stillThere: async () => (await details(at, tag)) !== undefined,
        refused: () =>
          new RegplanError(`GitLab API answered 404 to DELETE "${subject}", yet the tag is still there`, {
            hint: `check that the token may delete in this project; ${TOKEN_ADVICE}`,
            context: { registry: context.host, repo: `${context.host}/${name}`, ref: tag, status: 404 },
          }),
      });
    }
  };

  /** Deletes, one after another, each listed tag that still points at `digest` (a tag moved since is left alone). */
  const deleteTagsStillOn = async (name: string, at: RegistryLocation, digest: string, [tag, ...rest]: readonly string[]): Promise<void> => {
    if (tag === undefined) return;
    if ((await details(at, tag))?.digest === digest) await deleteTag(name, at, tag);
    await deleteTagsStillOn(name, at, digest, rest);
  };

  const manifestDeletes = new SingleFlight<void>();
  const deleteEveryTagOn = async (name: string, digest: string): Promise<void> => {
    const at = await locate(name);
    if (at === undefined) return;
    const listing = lastListing.get(name) ?? (await driver.listTagRecords(name));
    await deleteTagsStillOn(name, at, digest, listing.filter((r) => r.digest === digest).map((r) => r.tag));
  };

  /** The registry repositories under a prefix's namespace: as a group's, else (on 404) as a project's (file header). */
  const listRepositories = async (prefix: string): Promise<string[]> => {
    const namespace = prefixNamespace(prefix);
    if (namespace === '') throw namespaceRequired(context.host, 'group or project', `${context.host}/acme/**`);
    const api = await client();
    const tried: string[] = [];
    for (const kind of ['groups', 'projects'] as const) {
      const path = `${kind}/${encodeURIComponent(namespace)}/registry/repositories`;
      try {
        const repositories = await listAll<RepositoryJson>(api, path, `${context.host}/${namespace}/`);
        return namesWithPrefix(repositories.map((r) => r.path).filter((p): p is string => typeof p === 'string'), prefix);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        tried.push(api.url(path).href);
      }
    }
    throw namespaceNotFound({
      host: context.host, namespace, what: 'GitLab group or project', tried, apiHost: api.base.host,
      hint: `check the path in the pattern; GitLab also answers 404 for private groups and projects the token cannot read, so ${TOKEN_ADVICE}`,
    });
  };

  const driver: Driver & DetailedLister & Untagger & RepositoryLister & InstalledPolicyReader = {
    ...base,
    capabilities,
    /**
     * The project's cleanup policy (`GET /projects/:id` -> container_expiration_policy), for `regplan drift`;
     * undefined when it is disabled or the repository has no project yet. `name_regex` is the older name of
     * name_regex_delete.
     */
    async readInstalledPolicy(name) {
      const at = await locate(name);
      if (at === undefined) return undefined;
      const project = (await (await client()).get<{ container_expiration_policy?: Record<string, unknown> | null }>(`projects/${at.project}`)).data;
      const p = project.container_expiration_policy;
      if (p === null || p === undefined || p['enabled'] !== true) return undefined;
      const text = (key: string) => (typeof p[key] === 'string' && p[key] !== '' ? (p[key] as string) : undefined);
      const deleteRegex = text('name_regex_delete') ?? text('name_regex');
      const keepRegex = text('name_regex_keep');
      const attributes = {
        enabled: true,
        cadence: text('cadence') ?? '1d',
        ...(typeof p['keep_n'] === 'number' ? { keep_n: p['keep_n'] } : {}),
        ...(text('older_than') === undefined ? {} : { older_than: text('older_than') }),
        ...(deleteRegex === undefined ? {} : { name_regex_delete: deleteRegex }),
        ...(keepRegex === undefined ? {} : { name_regex_keep: keepRegex }),
      };
      return { format: 'gitlab-cleanup-policy', document: { container_expiration_policy_attributes: attributes }, source: 'GET /projects/:id (container_expiration_policy)' };
    },
    async listTagRecords(name) {
      const at = await locate(name);
      if (at === undefined) return [];
      const entries = await listAll<TagJson>(await client(), tagsPath(at), `${context.host}/${name}`);
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
    deleteManifest: (name, digest) => manifestDeletes.run(`${name}@${digest}`, () => deleteEveryTagOn(name, digest)),
    listRepositories,
  };
  return driver;
}

/**
 * The credential the GitLab API gets: an access token (flag, env or config) as PRIVATE-TOKEN; else, inside GitLab CI,
 * the job token as JOB-TOKEN (a job token must never go as PRIVATE-TOKEN, reference §5); else an error saying both.
 */
async function gitlabCredential(context: DriverContext): Promise<{ header: 'private-token' | 'job-token'; value: string }> {
  const token = await context.nativeSecret(TOKEN_ENV);
  if (token !== undefined && token !== '') return { header: 'private-token', value: token };
  if ((await context.nativeSecret(GITLAB_CI_ENV)) === 'true') {
    const job = await context.nativeSecret(JOB_TOKEN_ENV);
    if (job !== undefined && job !== '') return { header: 'job-token', value: job };
  }
  throw new RegplanError(`cannot list or delete tags on "${context.host}" through the GitLab API: no GitLab token is set`, {
    hint: TOKEN_ADVICE,
    context: { registry: context.host, flag: TOKEN_FLAG },
  });
}

function toRecord(tag: TagJson): TagRecord | undefined {
  if (typeof tag.digest !== 'string' || tag.digest === '') return undefined;
  const pushedAt = parseTime(tag.created_at);
  return {
    tag: tag.name,
    digest: tag.digest,
    ...(typeof tag.media_type === 'string' && tag.media_type !== '' ? { mediaType: tag.media_type } : {}),
    ...(pushedAt === undefined ? {} : { pushedAt }),
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
  const projectPaths = segments.slice(1).map((_, i) => segments.slice(0, segments.length - i).join('/'));
  const tried: string[] = [];
  let projectFound = false;
  const attempt = async ([projectPath, ...shorter]: readonly string[]): Promise<RegistryLocation | undefined> => {
    if (projectPath === undefined) return undefined;
    const project = encodeURIComponent(projectPath);
    let repositories: RepositoryJson[];
    try {
      repositories = await listAll<RepositoryJson>(api, `projects/${project}/registry/repositories`, `${host}/${name}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      tried.push(projectPath);
      return attempt(shorter);
    }
    projectFound = true;
    const wanted = name.toLowerCase();
    const match = repositories.find((r) => (r.path ?? [projectPath, r.name].filter(Boolean).join('/')).toLowerCase() === wanted);
    return match === undefined ? attempt(shorter) : { project, repositoryId: match.id };
  };
  const found = await attempt(projectPaths);
  if (found !== undefined || projectFound) return found;
  throw new RegplanError(`no GitLab project holds "${host}/${name}": ${api.title} at ${api.base.href} answered 404 for ${tried.map((t) => `"${t}"`).join(', ')}`, {
    hint: `check the repo path; GitLab also answers 404 for private projects the token cannot read, so ${TOKEN_ADVICE}`,
    context: { registry: host, repo: name, status: 404 },
  });
}

/** Every item of a paged GitLab list: `Link rel="next"` (keyset) or `X-Next-Page` (offset), on the API's origin only. */
const listAll = <T>(api: NativeApi, path: string, subject: string): Promise<T[]> =>
  api.listAll<T[], T>(path, { items: (page) => page, next: headerPageNext('x-next-page'), subject, query: { per_page: PER_PAGE } });

/** The GitLab registry type. */
export const gitlabDriver = {
  type: 'gitlab',
  title: 'GitLab Registry',
  status: 'ready',
  capabilities,
  create: createGitlabDriver,
} satisfies DriverFactory;
