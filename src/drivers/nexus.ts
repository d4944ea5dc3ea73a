/**
 * Sonatype Nexus Repository 3 (never detected: set `registries.<host>.type: nexus`; reference §3.10). Reads and
 * pushes go through the Registry API on the Docker connector. Cleanup has two routes, chosen from the config:
 *
 * - Components API, when `registries.<host>.api` is the Nexus repository URL (`https://nexus.example.com/repository/
 *   <docker-repo>`, as the Nexus UI shows it): `GET /service/rest/v1/search?repository=&format=docker&name=` lists one
 *   component per (image, tag) with its manifest asset (`checksum.sha256` = the manifest digest, `blobCreated` = when
 *   that tag was pushed), paged by `continuationToken` (page size fixed by the server); `DELETE
 *   /service/rest/v1/components/<id>` removes one tag's component and leaves other tags of the same manifest: an untag.
 *   Deleting a manifest deletes the component of every tag on it.
 * - Registry API otherwise (digest deletes; no untag), the same as the default driver, with Nexus's refusals
 *   (a hosted repository whose deployment policy forbids redeploy/delete, a user without the delete privilege)
 *   given hints; `regplan registries` notes how to turn the components API on.
 *
 * Either way Nexus frees space only in its "Docker - Delete unused manifests and images" and "Admin - Compact blob
 * store" tasks. REST credentials: REGPLAN_REPO_NEXUS_USERNAME/PASSWORD, else the Docker login (Nexus users are the
 * same for both).
 */
import { AuthError, isRegistryError, RegistryError, RegplanError } from '../errors.ts';
import type { TagRecord } from '../model/inventory.ts';
import { isValidDigest, isValidTag } from '../model/names.ts';
import { parseTime } from '../model/time.ts';
import type { RetryOptions } from '../registry/http.ts';
import { createRegistryApiDriver, REGISTRY_API_DELETE } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, Untagger } from './driver.ts';
import { basicAuthorization, bodyTokenNext, confirmGone, NativeApi, SingleFlight } from './native-api.ts';

const ENV = { username: 'REGPLAN_REPO_NEXUS_USERNAME', password: 'REGPLAN_REPO_NEXUS_PASSWORD' } as const;

const nativeCredentials: Capabilities['nativeCredentials'] = [
  { description: 'Nexus user for the components API (else the Docker login)', flag: '--repo-nexus-username', env: ENV.username, configKey: 'username', optional: true },
  { description: 'its password or user token', flag: '--repo-nexus-password', env: ENV.password, configKey: 'password', optional: true },
];

const SPACE_NOTE = 'space comes back only after the "Docker - Delete unused manifests and images" and "Admin - Compact blob store" tasks';

/** What the Registry-API route does (no `api` configured): the type's row in `regplan registries`. */
const registryApiCapabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: `${REGISTRY_API_DELETE} (set registries.<host>.api to the Nexus repository URL for the components API)`,
  untag: false,
  listUntagged: false,
  nativeCredentials,
  notes:
    'never detected from the host: set registries.<host>.type: nexus; with registries.<host>.api set to the Nexus repository URL (https://nexus.example.com/repository/<docker-repo>) ' +
    'cleanup uses the components API (per-tag deletes, so shared manifests are untagged, and push times from the assets); without it a digest delete ' +
    'removes every tag on the manifest and needs a repository that allows redeploy (and Nexus 3.89+ leaves the tag files of a digest deleted so: ' +
    'sonatype/nexus-public#925); ' + SPACE_NOTE,
};

/** What the components-API route does. */
const componentsCapabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'Nexus components API: GET /service/rest/v1/search?repository=<repo>&format=docker&name=<image> (tags, manifest digests, blobCreated, lastDownloaded), DELETE /service/rest/v1/components/<id> (one tag)',
  untag: true,
  listUntagged: false,
  pullTimes: true,
  nativeCredentials,
  notes: 'components API on (registries.<host>.api is the Nexus repository URL); untagged manifests are not components, so `untagged: delete` cannot act; ' + SPACE_NOTE,
};

/** Tuning for tests. */
export interface NexusDriverOptions {
  retry?: RetryOptions;
}

/** A Docker component as the search API lists it: one (image, tag). */
interface NexusComponent {
  id: string;
  name?: string;
  version?: string;
  assets?: { path?: string; checksum?: { sha256?: string }; blobCreated?: string | null; lastModified?: string | null; lastDownloaded?: string | null }[];
}

