/**
 * Azure Container Registry (`*.azurecr.io`) through its own API on the login server, with no `az` CLI: tags with
 * digests and push times from `GET /acr/v1/<name>/_tags` (Link paging), untagged manifests from `_manifests`,
 * untag by `DELETE /acr/v1/<name>/_tags/<tag>` (the manifest stays for its other tags), manifest deletes by
 * `DELETE /v2/<name>/manifests/<digest>` (every tag on it goes). Reads and pushes stay on the Registry API.
 * Identity: see ./acr/auth.ts (service principal from AZURE_* env, else the Docker login of the registry).
 * The API base is `registries.<host>.api` when set (the registry origin, e.g. https://myreg.azurecr.io), else
 * `https://<host>` (plain http only for loopback or `insecure: true`).
 */
import { AuthError, isNotFound, isRegistryError, RegistryError } from '../errors.ts';
import { nextLink } from '../registry/client.ts';
import { httpAllowed } from '../registry/http.ts';
import { ACR_AUTH_HINT, AcrTokens } from './acr/auth.ts';
import { createRegistryApiDriver } from './default.ts';
import type {
  Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, TagRecord, UntaggedLister, Untagger,
} from './driver.ts';
import { NativeApi, type NativeResponse } from './native-api.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'ACR API: /acr/v1/<name>/_tags (digests, times), DELETE /acr/v1/<name>/_tags/<tag> (untag); DELETE /v2/<name>/manifests/<digest> for manifests',
  untag: true,
  listUntagged: true,
  nativeCredentials: [
    {
      description:
        'standard Azure credentials: a service principal (AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or AZURE_FEDERATED_TOKEN_FILE for workload identity; ' +
        'AZURE_AUTHORITY_HOST for other clouds), else the Docker login of the registry (az acr login, admin user, token)',
      flag: '',
      env: 'AZURE_CLIENT_ID',
      source: 'chain',
      chainEnv: ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_FEDERATED_TOKEN_FILE'],
    },
  ],
  notes:
    'deleting a tag leaves its manifest; a locked tag, manifest or repository (deleteEnabled or writeEnabled false) refuses deletes with 405; ' +
    'push times are lastUpdateTime; the identity needs the AcrDelete role (or Contributor)',
};

/** Largest page ACR's metadata listings serve. */
const PAGE_SIZE = 100;

/** One tag in `GET /acr/v1/<name>/_tags`. */
interface AcrTag {
  name: string;
  digest: string;
  createdTime?: string;
  lastUpdateTime?: string;
}

/** One manifest in `GET /acr/v1/<name>/_manifests`. */
interface AcrManifest {
  digest: string;
  createdTime?: string;
  lastUpdateTime?: string;
  tags?: string[] | null;
  changeableAttributes?: { deleteEnabled?: boolean; writeEnabled?: boolean };
}

/** The base URL of the ACR API for a context: `registries.<host>.api`, else the login server itself. */
export function acrApiBase(context: Pick<DriverContext, 'host' | 'registry'>): string {
  const configured = context.registry?.api;
  if (configured !== undefined && configured !== '') return configured;
  const scheme = httpAllowed(context.host.replace(/:\d+$/, ''), context.registry?.insecure ?? false) ? 'http' : 'https';
  return `${scheme}://${context.host}`;
}

