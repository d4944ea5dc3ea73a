/**
 * Google Container Registry and Artifact Registry (`gcr.io`, `*.gcr.io`, `container.cloud.google.com`,
 * `*-docker.pkg.dev`; reference §3.8). Everything goes through the Registry API, with Google's extension and
 * semantics:
 * - listing: `GET /v2/<name>/tags/list` carries a `manifest` map (digest -> {tag[], timeUploadedMs, timeCreatedMs,
 *   mediaType, imageSizeBytes}; GCR sends the numbers as strings, Artifact Registry `timeUploadedMs` as a number and
 *   `timeCreatedMs` as "0"). One read gives every tag with its digest and upload time (no
 *   HEAD per tag), and the manifests whose `tag` list is empty, so `untagged: delete` works. GCR ignores `n` and
 *   answers everything at once; a `Link` page is followed all the same (the client's paging). `timeUploadedMs` may
 *   be "0": it is passed on as parsed and inventory judges it (it then falls back to the config's `created`).
 * - untag: `DELETE /v2/<name>/manifests/<tag>` removes just that tag.
 * - delete: `DELETE /v2/<name>/manifests/<digest>` works only once no tag is left, else 400
 *   GOOGLE_MANIFEST_DANGLING_TAG "Manifest is still referenced by tag: X" (genuinetools/reg#136). Google's recipe is
 *   to untag the manifest's tags, then delete it. The tags untagged are exactly those the last listing showed on
 *   the digest — apply lists right before deleting and has checked that every one of them is planned — so a tag
 *   pushed onto the manifest since is never removed: the digest delete then answers dangling-tag, and that is a
 *   StalePlanError naming the tag (the manifest stays), never a loop and never a wider untag. DELETE by tag is not
 *   conditional, so each listed tag is resolved first and left alone when it has moved to another manifest.
 */
import { isValidTag } from '../model/names.ts';
import { isNotFound, isRegistryError, ProtocolError, type RegistryError, StalePlanError } from '../errors.ts';
import type { TagRecord, UntaggedRecord } from '../model/inventory.ts';
import { parseTime } from '../model/time.ts';
import { createUntaggingRegistryApiDriver, registryClientFor } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, Untagger, UntaggedLister } from './driver.ts';
import { SingleFlight } from './native-api.ts';

/** The error code GCR/AR answer a digest delete with while a tag still points at it. */
export const DANGLING_TAG_CODE = 'GOOGLE_MANIFEST_DANGLING_TAG';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath:
    'Registry API with Google\'s tags/list manifest map (digests, tags, upload times); untag: DELETE /v2/<name>/manifests/<tag>; ' +
    'delete: untag the manifest\'s tags, then DELETE /v2/<name>/manifests/<digest>',
  untag: true,
  listUntagged: true,
  nativeCredentials: [],
  notes: 'DELETE by digest answers 400 GOOGLE_MANIFEST_DANGLING_TAG while a tag still references it; tags/list ignores paging and returns everything at once; timeUploadedMs "0" counts as unknown',
};

/** One entry of Google's `manifest` map, as sent (numbers are strings). */
interface GoogleManifestEntry {
  tag?: unknown;
  mediaType?: unknown;
  timeUploadedMs?: unknown;
  timeCreatedMs?: unknown;
  imageSizeBytes?: unknown;
}

/** A manifest as the map describes it, after checks. */
export interface GoogleManifest {
  digest: string;
  tags: string[];
  mediaType?: string;
  uploadedAt?: string;
}

/** Tags a dangling-tag error names ("Manifest is still referenced by tag: v1"). */
export function danglingTags(error: RegistryError): string[] {
  return error.errors
    .filter((entry) => entry.code === DANGLING_TAG_CODE)
    .flatMap((entry) => [...(entry.message ?? '').matchAll(/referenced by tags?:\s*([A-Za-z0-9_][A-Za-z0-9._-]*(?:\s*,\s*[A-Za-z0-9_][A-Za-z0-9._-]*)*)/g)])
    .flatMap((match) => (match[1] ?? '').split(',').map((t) => t.trim()))
    .filter((t) => t !== '');
}

const isDangling = (error: unknown): error is RegistryError => isRegistryError(error) && error.code === DANGLING_TAG_CODE;

/**
 * Epoch milliseconds as a time: GCR sends a string ("1700000000000"), Artifact Registry a JSON number
 * (go-containerregistry#667); anything else (absent, not digits) is unknown.
 */
function epochMs(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? parseTime({ epochMilliseconds: value }) : undefined;
  return typeof value === 'string' && /^\d+$/.test(value.trim()) ? parseTime({ epochMilliseconds: Number(value) }) : undefined;
}

/**
 * The manifests of tags/list pages' `manifest` maps. Digests and tags are passed on as sent: inventory rejects
 * those outside the grammar (and shows them as skipped), and the driver never puts one into a URL; a page without
 * the map is a ProtocolError — it is not a Google registry, and listing
 * without the map would show no untagged manifests while claiming to.
 */