interface SearchPage {
  items?: NexusComponent[];
  continuationToken?: string | null;
}

/** The Nexus repository URL's parts: the REST base and the repository name, or undefined when `api` is not one. */
export function nexusRepositoryUrl(api: string | undefined): { rest: string; repository: string } | undefined {
  if (api === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    return undefined;
  }
  const match = /^(.*?)\/repository\/([^/]+)\/?$/.exec(url.pathname);
  if (match === null || match[2] === undefined) return undefined;
  return { rest: `${url.origin}${match[1] ?? ''}/service/rest/v1`, repository: decodeURIComponent(match[2]) };
}

/** A Registry-API delete Nexus refused, with what to change in Nexus. */
function withNexusHint(error: unknown, host: string): unknown {
  if (!isRegistryError(error) || ![400, 403, 405].includes(error.status)) return error;
  const hint =
    error.status === 403
      ? 'the Nexus user needs the delete privilege on the repository (nx-repository-view-docker-<repo>-delete); or set registries.<host>.api to the Nexus repository URL to delete through the components API'
      : 'Nexus accepts Registry API deletes only where the hosted repository\'s deployment policy is "Allow redeploy"; change it, or set registries.<host>.api to the Nexus repository URL to delete through the components API';
  const Kind = error.status === 403 ? AuthError : RegistryError;
  return new Kind(error.message, { status: error.status, errors: error.errors, registry: host, cause: error, hint });
}

/** Builds the Nexus driver for one host: the components API when `api` names a Nexus repository, else the Registry API. */
export function createNexusDriver(context: DriverContext, options: NexusDriverOptions = {}): Driver & ManifestReader & ContentPusher & Partial<DetailedLister & Untagger> {
  const located = nexusRepositoryUrl(context.registry?.api);
  if (located === undefined) {
    const base = createRegistryApiDriver(context, { type: 'nexus', capabilities: registryApiCapabilities });
    return {
      ...base,
      async deleteManifest(name, digest) {
        try {
          await base.deleteManifest(name, digest);
        } catch (error) {
          throw withNexusHint(error, context.host);
        }
      },
    };
  }
  return createComponentsDriver(context, located, options);
}

