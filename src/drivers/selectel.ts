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
 * overrides it); the CRaaS API base is `registries.<host>.api`, else `https://<host>/api/v1`.
 * Quirk: DELETE answers 409 while the registry's garbage collection runs; regplan waits and retries (bounded),
 * then fails that action with a clear error (a re-run of the same plan finishes it).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CredentialsError, RegistryError, RegplanError } from '../errors.ts';
import type { RetryOptions } from '../registry/http.ts';
import { createRegistryApiDriver } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, TagRecord, UntaggedLister } from './driver.ts';
import { NativeApi } from './native-api.ts';

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
  ],
  notes:
    'DELETE answers 409 while the registry\'s garbage collection runs (regplan retries, then fails the action: re-run apply later); ' +
    'an empty list may come as 204 No Content; Keystone endpoint overridable with REGPLAN_REPO_SELECTEL_IDENTITY_URL',
};

/** Waiting out a running garbage collection: attempts per DELETE and the backoff between them. */
export interface GcRetryOptions {
  /** Total attempts per DELETE, the first included (default 6). */
  attempts?: number;
  /** First wait, doubled per attempt (default 2 s). */
  baseDelayMs?: number;
  /** Cap on one wait, also on a Retry-After the API sends (default 30 s). */
  maxDelayMs?: number;
}

/** Tuning for tests: retries of the HTTP transport and of 409 answers. */
export interface SelectelDriverOptions {
  retry?: RetryOptions;
  gcRetry?: GcRetryOptions;
}

interface CraasImage {
  digest: string;
  createdAt?: string;
  tags?: string[] | null;
}

/** Builds the CRaaS driver for one host (the factory's create, with tuning for tests). */
export function createSelectelDriver(context: DriverContext, options: SelectelDriverOptions = {}): Driver & DetailedLister & UntaggedLister & ManifestReader & ContentPusher {
  const base = createRegistryApiDriver(context, { type: 'selectel', capabilities });
  const common = {
    insecure: context.registry?.insecure ?? false,
    ...(context.debug === undefined ? {} : { debug: context.debug }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
  };
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
    const craas = new NativeApi({ ...common, base: context.registry?.api ?? `https://${context.host}/api/v1`, title: 'CRaaS API', headers: { 'x-auth-token': token }, authHint });
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

  /** Every image of a repo; a missing repo (404) or an empty answer (204) is none. */
  async function images(name: string): Promise<CraasImage[]> {
    const { craas, repoPath } = await locate(name);
    const answer = await craas.request<CraasImage[]>('GET', `${repoPath}/images`, { expect: [200, 204, 404], subject: `${context.host}/${name}` });
    return answer.status === 200 && Array.isArray(answer.data) ? answer.data.filter((i) => typeof i.digest === 'string') : [];
  }

  const gc = { attempts: Math.max(1, options.gcRetry?.attempts ?? 6), base: options.gcRetry?.baseDelayMs ?? 2000, max: options.gcRetry?.maxDelayMs ?? 30_000 };

  return {
    ...base,
    capabilities,
    async listTagRecords(name) {
      const records: TagRecord[] = [];
      for (const image of await images(name)) {
        const pushedAt = isoTime(image.createdAt);
        for (const tag of image.tags ?? []) records.push({ tag, digest: image.digest, ...(pushedAt === undefined ? {} : { pushedAt }) });
      }
      return records.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    },
    async listUntagged(name) {
      return (await images(name))
        .filter((image) => (image.tags ?? []).length === 0)
        .map((image) => {
          const pushedAt = isoTime(image.createdAt);
          return { digest: image.digest, ...(pushedAt === undefined ? {} : { pushedAt }) };
        });
    },
    async deleteManifest(name, digest) {
      const { craas, repoPath, registry } = await locate(name);
      const subject = `${context.host}/${name}@${digest}`;
      let waited = 0;
      for (let attempt = 1; ; attempt++) {
        const answer = await craas.request('DELETE', `${repoPath}/${digest}`, { expect: [200, 202, 204, 404, 409], subject });
        if (answer.status !== 409) return; // 404: already gone counts as done (design §6)
        if (attempt >= gc.attempts) {
          throw new RegistryError(`cannot delete "${subject}": the garbage collection of CRaaS registry "${registry}" is still running (HTTP 409 on ${attempt} attempts over ${Math.round(waited / 1000)} s)`, {
            status: 409,
            registry: context.host,
            repo: name,
            hint: 'wait until the garbage collection finishes (Selectel control panel: Container Registry) and run the same apply again; deletions already done count as done',
          });
        }
        const delay = Math.min(gc.max, retryAfterMs(answer.headers.get('retry-after')) ?? gc.base * 2 ** (attempt - 1));
        context.debug?.(`CRaaS: garbage collection running in "${registry}"; retrying DELETE ${digest} in ${delay} ms`);
        waited += delay;
        await sleep(delay);
      }
    },
  };
}

/** An RFC 3339 time with any number of fraction digits as ISO 8601 (milliseconds), or undefined. */
function isoTime(text: string | undefined): string | undefined {
  if (typeof text !== 'string') return undefined;
  const ms = Date.parse(text.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** `Retry-After` in delta-seconds as milliseconds; undefined when absent or not a number. */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}

/** The Selectel registry type. */
export const selectelDriver = {
  type: 'selectel',
  title: 'Selectel CRaaS',
  status: 'ready',
  capabilities,
  create: (context) => createSelectelDriver(context),
} satisfies DriverFactory;
