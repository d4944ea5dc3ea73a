/**
 * The `default` driver: any registry that implements the OCI Distribution API with deletes enabled
 * (distribution, Zot, localhost:5000, …). It lists, resolves, deletes and pushes (bundles) purely through src/registry's client,
 * and is also the Registry-API driver other types fall back to while their native API is not built. It lists
 * repositories (repo patterns) through the catalog, `GET /v2/_catalog` with Link paging.
 */
import type { RegistryType } from '../config/types.ts';
import { AuthError, isAuthError, isNotFound } from '../errors.ts';
import { RegistryClient } from '../registry/client.ts';
import type { Capabilities, ContentPusher, Driver, DriverContext, DriverFactory, ManifestReader, RepositoryLister, Untagger } from './driver.ts';

/** Cleanup path text of every driver that deletes through the Registry API. */
export const REGISTRY_API_DELETE = 'Registry API: DELETE /v2/<name>/manifests/<digest>';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: `${REGISTRY_API_DELETE} (the registry must allow deletes)`,
  untag: false,
  untagByPlaceholder: true,
  listUntagged: false,
  nativeCredentials: [],
  notes:
    'distribution answers 405 UNSUPPORTED while storage.delete.enabled is false; deleting a digest removes every tag on it, ' +
    'so a tag sharing its manifest with a kept tag is removed through a placeholder: a unique empty manifest is pushed ' +
    'to the tag, then deleted by its digest',
};

/**
 * How the catalog is paged: `n` sent with the first `GET /v2/_catalog` (distribution's own default is 100, and it
 * refuses more than its `catalog.maxentries`, 1000 by default). Tests lower it to read many pages.
 */
export const catalogPaging = { pageSize: 100 };

/**
 * A driver that does everything through the Registry API. Its capabilities say what it really does, whatever
 * the type's target is: delete by digest (every tag on it goes), no untag, no untagged listing. A type that
 * falls back here while its native driver is pending passes `cleanupPath` to say so.
 */
export function createRegistryApiDriver(
  context: DriverContext,
  driver: { type: RegistryType; capabilities: Capabilities; cleanupPath?: string },
): Driver & ManifestReader & ContentPusher & RepositoryLister {
  const { untag: _untag, ...withoutUntag } = buildRegistryApiDriver(context, registryClientFor(context), driver, false);
  return withoutUntag;
}

/**
 * The Registry-API driver for registries whose `DELETE /v2/<name>/manifests/<tag>` removes just that tag and
 * leaves the manifest for its other tags (Quay, GCR); distribution 2.8 and Harbor answer it with 400/405.
 */
export function createUntaggingRegistryApiDriver(
  context: DriverContext,
  driver: { type: RegistryType; capabilities: Capabilities; cleanupPath?: string },
  client: RegistryClient = registryClientFor(context),
): Driver & Untagger & ManifestReader & ContentPusher & RepositoryLister {
  return buildRegistryApiDriver(context, client, driver, true);
}

/** The Registry API client of a driver context (a driver that also reads vendor fields shares it with its base). */
export function registryClientFor(context: DriverContext): RegistryClient {
  return new RegistryClient({
    host: context.host,
    insecure: context.registry?.insecure ?? false,
    credentials: context.credentials,
    ...(context.debug === undefined ? {} : { debug: context.debug }),
  });
}

function buildRegistryApiDriver(
  context: DriverContext,
  client: RegistryClient,
  driver: { type: RegistryType; capabilities: Capabilities; cleanupPath?: string },
  untag: boolean,
): Driver & Untagger & ManifestReader & ContentPusher & RepositoryLister {
  return {
    type: driver.type,
    capabilities: {
      ...driver.capabilities,
      cleanupPath: driver.cleanupPath ?? driver.capabilities.cleanupPath,
      untag,
      listUntagged: false,
    },
    async listTags(name) {
      return ignoreNotFound(client.listTags(name), []);
    },
    resolveTag: (name, tag) => client.headManifest(name, tag),
    async deleteManifest(name, digest) {
      // A 404 propagates: apply calls it "already gone" only after a fresh lookup agrees (a 404 is not proof).
      await client.deleteManifest(name, digest);
    },
    async untag(name, tag) {
      await client.deleteTag(name, tag);
    },
    async listRepositories() {
      // The catalog has no prefix filter: it lists the whole registry (as far as these credentials may see it).
      try {
        return await client.listRepositories({ pageSize: catalogPaging.pageSize });
      } catch (error) {
        if (isAuthError(error) && (error.status === 401 || error.status === 403)) throw catalogRefused(context.host, driver.type, error);
        throw error;
      }
    },
    readManifest: (name, digest) => client.getManifest(name, digest),
    readImageConfig: (name, config) => client.getConfigBytes(name, config),
    hasBlob: (name, digest) => client.hasBlob(name, digest),
    async putBlob(name, blob, options = {}) {
      for (const from of options.mountFrom ?? []) {
        try {
          if (await client.mountBlob(name, blob.digest, from)) return 'mounted';
        } catch {
          // a mount the registry refuses (no pull right on the source, say) falls back to uploading
        }
      }
      await client.uploadBlob(name, 'bytes' in blob.content ? { bytes: blob.content.bytes } : { path: blob.content.path, size: blob.size, digest: blob.digest });
      return 'uploaded';
    },
    putManifest: (name, manifest, options = {}) => client.putManifest(name, options.tag ?? manifest.digest, manifest.bytes, manifest.mediaType),
  };
}

/** A catalog the registry will not list for these credentials: what it means and what to do instead. */
function catalogRefused(host: string, type: RegistryType, cause: AuthError): AuthError {
  const native = type === 'default'
    ? '; if the registry has its own API (GitHub, GitLab, Harbor, …), set registries.<host>.type so regplan lists repos through it (see "regplan registries")'
    : '';
  return new AuthError(`registry ${host} does not allow listing its catalog (GET /v2/_catalog) with these credentials: HTTP ${cause.status}`, {
    status: cause.status,
    registry: host,
    errors: cause.errors,
    cause,
    hint: `list the repos explicitly in repos[] instead of a pattern, or log in with an account allowed to read the catalog (token scope registry:catalog:*)${native}`,
  });
}

/** Resolves to `fallback` when the registry answers "not found". */
async function ignoreNotFound<T>(pending: Promise<T>, fallback: T): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (isNotFound(error)) return fallback;
    throw error;
  }
}

/** The default registry type. */
export const defaultDriver = {
  type: 'default',
  title: 'Default (OCI Distribution)',
  status: 'ready',
  capabilities,
  create: (context) => createRegistryApiDriver(context, { type: 'default', capabilities }),
} satisfies DriverFactory;