function createComponentsDriver(context: DriverContext, located: { rest: string; repository: string }, options: NexusDriverOptions): Driver & DetailedLister & Untagger & ManifestReader & ContentPusher {
  const base = createRegistryApiDriver(context, { type: 'nexus', capabilities: componentsCapabilities });
  const listings = new SingleFlight<NexusComponent[]>();
  /** The last full listing of each image (component ids for deletes). */
  const lastListing = new Map<string, NexusComponent[]>();
  const api = new NativeApi({
    base: located.rest,
    title: 'Nexus API',
    insecure: context.registry?.insecure ?? false,
    ...(context.debug === undefined ? {} : { debug: context.debug }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    authorization: async () => {
      const read = async (env: string) => (await context.nativeSecret(env)) || undefined;
      const [username, password] = await Promise.all([read(ENV.username), read(ENV.password)]);
      if (username !== undefined && password !== undefined) {
        api.addSecret(password);
        return basicAuthorization(username, password);
      }
      const login = await context.credentials();
      if (login?.username && login.password) {
        api.addSecret(login.password);
        return basicAuthorization(login.username, login.password);
      }
      return undefined;
    },
    authHint: `the Nexus user needs browse, read and delete on repository "${located.repository}" (nx-repository-view-docker-${located.repository}-*); set ${ENV.username}/${ENV.password} or log in to ${context.host}`,
  });

  /**
   * The manifest digest, push time and last pull of a component, read from its manifest asset; undefined when it has
   * none. `lastDownloaded: null` is left unknown, not "never": Nexus records downloads per path, and a pull by digest
   * reads another path than the tag's.
   */
  function manifestOf(component: NexusComponent, name: string): { digest: string; pushedAt?: string; pulled?: string } | undefined {
    const path = `v2/${name}/manifests/${component.version ?? ''}`;
    const asset = component.assets?.find((a) => a.path === path || a.path === `/${path}`);
    const hex = asset?.checksum?.sha256;
    if (asset === undefined || typeof hex !== 'string') return undefined;
    const pushedAt = parseTime(asset.blobCreated ?? asset.lastModified);
    const pulled = parseTime(asset.lastDownloaded);
    return { digest: `sha256:${hex}`, ...(pushedAt === undefined ? {} : { pushedAt }), ...(pulled === undefined ? {} : { pulled }) };
  }

  /** Every component of an image (one per tag, plus any pushed by digest), across continuation tokens. */
  function components(name: string, version?: string): Promise<NexusComponent[]> {
    return listings.run(`${name}\n${version ?? ''}`, async () => {
      const all = await api.listAll<SearchPage, NexusComponent>('search', {
        query: { repository: located.repository, format: 'docker', name, version },
        items: (page) => (typeof page === 'object' && page !== null ? (page.items ?? []) : undefined),
        next: bodyTokenNext<SearchPage>('continuationToken'),
        subject: `${context.host}/${name}`,
        notFoundHint: `check registries.<host>.api: it must be the Nexus repository URL (…/repository/${located.repository}) of a Nexus with the REST API; remove api to clean up through the Registry API`,
      });
      const found = all.filter((c) => c.name === name && typeof c.id === 'string' && (version === undefined || c.version === version)); // search matches loosely
      if (version === undefined) lastListing.set(name, found);
      return found;
    });
  }

  const isOn = (component: NexusComponent, name: string, digest: string): boolean => component.version === digest || manifestOf(component, name)?.digest === digest;

  /**
   * The components on a manifest: from the last full listing of the image (a fresh one when it has none on that
   * digest), so apply's many deletes do not each page through the whole image. Each is re-read before its delete.
   */
  async function componentsOn(name: string, digest: string): Promise<NexusComponent[]> {
    const cached = (lastListing.get(name) ?? []).filter((c) => isOn(c, name, digest));
    return cached.length > 0 ? cached : (await components(name)).filter((c) => isOn(c, name, digest));
  }

  async function deleteComponent(name: string, component: NexusComponent, what: string): Promise<void> {
    const subject = `${context.host}/${name}:${what}`;
    const path = `components/${encodeURIComponent(component.id)}`;
    try {
      await api.request('DELETE', path, { expect: [200, 204], subject });
    } catch (error) {
      if (!isRegistryError(error) || error.status !== 404) throw error;
      // 404 is "already gone" only when a fresh lookup of that component agrees.
      await confirmGone({
        stillThere: async () => (await api.request('GET', path, { expect: [200, 404], subject })).status === 200,
        refused: () => new RegistryError(`cannot delete "${subject}": Nexus answered the DELETE with HTTP 404, but the component is still there`, { status: 404, registry: context.host, repo: name, cause: error, hint: `check that the Nexus user may delete in repository "${located.repository}"` }),
      });
    }
  }

  return {
    ...base,
    capabilities: componentsCapabilities,
    async listTagRecords(name) {
      const records: TagRecord[] = [];
      for (const component of await components(name)) {
        const version = component.version ?? '';
        if (isValidDigest(version)) continue; // pushed by digest (an index's child): not a tag
        const manifest = manifestOf(component, name);
        if (manifest === undefined) continue;
        records.push({ tag: version, ...manifest });
      }
      return records.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    },
    async untag(name, tag) {
      if (!isValidTag(tag)) throw new RegplanError(`refusing to untag invalid tag ${JSON.stringify(tag)} in "${context.host}/${name}"`, { context: { registry: context.host, repo: name } });
      const found = await components(name, tag);
      if (found.length === 0) throw new RegistryError(`Nexus has no component "${name}:${tag}" in repository "${located.repository}"`, { status: 404, registry: context.host, repo: name, ref: tag });
      for (const component of found) await deleteComponent(name, component, tag);
    },
    async deleteManifest(name, digest) {
      // Every component on the manifest: each tag's, and the one pushed by digest, if any. A component is re-read
      // first: one gone counts as gone, and one whose tag has moved to another manifest since the listing is left alone.
      await Promise.all(
        (await componentsOn(name, digest)).map(async (listed) => {
          const now = await api.request<NexusComponent>('GET', `components/${encodeURIComponent(listed.id)}`, { expect: [200, 404], subject: `${context.host}/${name}:${listed.version ?? digest}` });
          if (now.status === 404 || now.data === undefined || !isOn(now.data, name, digest)) return;
          await deleteComponent(name, now.data, now.data.version ?? digest);
        }),
      );
    },
  };
}

/** The Nexus registry type. */
export const nexusDriver = {
  type: 'nexus',
  title: 'Sonatype Nexus',
  status: 'ready',
  capabilities: registryApiCapabilities,
  create: (context) => createNexusDriver(context),
} satisfies DriverFactory;
