/**
 * Docker Hub (`docker.io`, `index.docker.io`, `registry-1.docker.io`, host-less names). Its Registry API refuses
 * to delete a tagged manifest (403) and cannot untag (405), so cleanup goes through the Hub API (reference §3.3,
 * werf §2.3): tags with digests and push times from `GET /v2/namespaces/<ns>/repositories/<repo>/tags` (paged by
 * its absolute `next` URL), and `DELETE /v2/repositories/<ns>/<repo>/tags/<tag>/`, which removes that tag alone.
 * Deleting a manifest removes the tags the last listing showed on it through the Hub API (never a listing per
 * delete: the Hub pages by offset, so pages shift while deletes run; reference §5), then the now untagged manifest
 * through the Registry API where the Docker login may. A 404 on a tag DELETE counts as done only when a lookup of
 * that one tag finds nothing. Reads and bundle pushes use the Registry API.
 *
 * Hub credentials: `REGPLAN_REPO_DOCKER_HUB_TOKEN` (a Hub JWT, sent as a Bearer token), else
 * `REGPLAN_REPO_DOCKER_HUB_USERNAME` + `REGPLAN_REPO_DOCKER_HUB_PASSWORD`, exchanged at `POST /v2/auth/token`
 * (falling back to the legacy `POST /v2/users/login` where the current endpoint is missing). Personal access
 * tokens can list but not delete. The Hub API base is `registries.<host>.api`, else https://hub.docker.com for
 * Docker Hub's hosts, else the registry host itself.
 * Discovery (`listRepositories`): `GET /v2/namespaces/<ns>/repositories` of the prefix's namespace, paged by its
 * absolute `next` URL (same origin only), names `<ns>/<name>`; a 404 on the first page is an unknown namespace. The Hub
 * lists only what the credentials may see: an organization access token without `scope-repository-list` silently gets
 * public repositories only (https://docs.docker.com/reference/api/hub/latest/operations/listNamespaceRepositories/).
 */
import pLimit from 'p-limit';
import { AuthError, isNotFound, isRegistryError, ProtocolError, RegplanError } from '../errors.ts';
import { parseTime } from '../model/time.ts';
import { DOCKER_HUB_HOST } from '../registry/reference.ts';
import { createRegistryApiDriver } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, RepositoryLister, Untagger } from './driver.ts';
import { bodyNext, confirmGone, NativeApi, nativeApiBase, SingleFlight, tagSegment } from './native-api.ts';
import { namespaceNotFound, namespaceRequired, namesWithPrefix, prefixOwner } from './repository-prefix.ts';
import type { TagRecord } from '../model/inventory.ts';