export function googleManifests(pages: readonly unknown[], subject: string, host: string): GoogleManifest[] {
  const found = new Map<string, GoogleManifest>();
  for (const page of pages) {
    const map = (page as { manifest?: unknown } | null)?.manifest;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw new ProtocolError(`registry ${host} answered tags/list of "${subject}" without Google's "manifest" map`, {
        code: 'UNEXPECTED_ANSWER',
        registry: host,
        repo: subject,
        hint: 'the gcr type reads GCR / Artifact Registry listings; for another registry set registries.<host>.type',
      });
    }
    for (const [digest, raw] of Object.entries(map as Record<string, GoogleManifestEntry>)) {
      if (typeof raw !== 'object' || raw === null) continue;
      const tags = Array.isArray(raw.tag) ? raw.tag.filter((t): t is string => typeof t === 'string') : [];
      const uploadedAt = epochMs(raw.timeUploadedMs);
      const entry = found.get(digest) ?? { digest, tags: [] };
      entry.tags = [...new Set([...entry.tags, ...tags])];
      if (typeof raw.mediaType === 'string' && raw.mediaType !== '') entry.mediaType = raw.mediaType;
      if (uploadedAt !== undefined) entry.uploadedAt = uploadedAt;
      found.set(digest, entry);
    }
  }
  return [...found.values()];
}

/** Builds the GCR / Artifact Registry driver for one host. */
export function createGcrDriver(context: DriverContext): Driver & DetailedLister & UntaggedLister & Untagger & ManifestReader & ContentPusher {
  const client = registryClientFor(context); // one client (one token cache) for the base driver and the map
  const base = createUntaggingRegistryApiDriver(context, { type: 'gcr', capabilities }, client);
  const deletes = new SingleFlight<void>();

  /** The manifest map of a repo; [] when the repo does not exist. */
  async function manifests(name: string): Promise<GoogleManifest[]> {
    const pages = await client.tagListPages(name);
    return pages === undefined ? [] : googleManifests(pages, name, context.host);
  }

  /** Digest -> tags of each repo's last listing (apply's re-check right before deleting): what deleteManifest untags. */
  const listed = new Map<string, Map<string, string[]>>();

  async function listTagRecords(name: string): Promise<TagRecord[]> {
    const found = await manifests(name);
    listed.set(name, new Map(found.map((m) => [m.digest, m.tags.filter(isValidTag)]))); // only names that may go into a URL
    const records = found.flatMap((m) =>
      m.tags.map((tag): TagRecord => ({
        tag,
        digest: m.digest,
        ...(m.mediaType === undefined ? {} : { mediaType: m.mediaType }),
        ...(m.uploadedAt === undefined ? {} : { pushedAt: m.uploadedAt }),
      })),
    );
    return records.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  /** File header: untag what the last listing showed on the digest, then delete it; a tag left over is stale. */
  async function deleteManifest(name: string, digest: string): Promise<void> {
    if (!listed.has(name)) await listTagRecords(name);
    for (const tag of listed.get(name)?.get(digest) ?? []) {
      // DELETE by tag is not conditional: a listed tag moved to another manifest since is left where it is now
      if ((await base.resolveTag(name, tag))?.digest !== digest) continue;
      try {
        await base.untag(name, tag);
      } catch (error) {
        if (!isNotFound(error)) throw error; // gone meanwhile: the digest delete that follows is the judge
      }
    }
    try {
      await base.deleteManifest(name, digest);
    } catch (error) {
      if (!isDangling(error)) throw error;
      const holders = danglingTags(error);
      throw new StalePlanError(
        `manifest ${digest} in "${context.host}/${name}" is now also tagged ${holders.length === 0 ? '(a tag regplan did not list)' : holders.map((t) => `"${t}"`).join(', ')}; left alone`,
        { cause: error, hint: 'a tag was pushed onto it since the listing; run regplan plan again', context: { registry: context.host, repo: name, ref: digest } },
      );
    }
  }

  return {
    ...base,
    capabilities,
    listTagRecords,
    async listUntagged(name) {
      return (await manifests(name))
        .filter((m) => m.tags.length === 0)
        .map((m): UntaggedRecord => ({ digest: m.digest, ...(m.uploadedAt === undefined ? {} : { pushedAt: m.uploadedAt }) }));
    },
    untag: (name, tag) => base.untag(name, tag),
    deleteManifest: (name, digest) => deletes.run(`${name}@${digest}`, () => deleteManifest(name, digest)),
  };
}

/** The GCR / Artifact Registry type. */
export const gcrDriver = {
  type: 'gcr',
  title: 'GCR / Artifact Registry',
  status: 'ready',
  capabilities,
  create: createGcrDriver,
} satisfies DriverFactory;
