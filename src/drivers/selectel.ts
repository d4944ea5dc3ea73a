/**
 * Selectel CRaaS (`cr.selcloud.ru`, reference §3.12, craas-go v1). Reads and pushes go through the Registry API
 * (Docker login); cleanup goes through the CRaaS API, which lists every image of a repository with its digest,
 * tags and `createdAt` in one request (tagged and untagged alike) and deletes by digest (every tag on it goes:
 * CRaaS cannot untag). A repo `cr.selcloud.ru/<registry>/<path>` is repository `<path>` of CRaaS registry
 * `<registry>`, whose id regplan looks up by name.
 *
 * Auth: a Keystone (IAM) token for a service user, `POST <identity>/auth/tokens` with the password method
 * (user name in the account's domain), scoped to the project when REGPLAN_REPO_SELECTEL_PROJECT is set (name
 * or 32-hex id), else to the account; the token comes back in `X-Subject-Token` and is sent as `X-Auth-Token`.
 * The identity endpoint is `https://cloud.api.selcloud.ru/identity/v3` (REGPLAN_REPO_SELECTEL_IDENTITY_URL
 * overrides it); the CRaaS API base is `registries.<host>.api` (`/api/v1` added to a bare origin), else
 * `<host>/api/v1` by the native layer's rule (https; http only for loopback or `insecure: true`).
 * Quirks, as data: DELETE answers 409 while the registry's garbage collection runs, which the native layer
 * retries (`retryWhen`, bounded) before the action fails with a clear error (a re-run of the same plan finishes
 * it); images come in one answer, never paged (reference §3.12); an empty list may come as 204.
 */
import { CredentialsError, isRegistryError, RegistryError, RegplanError } from '../errors.ts';
import { parseTime } from '../model/time.ts';
import type { RetryOptions } from '../registry/http.ts';
import { createRegistryApiDriver } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, UntaggedLister } from './driver.ts';
import { confirmGone, NativeApi, nativeApiBase } from './native-api.ts';
import type { TagRecord } from '../model/inventory.ts';

/** Where Selectel issues Keystone tokens unless REGPLAN_REPO_SELECTEL_IDENTITY_URL says otherwise. */
export const SELECTEL_IDENTITY_URL = 'https://cloud.api.selcloud.ru/identity/v3';

const ENV = {
  account: 'REGPLAN_REPO_SELECTEL_ACCOUNT',
  username: 'REGPLAN_REPO_SELECTEL_USERNAME',
  password: 'REGPLAN_REPO_SELECTEL_PASSWORD',
  project: 'REGPLAN_REPO_SELECTEL_PROJECT',
  identity: 'REGPLAN_REPO_SELECTEL_IDENTITY_URL',
} as const;

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'CRaaS API: GET /api/v1/registries/<id>/repositories/<repo>/images (digests, tags, times), DELETE .../<repo>/<digest>',
  untag: false,
  listUntagged: true,
  nativeCredentials: [
    { description: 'Selectel account number', flag: '--repo-selectel-account', env: ENV.account },
    { description: 'Selectel service user name', flag: '--repo-selectel-username', env: ENV.username, configKey: 'username' },
    { description: 'Selectel service user password', flag: '--repo-selectel-password', env: ENV.password, configKey: 'password' },
    { description: 'Selectel project (name or id) holding the registry, for a project-scoped token (else account-scoped)', flag: '--repo-selectel-project', env: ENV.project, optional: true },
    { description: `Keystone identity endpoint (default ${SELECTEL_IDENTITY_URL})`, flag: '--repo-selectel-identity-url', env: ENV.identity, optional: true },
  ],
  notes:
    'DELETE answers 409 while the registry\'s garbage collection runs (regplan retries, then fails the action: re-run apply later); ' +
    'an empty list may come as 204 No Content',
};

/**
 * Waiting out a running garbage collection (a 409 on DELETE): 6 attempts, the first included, 10 s apart; one
 * wait never exceeds 30 s (also the cap of the transport's other retries on this API).
 */
const GC_RETRY = { attempts: 6, waitMs: 10_000, maxDelayMs: 30_000 } as const;

/** Tuning for tests: retries of the HTTP transport (409s included) and the wait between 409 retries. */
export interface SelectelDriverOptions {
  retry?: RetryOptions;
  gcWaitMs?: number;
}

