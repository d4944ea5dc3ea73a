/**
 * Azure Container Registry (`*.azurecr.io`) through its own API on the login server, with no `az` CLI: tags with
 * digests and push times from `GET /acr/v1/<name>/_tags` (Link paging), untagged manifests from `_manifests`,
 * untag by `DELETE /acr/v1/<name>/_tags/<tag>` (the manifest stays for its other tags), manifest deletes by
 * `DELETE /v2/<name>/manifests/<digest>` (every tag on it goes). Reads and pushes stay on the Registry API.
 * Identity: see ./acr/auth.ts (service principal from AZURE_* env, else the Docker login of the registry).
 * The API base is `registries.<host>.api` when set (the registry origin, e.g. https://myreg.azurecr.io), else
 * `https://<host>` (plain http only for loopback or `insecure: true`).
 * Discovery (`listRepositories`): `GET /acr/v1/_catalog` with a `registry:catalog:*` token, following its relative
 * `Link` pages (reference §3.2); ACR has no namespaces, so the whole catalog is read and filtered by the prefix, and a
 * prefix nothing matches gives an empty list.
 */
import { AuthError, isNotFound, isRegistryError, RegistryError } from '../errors.ts';
import { parseTime } from '../model/time.ts';
import { ACR_AUTH_HINT, AcrTokens } from './acr/auth.ts';
import { createRegistryApiDriver } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, RepositoryLister, UntaggedLister, Untagger } from './driver.ts';
import { confirmGone, linkNext, NativeApi, nativeApiBase, SingleFlight, digestSegment, tagSegment } from './native-api.ts';
import { namesWithPrefix } from './repository-prefix.ts';
import type { TagRecord } from '../model/inventory.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'ACR API: /acr/v1/<name>/_tags (digests, times), DELETE /acr/v1/<name>/_tags/<tag> (untag); DELETE /v2/<name>/manifests/<digest> for manifests',
  untag: true,
  listUntagged: true,
  repositoryListing: 'ACR API: GET /acr/v1/_catalog (registry:catalog:* scope)',
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

/** The token scope of the repository catalog. */
const CATALOG_SCOPE = 'registry:catalog:*';

/** Largest page ACR's metadata listings serve. */
const PAGE_SIZE = 100;

/** A page of `GET /acr/v1/<name>/_tags` or `_manifests`: the list under `field`, next to `imageName`. */
type AcrPage = Record<string, unknown> | undefined;

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
  return nativeApiBase({ host: context.host, configured: configured === '' ? undefined : configured, insecure: context.registry?.insecure });
}

/**
 * The items of one ACR listing page. ACR may leave an empty list out (or send null); a page that is not an ACR
 * answer at all (no `imageName`) is undefined, which the native layer reports instead of reading it as empty.
 */
const acrItems =
  <T>(field: 'tags' | 'manifests') =>
  (page: AcrPage): T[] | undefined => {
    const list = page?.[field];
    if (Array.isArray(list)) return list as T[];
    return list == null && typeof page?.['imageName'] === 'string' ? [] : undefined;
  };