/** Builds the ACR driver for one registry host. */
export function createAcrDriver(context: DriverContext): Driver & Untagger & DetailedLister & UntaggedLister & ManifestReader & ContentPusher {
  const base = acrApiBase(context);
  const insecure = context.registry?.insecure ?? false;
  const tokens = new AcrTokens({
    host: context.host,
    base,
    insecure,
    credentials: context.credentials,
    nativeSecret: context.nativeSecret,
    ...(context.debug === undefined ? {} : { debug: context.debug }),
  });
  // Reads and pushes: the Docker login, else the service principal's refresh token (so AZURE_* alone suffices).
  const registryApi = createRegistryApiDriver(
    { ...context, credentials: async () => (await context.credentials()) ?? (await tokens.registryCredential()) },
    { type: 'acr', capabilities },
  );
  const apis = new Map<string, NativeApi>();
  const apiFor = (name: string): NativeApi => {
    let api = apis.get(name);
    if (api === undefined) {
      api = tokens.guard(
        new NativeApi({
          base,
          title: 'ACR API',
          authHint: ACR_AUTH_HINT,
          insecure,
          authorization: async () => `Bearer ${await tokens.accessToken(name)}`,
          ...(context.debug === undefined ? {} : { debug: context.debug }),
        }),
      );
      apis.set(name, api);
    }
    return api;
  };
  /** Runs a call with the repo's token; a 401 (an expired token) gets one retry with a fresh token. */
  const withApi = async <T>(name: string, call: (api: NativeApi) => Promise<T>): Promise<T> => {
    try {
      return await call(apiFor(name));
    } catch (error) {
      if (!(error instanceof AuthError) || error.status !== 401) throw error;
      apis.delete(name);
      tokens.forget(name);
      return call(apiFor(name));
    }
  };
  const subject = (name: string, ref?: string) => `${context.host}/${name}${ref === undefined ? '' : ref.startsWith('sha256:') ? `@${ref}` : `:${ref}`}`;

  /** Every item of a paged /acr/v1 listing; empty when the repository does not exist. */
  const listAll = <T>(name: string, kind: '_tags' | '_manifests', field: 'tags' | 'manifests'): Promise<T[]> =>
    withApi(name, async (api) => {
      const items: T[] = [];
      let url: URL | undefined = api.url(`acr/v1/${name}/${kind}`, { n: PAGE_SIZE, orderby: '' });
      while (url !== undefined) {
        let answer: NativeResponse<Record<string, unknown> | undefined>;
        try {
          answer = await api.request<Record<string, unknown> | undefined>('GET', url, { subject: subject(name) });
        } catch (error) {
          if (isNotFound(error)) return [];
          throw error;
        }
        const page = answer.data?.[field];
        if (Array.isArray(page)) items.push(...(page as T[]));
        const next = nextLink(answer.headers.get('link'), answer.url);
        if (next !== undefined && next.origin !== api.base.origin) {
          throw new RegistryError(`the ACR API pointed the next page of ${subject(name)} at another host (${next.origin})`, { status: answer.status, registry: context.host, hint: 'check registries.<host>.api' });
        }
        url = next === undefined || next.href === url.href || !Array.isArray(page) || page.length === 0 ? undefined : next;
      }
      return items;
    });

  /** Sends a DELETE; 404 counts as done, 405 (ACR's REGISTRY_DISALLOWED_OPERATION) becomes the lock explanation. */
  const deleteRequest = async (name: string, path: string, ref: string): Promise<void> => {
    try {
      await withApi(name, (api) => api.request('DELETE', path, { expect: [200, 202, 204], subject: subject(name, ref) }));
    } catch (error) {
      if (isNotFound(error)) return; // already gone counts as done (design §6)
      if (isRegistryError(error) && error.status === 405) throw lockedError(context.host, name, ref, error);
      throw error;
    }
  };

  const listTagRecords = async (name: string): Promise<TagRecord[]> => {
    const tags = await listAll<AcrTag>(name, '_tags', 'tags');
    return tags
      .filter((t) => typeof t.name === 'string' && typeof t.digest === 'string')
      .map((t) => {
        const pushedAt = isoTime(t.lastUpdateTime) ?? isoTime(t.createdTime);
        return { tag: t.name, digest: t.digest, ...(pushedAt === undefined ? {} : { pushedAt }) };
      });
  };

  return {
    ...registryApi,
    type: 'acr',
    capabilities,
    async listTags(name) {
      return (await listTagRecords(name)).map((t) => t.tag);
    },
    listTagRecords,
    async listUntagged(name) {
      const manifests = await listAll<AcrManifest>(name, '_manifests', 'manifests');
      const untagged = manifests.filter((m) => typeof m.digest === 'string' && (m.tags ?? []).length === 0);
      const locked = untagged.filter((m) => m.changeableAttributes?.deleteEnabled === false || m.changeableAttributes?.writeEnabled === false);
      if (locked.length > 0) context.debug?.(`acr: ${locked.length} locked untagged manifest(s) in ${subject(name)} left out of cleanup`);
      return untagged
        .filter((m) => !locked.includes(m))
        .map((m) => {
          const pushedAt = isoTime(m.lastUpdateTime) ?? isoTime(m.createdTime);
          return { digest: m.digest, ...(pushedAt === undefined ? {} : { pushedAt }) };
        });
    },
    untag: (name, tag) => deleteRequest(name, `acr/v1/${name}/_tags/${encodeURIComponent(tag)}`, tag),
    deleteManifest: (name, digest) => deleteRequest(name, `v2/${name}/manifests/${digest}`, digest),
  };
}

/** The error for a delete ACR refused because something is locked. */
function lockedError(host: string, name: string, ref: string, cause: RegistryError): RegistryError {
  const registryName = host.replace(/\.azurecr\.io(:\d+)?$/, '');
  const image = ref.startsWith('sha256:') ? `${name}@${ref}` : `${name}:${ref}`;
  return new RegistryError(
    `cannot delete ${ref.startsWith('sha256:') ? 'manifest' : 'tag'} "${ref}" in "${host}/${name}": ACR refuses it because the ${ref.startsWith('sha256:') ? 'manifest, one of its tags' : 'tag'} or the repository is locked (deleteEnabled or writeEnabled is false)`,
    {
      status: cause.status,
      registry: host,
      repo: name,
      ref,
      cause,
      hint:
        `if it should go, unlock it: az acr repository update --name ${registryName} --image ${image} --delete-enabled true --write-enabled true ` +
        `(or --repository ${name} for a locked repository); if it should stay, add a keep rule for it so the plan leaves it alone`,
    },
  );
}

/** An ISO time from ACR's RFC 3339 timestamps (7 fractional digits), or undefined for anything else. */
function isoTime(value: string | undefined): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const time = Date.parse(value.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(time) || time <= 0 ? undefined : new Date(time).toISOString();
}

/** The ACR registry type. */
export const acrDriver = {
  type: 'acr',
  title: 'Azure Container Registry',
  status: 'ready',
  capabilities,
  create: createAcrDriver,
} satisfies DriverFactory;