interface CraasImage {
  digest: string;
  createdAt?: string;
  tags?: string[] | null;
}

/** Builds the CRaaS driver for one host (the factory's create, with tuning for tests). */
export function createSelectelDriver(context: DriverContext, options: SelectelDriverOptions = {}): Driver & DetailedLister & UntaggedLister & ManifestReader & ContentPusher {
  const base = createRegistryApiDriver(context, { type: 'selectel', capabilities });
  const retry: RetryOptions = { attempts: GC_RETRY.attempts, maxDelayMs: GC_RETRY.maxDelayMs, ...options.retry };
  const common = {
    insecure: context.registry?.insecure ?? false,
    ...(context.debug === undefined ? {} : { debug: context.debug }),
    retry,
  };
  const gcWaitMs = options.gcWaitMs ?? GC_RETRY.waitMs;
  const craasBase = nativeApiBase({ host: context.host, configured: context.registry?.api, insecure: context.registry?.insecure, path: '/api/v1' });
  const authHint = `the CRaaS API refused the token: the service user needs access to the registry's project; set ${ENV.project} to that project for a project-scoped token`;
  let api: Promise<NativeApi> | undefined;
  const registryIds = new Map<string, Promise<string>>();

  /** Logs in to Keystone once and builds the CRaaS client that sends the token. */
  async function login(subject: string): Promise<NativeApi> {
    const read = async (env: string) => (await context.nativeSecret(env))?.trim() || undefined;
    const [account, username, password, project, identityUrl] = await Promise.all([ENV.account, ENV.username, ENV.password, ENV.project, ENV.identity].map(read));
    const missing = [[ENV.account, account], [ENV.username, username], [ENV.password, password]].filter(([, value]) => value === undefined).map(([env]) => env);
    if (account === undefined || username === undefined || password === undefined) {
      throw new CredentialsError(`cannot clean up "${subject}" as type selectel: the CRaaS API needs a Selectel service user, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set`, {
        hint: `set ${ENV.account} (account number), ${ENV.username} and ${ENV.password} (a service user with access to the registry's project; ` +
          `flags --repo-selectel-account/-username/-password, or registries["${context.host}"].credentials.username/password), and ${ENV.project} for a project-scoped token`,
        context: { registry: context.host },
      });
    }
    const identity = new NativeApi({
      ...common,
      base: identityUrl ?? SELECTEL_IDENTITY_URL,
      title: 'Selectel identity API',
      authHint: `check ${ENV.account}, ${ENV.username} and ${ENV.password} (a service user of that account) and ${ENV.project} (a project the user belongs to)`,
    });
    identity.addSecret(password);
    const scope = project === undefined ? { domain: { name: account } } : /^[0-9a-f]{32}$/.test(project) ? { project: { id: project } } : { project: { name: project, domain: { name: account } } };
    const answer = await identity.request('POST', 'auth/tokens', {
      body: { auth: { identity: { methods: ['password'], password: { user: { name: username, domain: { name: account }, password } } }, scope } },
      expect: [200, 201],
    });
    const token = answer.headers.get('x-subject-token');
    if (token === null || token === '') {
      throw new RegplanError(`the Selectel identity API answered HTTP ${answer.status} without an X-Subject-Token header`, { hint: `check ${ENV.identity}: it must be a Keystone v3 endpoint`, context: { registry: context.host } });
    }
    const craas = new NativeApi({
      ...common,
      base: craasBase,
      title: 'CRaaS API',
      headers: { 'x-auth-token': token },
      authHint,
      retryWhen: (response) => (response.status === 409 ? gcWaitMs : undefined), // garbage collection running
    });
    craas.addSecret(token);
    craas.addSecret(password);
    return craas;
  }

  const client = (subject: string): Promise<NativeApi> => {
    api ??= login(subject).catch((error: unknown) => {
      api = undefined; // a failed login may be retried by the next call
      throw error;
    });
    return api;
  };

  /** The CRaaS registry id for the first path segment of `name`, and the repository path (URL-encoded) within it. */
  async function locate(name: string): Promise<{ craas: NativeApi; repoPath: string; registry: string }> {
    const subject = `${context.host}/${name}`;
    const slash = name.indexOf('/');
    if (slash <= 0) {
      throw new RegplanError(`cannot use "${subject}" with Selectel CRaaS: the address needs a registry and a repository (${context.host}/<registry>/<repository>)`, {
        hint: 'the first path segment of a CRaaS address is the registry name, the rest the repository',
        context: { registry: context.host, repo: name },
      });
    }
    const registry = name.slice(0, slash);
    const craas = await client(subject);
    let id = registryIds.get(registry);
    if (id === undefined) {
      id = craas.get<{ id: string; name: string }[]>('registries').then(({ data }) => {
        const found = (Array.isArray(data) ? data : []).find((r) => r.name === registry);
        if (found === undefined) {
          throw new RegplanError(`CRaaS has no registry named "${registry}" (from "${subject}") in the token's scope`, {
            hint: `check the address, and that ${ENV.project} names the project holding the registry`,
            context: { registry: context.host, repo: name },
          });
        }
        return found.id;
      });
      id.catch(() => registryIds.delete(registry));
      registryIds.set(registry, id);
    }
    return { craas, registry, repoPath: `registries/${encodeURIComponent(await id)}/repositories/${encodeURIComponent(name.slice(slash + 1))}` };
  }

  /**
   * Every image of a repo, from one answer (CRaaS does not page it); an empty answer (204) is none. A repository
   * CRaaS does not know (404) is an error naming the URL: the config names it, so "none" would hide a typo.
   */
  async function images(name: string): Promise<CraasImage[]> {
    const { craas, repoPath } = await locate(name);
    const all = await craas.listAll<CraasImage[], CraasImage>(`${repoPath}/images`, {
      items: (data) => (Array.isArray(data) ? data : undefined),
      next: () => undefined,
      subject: `${context.host}/${name}`,
      notFoundHint: `check the repository name: CRaaS registry "${name.slice(0, name.indexOf('/'))}" has no repository "${name.slice(name.indexOf('/') + 1)}"`,
    });
    return all.filter((i) => typeof i.digest === 'string');
  }

  return {
    ...base,
    capabilities,
    async listTagRecords(name) {
      const records: TagRecord[] = [];
      for (const image of await images(name)) {
        const pushedAt = parseTime(image.createdAt);
        for (const tag of image.tags ?? []) records.push({ tag, digest: image.digest, ...(pushedAt === undefined ? {} : { pushedAt }) });
      }
      return records.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    },
    async listUntagged(name) {
      return (await images(name))
        .filter((image) => (image.tags ?? []).length === 0)
        .map((image) => {
          const pushedAt = parseTime(image.createdAt);
          return { digest: image.digest, ...(pushedAt === undefined ? {} : { pushedAt }) };
        });
    },
    async deleteManifest(name, digest) {
      const { craas, repoPath, registry } = await locate(name);
      const subject = `${context.host}/${name}@${digest}`;
      const path = `${repoPath}/${digest}`;
      try {
        await craas.request('DELETE', path, { expect: [200, 202, 204], subject });
      } catch (error) {
        if (!isRegistryError(error)) throw error;
        if (error.status === 409) {
          throw new RegistryError(`cannot delete "${subject}": the garbage collection of CRaaS registry "${registry}" is still running (HTTP 409 on ${Math.max(1, retry.attempts ?? 1)} attempts)`, {
            status: 409,
            registry: context.host,
            repo: name,
            ref: digest,
            cause: error,
            hint: 'wait until the garbage collection finishes (Selectel control panel: Container Registry) and run the same apply again; deletions already done count as done',
          });
        }
        if (error.status !== 404) throw error;
        // 404 is "already gone" only when a fresh lookup of that one digest agrees.
        await confirmGone({
          stillThere: async () => (await craas.request('GET', path, { expect: [200, 404], subject })).status === 200,
          refused: () =>
            new RegistryError(`cannot delete "${subject}": CRaaS answered the DELETE with HTTP 404, but the image is still there`, {
              status: 404,
              registry: context.host,
              repo: name,
              ref: digest,
              cause: error,
              hint: `check that the service user may delete in CRaaS registry "${registry}" (its project role) and that registries.<host>.api points at the CRaaS API, then run the same apply again`,
            }),
        });
      }
    },
  };
}

/** The Selectel registry type. */
export const selectelDriver = {
  type: 'selectel',
  title: 'Selectel CRaaS',
  status: 'ready',
  capabilities,
  create: (context) => createSelectelDriver(context),
} satisfies DriverFactory;
