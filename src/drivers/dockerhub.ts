/**
 * Docker Hub (`docker.io`, `index.docker.io`, `registry-1.docker.io`, host-less names). Its Registry API refuses
 * to delete a tagged manifest (403) and cannot untag (405), so cleanup goes through the Hub API (reference §3.3,
 * werf §2.3): tags with digests and push times from `GET /v2/namespaces/<ns>/repositories/<repo>/tags` (paged by
 * its absolute `next` URL), and `DELETE /v2/repositories/<ns>/<repo>/tags/<tag>/`, which removes that tag alone.
 * Deleting a manifest removes every tag on it through the Hub API, then the now untagged manifest through the
 * Registry API where the Docker login may. Reads and bundle pushes use the Registry API.
 *
 * Hub credentials: `REGPLAN_REPO_DOCKER_HUB_TOKEN` (a Hub JWT, sent as a Bearer token), else
 * `REGPLAN_REPO_DOCKER_HUB_USERNAME` + `REGPLAN_REPO_DOCKER_HUB_PASSWORD`, exchanged at `POST /v2/auth/token`
 * (falling back to the legacy `POST /v2/users/login` where the current endpoint is missing). Personal access
 * tokens can list but not delete. The Hub API base is `registries.<host>.api`, else https://hub.docker.com for
 * Docker Hub's hosts, else the registry host itself.
 */
import { AuthError, isNotFound, isRegistryError, RegistryError, RegplanError } from '../errors.ts';
import { DOCKER_HUB_HOST, isLoopbackHost } from '../registry/reference.ts';
import { createRegistryApiDriver } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, TagRecord, Untagger } from './driver.ts';
import { NativeApi } from './native-api.ts';