/** Builds the ACR driver for one registry host. */
export function createAcrDriver(context: DriverContext): Driver & Untagger & DetailedLister & UntaggedLister & ManifestReader & ContentPusher & RepositoryLister {
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
  let catalogApi: NativeApi | undefined;
  const catalogClient = (): NativeApi =>
    (catalogApi ??= tokens.guard(
      new NativeApi({
        base,
        title: 'ACR API',
        authHint: `${ACR_AUTH_HINT}; listing repositories needs the registry:catalog:* scope`,
        insecure,
        authorization: async () => `Bearer ${await tokens.scopedToken(CATALOG_SCOPE)}`,
        ...(context.debug === undefined ? {} : { debug: context.debug }),
      }),
    ));
  /** Every repository name of the registry's catalog; a 401 (an expired token) gets one retry with a fresh token. */
  const listCatalog = async (): Promise<string[]> => {
    const list = () =>
      catalogClient().listAll<{ repositories?: unknown[] | null } | undefined, unknown>('acr/v1/_catalog', {
        query: { n: PAGE_SIZE },
        items: (data) => (data?.repositories === null ? [] : data?.repositories),
        next: linkNext,
        subject: `${context.host}/*`,
        notFoundHint: `check registries["${context.host}"].api: it must be the registry's origin, e.g. https://${context.host}`,
      });
    let names: unknown[];
    try {
      names = await list();
    } catch (error) {
      if (!(error instanceof AuthError) || error.status !== 401) throw error;
      catalogApi = undefined;
      tokens.forgetScope(CATALOG_SCOPE);
      names = await list();
    }
    return names.filter((n): n is string => typeof n === 'string');
  };
  const subject = (name: string, ref?: string) => `${context.host}/${name}${ref === undefined ? '' : ref.startsWith('sha256:') ? `@${ref}` : `:${ref}`}`;

  /**
   * Every item of an /acr/v1 listing, following its Link pages. A repository ACR does not know (404) is an error
   * naming the URL: the config names it, so an empty answer would hide a typo or a wrong api URL.
   */
  const listAll = <T>(name: string, kind: '_tags' | '_manifests', field: 'tags' | 'manifests'): Promise<T[]> =>
    withApi(name, (api) =>
      api.listAll<AcrPage, T>(`acr/v1/${name}/${kind}`, {
        query: { n: PAGE_SIZE, orderby: '' },
        items: acrItems<T>(field),
        next: linkNext,
        subject: subject(name),
        notFoundHint: `check the repository name (ACR answers 404 for a repository it does not hold) and registries["${context.host}"].api`,
      }),
    );

  /**
   * Sends a DELETE. 405 (ACR's REGISTRY_DISALLOWED_OPERATION) becomes the lock explanation; a 404 is "already
   * gone" only when a fresh lookup of that one tag or manifest (`lookup`) finds nothing.
   */
  const deleteRequest = async (name: string, path: string, ref: string, lookup: string): Promise<void> => {
    try {
      await withApi(name, (api) => api.request('DELETE', path, { expect: [200, 202, 204], subject: subject(name, ref) }));
    } catch (error) {
      if (isRegistryError(error) && error.status === 405) throw lockedError(context.host, name, ref, error);
      if (!isNotFound(error)) throw error;
      await confirmGone({
        stillThere: async () => (await withApi(name, (api) => api.request('GET', lookup, { expect: [200, 404], subject: subject(name, ref) }))).status === 200,
        refused: () => stillThereError(context.host, name, ref, error as RegistryError),
      });
    }
  };
  const manifestDeletes = new SingleFlight<void>();

  const listTagRecords = async (name: string): Promise<TagRecord[]> => {
    const tags = await listAll<AcrTag>(name, '_tags', 'tags');
    return tags
      .filter((t) => typeof t.name === 'string' && typeof t.digest === 'string')
      .map((t) => {
        const pushedAt = parseTime(t.lastUpdateTime) ?? parseTime(t.createdTime);
        return { tag: t.name, digest: t.digest, ...(pushedAt === undefined ? {} : { pushedAt }) };
      });
  };

  return {
    ...registryApi,
    type: 'acr',
    listRepositories: async (prefix) => namesWithPrefix(await listCatalog(), prefix),
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
          const pushedAt = parseTime(m.lastUpdateTime) ?? parseTime(m.createdTime);
          return { digest: m.digest, ...(pushedAt === undefined ? {} : { pushedAt }) };
        });
    },
    untag: (name, tag) => {
      const path = `acr/v1/${name}/_tags/${tagSegment(tag, `ACR API call for "${name}:${tag}"`)}`;
      return deleteRequest(name, path, tag, path);
    },
    deleteManifest: (name, digest) =>
      manifestDeletes.run(`${name}@${digest}`, () => deleteRequest(name, `v2/${name}/manifests/${digestSegment(digest, subject(name))}`, digest, `acr/v1/${name}/_manifests/${digestSegment(digest, subject(name))}`)),
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

/** The error for a DELETE answered 404 whose target a fresh lookup still finds: not done, and not reported as done. */
function stillThereError(host: string, name: string, ref: string, cause: RegistryError): RegistryError {
  const what = ref.startsWith('sha256:') ? `manifest "${ref}"` : `tag "${ref}"`;
  return new RegistryError(`cannot delete ${what} in "${host}/${name}": ACR answered the DELETE with HTTP 404, but the ${what.split(' ')[0]} is still there`, {
    status: cause.status,
    registry: host,
    repo: name,
    ref,
    cause,
    hint: 'check that the identity has the AcrDelete role (or Contributor) on the registry and that registries.<host>.api points at the registry itself, then run the same apply again',
  });
}

/** The ACR registry type. */
export const acrDriver = {
  type: 'acr',
  title: 'Azure Container Registry',
  status: 'ready',
  capabilities,
  create: createAcrDriver,
} satisfies DriverFactory;