/** The Hub API base for Docker Hub's own hosts. */
export const HUB_API_BASE = 'https://hub.docker.com';
const HUB_HOSTS = new Set([DOCKER_HUB_HOST, 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const TOKEN_ENV = 'REGPLAN_REPO_DOCKER_HUB_TOKEN';
const USERNAME_ENV = 'REGPLAN_REPO_DOCKER_HUB_USERNAME';
const PASSWORD_ENV = 'REGPLAN_REPO_DOCKER_HUB_PASSWORD';
/** The Hub's largest page (reference §3.3). */
const PAGE_SIZE = 100;
/** Registry API lookups in flight for tags the Hub lists without a digest. */
const RESOLVE_CONCURRENCY = 4;
const CREDENTIALS_HINT =
  `set ${USERNAME_ENV} and ${PASSWORD_ENV} (--repo-docker-hub-username/--repo-docker-hub-password) to an account that may ` +
  `delete in the namespace, or ${TOKEN_ENV} (--repo-docker-hub-token) to a Hub JWT; personal access tokens cannot delete tags`;

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'Hub API: tags with digests and push times from /v2/namespaces/<ns>/repositories/<repo>/tags, DELETE /v2/repositories/<ns>/<repo>/tags/<tag>/ (untag)',
  untag: true,
  listUntagged: false,
  repositoryListing: 'Hub API: GET /v2/namespaces/<ns>/repositories (a namespace is required)',
  pullTimes: true,
  nativeCredentials: [
    { description: 'Docker Hub API token (instead of username + password)', flag: '--repo-docker-hub-token', env: TOKEN_ENV, configKey: 'token' },
    { description: 'Docker Hub username (with the password)', flag: '--repo-docker-hub-username', env: USERNAME_ENV, configKey: 'username' },
    { description: 'Docker Hub password (personal access tokens cannot delete tags)', flag: '--repo-docker-hub-password', env: PASSWORD_ENV, configKey: 'password' },
  ],
  notes:
    'Registry API DELETE answers 403 for a manifest that still has tags; personal access tokens cannot delete tags; ' +
    'library/ (official images) cannot be cleaned; untagged manifests are not listed (the untagged manifest of a deleted ' +
    'tag is removed through the Registry API when the Docker login may, else Hub keeps it); ' +
    'the Hub API is rate limited (X-RateLimit-* headers, 429 with Retry-After)',
};

/** One tag as the Hub API lists it (only the fields regplan reads). */
interface HubTag {
  name?: string;
  digest?: string;
  media_type?: string | null;
  tag_last_pushed?: string | null;
  tag_last_pulled?: string | null;
  last_updated?: string | null;
}

/** One page of the Hub tag listing. */
interface HubTagPage {
  next?: string | null;
  results?: HubTag[];
}

/** Where the Hub API lives for a registry host: `registries.<host>.api`, Hub's own base, or the host itself. */
export function hubApiBase(context: Pick<DriverContext, 'host' | 'registry'>): string {
  return nativeApiBase({
    host: context.host,
    configured: context.registry?.api,
    insecure: context.registry?.insecure,
    ...(HUB_HOSTS.has(context.host) ? { fallback: HUB_API_BASE } : {}),
  });
}

/** Splits a Hub repo path into namespace and name, refusing what Hub cannot clean (official `library/` images). */
export function hubRepository(host: string, name: string): { namespace: string; repository: string } {
  const parts = name.split('/');
  const [namespace, repository] = parts;
  if (parts.length !== 2 || namespace === undefined || repository === undefined) {
    throw new RegplanError(`cannot clean up "${host}/${name}": Docker Hub repositories are <namespace>/<name>, and "${name}" is not`, {
      hint: 'write the repo as docker.io/<namespace>/<name>, or set registries.<host>.type if this is not Docker Hub',
      context: { registry: host, repo: name },
    });
  }
  if (namespace === 'library') {
    throw new RegplanError(`cannot clean up "${host}/${name}": library/ holds Docker's official images, which only Docker maintains`, {
      hint: 'remove the cleanup policy from this repo; to clean your own copy, push it to your namespace (docker.io/<you>/<name>)',
      context: { registry: host, repo: name },
    });
  }
  return { namespace, repository };
}

/** Builds the Docker Hub driver for one host. */
export function createDockerHubDriver(context: DriverContext): Driver & Untagger & DetailedLister & ManifestReader & ContentPusher & RepositoryLister {
  const registry = createRegistryApiDriver(context, { type: 'dockerhub', capabilities });
  const base = hubApiBase(context);
  const common = {
    base,
    title: 'Docker Hub API',
    insecure: context.registry?.insecure ?? false,
    ...(context.debug === undefined ? {} : { debug: context.debug }),
  };
  const login = new NativeApi({ ...common, authHint: CREDENTIALS_HINT });
  const api: NativeApi = new NativeApi({ ...common, authHint: CREDENTIALS_HINT, authorization: (): Promise<string> => hubAuthorization(context, login, api) });
  const subject = (name: string, tag?: string) => `${context.host}/${name}${tag === undefined ? '' : `:${tag}`}`;

  /** Digest -> tags of each repo's last full listing: what deleteManifest untags, without listing again (§5). */
  const listed = new Map<string, Map<string, string[]>>();
  const listings = new SingleFlight<TagRecord[]>();
  const deletions = new SingleFlight<void>();

  const listTagRecords = async (name: string): Promise<TagRecord[]> => {
    const { namespace, repository } = hubRepository(context.host, name);
    const tags = await api.listAll<HubTagPage, HubTag>(`v2/namespaces/${namespace}/repositories/${repository}/tags`, {
      items: (page) => page.results,
      next: bodyNext<HubTagPage>('next'),
      subject: subject(name),
      query: { page_size: PAGE_SIZE },
      notFoundHint: `check that "${name}" exists on Docker Hub and that registries."${context.host}".api is the Hub API base (${HUB_API_BASE} for Docker Hub)`,
    });
    const records = new Map<string, TagRecord>();
    const unresolved: string[] = [];
    tags.forEach((tag) => {
      if (typeof tag.name !== 'string' || tag.name === '') return;
      if (typeof tag.digest !== 'string' || tag.digest === '') return void unresolved.push(tag.name);
      const pushedAt = parseTime(tag.tag_last_pushed) ?? parseTime(tag.last_updated);
      // tag_last_pulled: null = never pulled; a missing field (older answers) = unknown
      const pulled = tag.tag_last_pulled === null ? 'never' : parseTime(tag.tag_last_pulled);
      records.set(tag.name, {
        tag: tag.name,
        digest: tag.digest,
        ...(typeof tag.media_type === 'string' && tag.media_type !== '' ? { mediaType: tag.media_type } : {}),
        ...(pushedAt === undefined ? {} : { pushedAt }),
        ...(pulled === undefined ? {} : { pulled }),
      });
    });
    // Older answers carry only per-platform `images[]`, whose digests are not the tag's (an index has its own): ask the registry.
    const limit = pLimit(RESOLVE_CONCURRENCY);
    const resolved = await Promise.all(unresolved.map((tag) => limit(async () => ({ tag, descriptor: await registry.resolveTag(name, tag) }))));
    resolved.forEach(({ tag, descriptor }) => {
      if (descriptor !== undefined) records.set(tag, { tag, digest: descriptor.digest, mediaType: descriptor.mediaType });
    });
    const sorted = [...records.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    listed.set(name, tagsByDigest(sorted));
    return sorted;
  };

  /** The repo's digest -> tags from its last listing, or from one listing now (shared by concurrent deletes). */
  const knownTags = async (name: string): Promise<Map<string, string[]>> => {
    const known = listed.get(name);
    if (known !== undefined) return known;
    try {
      return tagsByDigest(await listings.run(name, () => listTagRecords(name)));
    } catch (error) {
      // A listing that fails is no reason to call the tag gone (apply has just found it through the Registry API).
      if (!isNotFound(error)) throw error;
      throw new RegplanError(`cannot delete in "${subject(name)}": the Hub API could not list its tags`, {
        cause: error,
        ...(error instanceof RegplanError && error.hint !== undefined ? { hint: error.hint } : {}),
        context: { registry: context.host, repo: name },
      });
    }
  };

  /**
   * Removes one tag through the Hub API. The Hub answers 404 for a tag it does not have — and, like other
   * vendors, possibly where the account may not see it — so a 404 is "already gone" only when a lookup of that
   * one tag (`GET /v2/namespaces/<ns>/repositories/<repo>/tags/<tag>`, reference §3.3) finds nothing.
   */
  const untag = async (name: string, tag: string): Promise<void> => {
    const { namespace, repository } = hubRepository(context.host, name);
    const ref = subject(name, tag);
    const segment = tagSegment(tag, `Hub API call for "${ref}"`);
    // The trailing slash is part of the endpoint.
    const answer = await api.request('DELETE', `v2/repositories/${namespace}/${repository}/tags/${segment}/`, { expect: [200, 202, 204, 404], subject: ref });
    if (answer.status !== 404) return;
    await confirmGone({
      stillThere: async () => (await api.request('GET', `v2/namespaces/${namespace}/repositories/${repository}/tags/${segment}`, { expect: [200, 404], subject: ref })).status === 200,
      refused: () =>
        new RegplanError(`Docker Hub API answered 404 to DELETE "${ref}", yet the tag is still there`, {
          hint: `the Hub did not remove it; ${CREDENTIALS_HINT}`,
          context: { registry: context.host, repo: name, ref: tag },
        }),
    });
  };

  /** The repositories of the prefix's namespace (file header). */
  const listRepositories = async (prefix: string): Promise<string[]> => {
    const namespace = prefixOwner(prefix);
    if (namespace === '') throw namespaceRequired(context.host, 'namespace (user or organization)', `${context.host}/acme/*`);
    const path = `v2/namespaces/${encodeURIComponent(namespace)}/repositories`;
    let repositories: { name?: unknown }[];
    try {
      repositories = await api.listAll<{ next?: string | null; results?: { name?: unknown }[] }, { name?: unknown }>(path, {
        items: (page) => page.results,
        next: bodyNext('next'),
        subject: `${context.host}/${namespace}/`,
        query: { page_size: PAGE_SIZE, ordering: 'name' },
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw namespaceNotFound({
        host: context.host, namespace, what: 'Docker Hub namespace', tried: [api.url(path, { page_size: PAGE_SIZE, ordering: 'name' }).href], apiHost: api.base.host,
        hint: `check the namespace in the pattern; registries."${context.host}".api must be the Hub API base (${HUB_API_BASE} for Docker Hub)`,
      });
    }
    return namesWithPrefix(repositories.map((r) => r.name).filter((n): n is string => typeof n === 'string').map((n) => `${namespace}/${n}`), prefix);
  };

  return {
    ...registry,
    type: 'dockerhub',
    capabilities,
    listTagRecords,
    listRepositories,
    untag,
    /**
     * Untags the tags the last listing showed on `digest` (no listing per delete: offset pages shift while
     * deletes run), then deletes the now untagged manifest through the Registry API where the Docker login may.
     */
    async deleteManifest(name, digest) {
      hubRepository(context.host, name);
      await deletions.run(`${name}@${digest}`, async () => {
        const tags = (await knownTags(name)).get(digest) ?? [];
        await Promise.all(tags.map((tag) => untag(name, tag)));
        try {
          await registry.deleteManifest(name, digest); // untagged now, so Hub's Registry API may delete it
        } catch (error) {
          if (!isRegistryError(error) || ![401, 403, 405].includes(error.status)) throw error;
          if (tags.length === 0) {
            // Nothing was untagged, so a 403 may well mean a tag regplan never saw still holds the manifest.
            throw new RegplanError(`cannot delete ${digest} in "${subject(name)}": the Hub's listing showed no tag on it and the Registry API refused (HTTP ${error.status})`, {
              cause: error,
              hint: 'a tag pushed since the listing may hold it; run plan again',
              context: { registry: context.host, repo: name, ref: digest },
            });
          }
          context.debug?.(`dockerhub: tags of ${digest} in ${subject(name)} removed; the Registry API refused deleting the untagged manifest (HTTP ${error.status}), Hub keeps it`);
        }
      });
    },
  };
}

/** Digest -> its tags, from tag records. */
function tagsByDigest(records: readonly TagRecord[]): Map<string, string[]> {
  const byDigest = new Map<string, string[]>();
  records.forEach((record) => byDigest.set(record.digest, [...(byDigest.get(record.digest) ?? []), record.tag]));
  return byDigest;
}

/** The `Authorization` for Hub API calls: the given token, or a login with username + password. */
async function hubAuthorization(context: DriverContext, login: NativeApi, api: NativeApi): Promise<string> {
  const token = await context.nativeSecret(TOKEN_ENV);
  if (token) return `Bearer ${token}`;
  const username = await context.nativeSecret(USERNAME_ENV);
  const password = await context.nativeSecret(PASSWORD_ENV);
  login.addSecret(password);
  api.addSecret(password);
  if (!username || !password) {
    const missing = !username && !password ? `${TOKEN_ENV}, or ${USERNAME_ENV} with ${PASSWORD_ENV}` : !username ? USERNAME_ENV : PASSWORD_ENV;
    throw new RegplanError(`cannot clean up Docker Hub repos on "${context.host}": the Hub API needs credentials and ${missing} is not set`, {
      hint: `${CREDENTIALS_HINT} (or reference them in registries.<host>.credentials as { env: NAME })`,
      context: { registry: context.host },
    });
  }
  const refused = [401, 404, 405, 410];
  let answer = await login.request<Record<string, unknown>>('POST', 'v2/auth/token', { body: { identifier: username, secret: password }, expect: [200, ...refused] });
  if (answer.status !== 200 && answer.status !== 401) {
    answer = await login.request<Record<string, unknown>>('POST', 'v2/users/login', { body: { username, password }, expect: [200, 401] });
  }
  const data = answer.data ?? {};
  if (answer.status === 401) {
    const twoFactor = typeof data['login_2fa_token'] === 'string';
    const detail = typeof data['detail'] === 'string' ? ` ${JSON.stringify(data['detail'])}` : '';
    throw new AuthError(`Docker Hub login as "${username}" was refused: HTTP 401${detail}`, {
      status: 401,
      registry: login.base.host,
      hint: twoFactor
        ? `the account uses two-factor authentication, so a password login cannot finish here: set ${TOKEN_ENV} to a Hub JWT of the account (personal access tokens cannot delete tags)`
        : `check ${USERNAME_ENV} and ${PASSWORD_ENV}; ${CREDENTIALS_HINT}`,
    });
  }
  const jwt = data['access_token'] ?? data['token'];
  if (typeof jwt !== 'string' || jwt === '') {
    throw new ProtocolError(`Docker Hub login as "${username}" answered without a token`, { code: 'UNEXPECTED_ANSWER', registry: login.base.host, hint: `set ${TOKEN_ENV} instead` });
  }
  return `Bearer ${jwt}`;
}

/** The Docker Hub registry type. */
export const dockerHubDriver = {
  type: 'dockerhub',
  title: 'Docker Hub',
  status: 'ready',
  capabilities,
  create: (context) => createDockerHubDriver(context),
} satisfies DriverFactory;