/** The Hub API base for Docker Hub's own hosts. */
export const HUB_API_BASE = 'https://hub.docker.com';
const HUB_HOSTS = new Set([DOCKER_HUB_HOST, 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const TOKEN_ENV = 'REGPLAN_REPO_DOCKER_HUB_TOKEN';
const USERNAME_ENV = 'REGPLAN_REPO_DOCKER_HUB_USERNAME';
const PASSWORD_ENV = 'REGPLAN_REPO_DOCKER_HUB_PASSWORD';
const PAGE_SIZE = 100;
const MAX_PAGES = 10_000;
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
  last_updated?: string | null;
}

/** One page of the Hub tag listing. */
interface HubTagPage {
  next?: string | null;
  results?: HubTag[];
}

/** Where the Hub API lives for a registry host: `registries.<host>.api`, Hub's own base, or the host itself. */
export function hubApiBase(context: Pick<DriverContext, 'host' | 'registry'>): string {
  if (context.registry?.api !== undefined) return context.registry.api;
  if (HUB_HOSTS.has(context.host)) return HUB_API_BASE;
  return `${context.registry?.insecure === true || isLoopbackHost(context.host) ? 'http' : 'https'}://${context.host}`;
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
export function createDockerHubDriver(context: DriverContext): Driver & Untagger & DetailedLister & ManifestReader & ContentPusher {
  const registry = createRegistryApiDriver(context, { type: 'dockerhub', capabilities });
  const base = hubApiBase(context);
  const common = {
    base,
    title: 'Docker Hub API',
    insecure: context.registry?.insecure ?? false,
    ...(context.debug === undefined ? {} : { debug: context.debug }),
  };
  const login = new NativeApi({ ...common, authHint: CREDENTIALS_HINT });
  const api = new NativeApi({ ...common, authHint: CREDENTIALS_HINT, authorization: () => hubAuthorization(context, login, api) });
  const subject = (name: string, tag?: string) => `${context.host}/${name}${tag === undefined ? '' : `:${tag}`}`;

  const listTagRecords = async (name: string): Promise<TagRecord[]> => {
    const { namespace, repository } = hubRepository(context.host, name);
    const records = new Map<string, TagRecord>();
    const unresolved: string[] = [];
    let url: URL | undefined = api.url(`v2/namespaces/${namespace}/repositories/${repository}/tags`, { page_size: PAGE_SIZE });
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_PAGES) throw new RegistryError(`Docker Hub API kept paging the tags of "${subject(name)}" past ${MAX_PAGES} pages`, { status: 200, registry: api.base.host, hint: 'report this; the Hub API looped' });
      let data: HubTagPage;
      try {
        data = (await api.get<HubTagPage>(url)).data ?? {};
      } catch (error) {
        if (page === 0 && isNotFound(error)) return []; // no such repository: nothing to clean
        throw error;
      }
      for (const tag of data.results ?? []) {
        if (typeof tag.name !== 'string' || tag.name === '') continue;
        const pushedAt = isoTime(tag.tag_last_pushed) ?? isoTime(tag.last_updated);
        if (typeof tag.digest !== 'string' || tag.digest === '') {
          unresolved.push(tag.name);
          continue;
        }
        records.set(tag.name, {
          tag: tag.name,
          digest: tag.digest,
          ...(typeof tag.media_type === 'string' && tag.media_type !== '' ? { mediaType: tag.media_type } : {}),
          ...(pushedAt === undefined ? {} : { pushedAt }),
        });
      }
      url = nextPage(data.next, url, api.base);
    }
    // Older answers carry only per-platform `images[]`, whose digests are not the tag's (an index has its own): ask the registry.
    for (const tag of unresolved) {
      const descriptor = await registry.resolveTag(name, tag);
      if (descriptor !== undefined) records.set(tag, { tag, digest: descriptor.digest, mediaType: descriptor.mediaType });
    }
    return [...records.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  };

  const untag = async (name: string, tag: string): Promise<void> => {
    const { namespace, repository } = hubRepository(context.host, name);
    // 404: already gone, which counts as done (design §6). The trailing slash is part of the endpoint.
    await api.request('DELETE', `v2/repositories/${namespace}/${repository}/tags/${encodeURIComponent(tag)}/`, { expect: [200, 202, 204, 404], subject: subject(name, tag) });
  };

  return {
    ...registry,
    type: 'dockerhub',
    capabilities,
    listTagRecords,
    untag,
    async deleteManifest(name, digest) {
      hubRepository(context.host, name);
      for (const record of await listTagRecords(name)) if (record.digest === digest) await untag(name, record.tag);
      try {
        await registry.deleteManifest(name, digest); // untagged now, so Hub's Registry API may delete it
      } catch (error) {
        if (!isRegistryError(error) || ![401, 403, 405].includes(error.status)) throw error;
        context.debug?.(`dockerhub: tags of ${digest} in ${subject(name)} removed; the Registry API refused deleting the untagged manifest (HTTP ${error.status}), Hub keeps it`);
      }
    },
  };
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
    throw new RegistryError(`Docker Hub login as "${username}" answered without a token`, { status: answer.status, registry: login.base.host, hint: `set ${TOKEN_ENV} instead` });
  }
  return `Bearer ${jwt}`;
}

/** The next page's URL, refusing one on another origin (it would receive the token). */
function nextPage(next: string | null | undefined, current: URL, base: URL): URL | undefined {
  if (typeof next !== 'string' || next === '') return undefined;
  const url = new URL(next, current);
  if (url.origin !== base.origin) {
    throw new RegistryError(`Docker Hub API pointed the next page of tags at another host (${url.origin})`, { status: 200, registry: base.host, hint: 'check registries.<host>.api' });
  }
  return url.href === current.href ? undefined : url;
}

/** An ISO time from a Hub timestamp (RFC 3339 with microseconds), or undefined for null or nonsense. */
function isoTime(value: string | null | undefined): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) || time <= 0 ? undefined : new Date(time).toISOString();
}

/** The Docker Hub registry type. */
export const dockerHubDriver = {
  type: 'dockerhub',
  title: 'Docker Hub',
  status: 'ready',
  capabilities,
  create: (context) => createDockerHubDriver(context),
} satisfies DriverFactory;
