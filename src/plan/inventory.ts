/**
 * Inventory: reads what a repo holds, through its driver, into the plain data the evaluator decides on.
 * Per tag: digest (a HEAD, or the native listing) and push time (native listing, else the image config's
 * `created`, cached by digest). Per manifest: children and subject, so related content follows what it belongs to.
 * Requests to one host run at most `concurrency` at a time. Every push time, whatever its source (a native
 * listing, a config's `created`, an annotation), passes `plausiblePushTime` here and nowhere else: a zeroed or
 * future time becomes unknown, which keeps the tag.
 */
import pLimit from 'p-limit';
import {
  canListUntagged, canReadManifests, type Driver, type ManifestReader, hasDetailedListing, type TagRecord,
} from '../drivers/driver.ts';
import { parseTime, plausiblePushTime } from '../model/time.ts';
import { isIndex, type Manifest } from '../registry/oci.ts';
import type { CachedManifest, ManifestCache } from './manifest-cache.ts';
import type { ManifestFacts, RepoInventory, UntaggedRecord } from './types.ts';

/** Counts inventory reports while it works (for a progress line). */
export type InventoryProgress = (event: { repo: string; done: number; total: number }) => void;

/** Options of `takeInventory`. */
export interface InventoryOptions {
  cache: ManifestCache;
  /** Shared per-host limiter; create one per host with `pLimit(settings.concurrency)`. */
  limit: ReturnType<typeof pLimit>;
  progress?: InventoryProgress;
  /** The clock push times are judged against (tests pin it); default now. */
  now?: number;
}

/** Reads one repo: every tag with digest and push time, untagged manifests where listable, manifest facts. */
export async function takeInventory(
  target: { repo: string; name: string; driver: Driver },
  options: InventoryOptions,
): Promise<RepoInventory> {
  const { repo, name, driver } = target;
  const { limit, cache } = options;
  const tags = hasDetailedListing(driver)
    ? await driver.listTagRecords(name)
    : await resolveTags(target, options);
  const untagged: UntaggedRecord[] = canListUntagged(driver) ? await driver.listUntagged(name) : [];

  const manifests: Record<string, ManifestFacts> = {};
  const created = new Map<string, string>();
  if (canReadManifests(driver)) {
    const digests = [...new Set([...tags.map((t) => t.digest), ...untagged.map((u) => u.digest)])];
    const facts = await Promise.all(digests.map((digest) => limit(() => manifestFacts(driver, name, digest, cache))));
    digests.forEach((digest, i) => {
      const entry = facts[i];
      if (!entry) return;
      const { created: when, ...rest } = entry;
      manifests[digest] = rest;
      if (when) created.set(digest, when);
    });
  }
  const now = options.now ?? Date.now();
  const pushTime = (recorded: string | undefined, digest: string): string | undefined =>
    plausiblePushTime(parseTime(recorded), now) ?? plausiblePushTime(parseTime(created.get(digest)), now);
  const withTimes = tags.map((record): TagRecord => {
    const { pushedAt: _recorded, ...rest } = record;
    const when = pushTime(record.pushedAt, record.digest);
    return { ...rest, ...(when === undefined ? {} : { pushedAt: when }) };
  });
  const untaggedWithTimes = untagged.map((record): UntaggedRecord => {
    const when = pushTime(record.pushedAt, record.digest);
    return { digest: record.digest, ...(when === undefined ? {} : { pushedAt: when }) };
  });
  return {
    repo,
    // Untagged manifests are only deletable when their relationships are known: without reading manifests, a child
    // of a kept index or the subject of a kept signature would look like an orphan.
    driver: { type: driver.type, untag: driver.capabilities.untag, listUntagged: driver.capabilities.listUntagged && canReadManifests(driver) },
    tags: withTimes,
    untagged: untaggedWithTimes,
    manifests,
  };
}

/** Lists tag names, then resolves each to its digest (one HEAD per tag); tags gone meanwhile are dropped. */
async function resolveTags(target: { repo: string; name: string; driver: Driver }, options: InventoryOptions): Promise<TagRecord[]> {
  const { repo, name, driver } = target;
  const names = await options.limit(() => driver.listTags(name));
  let done = 0;
  const records = await Promise.all(
    names.map((tag) =>
      options.limit(async (): Promise<TagRecord | undefined> => {
        const descriptor = await driver.resolveTag(name, tag);
        options.progress?.({ repo, done: ++done, total: names.length });
        return descriptor ? { tag, digest: descriptor.digest, mediaType: descriptor.mediaType } : undefined;
      }),
    ),
  );
  return records.filter((r): r is TagRecord => r !== undefined);
}

/** Facts of one digest, from the cache or by reading the manifest (and for an image, its config). */
async function manifestFacts(driver: Driver & ManifestReader, name: string, digest: string, cache: ManifestCache): Promise<CachedManifest | undefined> {
  const cached = await cache.get(digest);
  if (cached) return cached;
  let manifest: Manifest;
  let mediaType: string;
  try {
    const read = await driver.readManifest(name, digest);
    manifest = read.manifest;
    mediaType = read.descriptor.mediaType;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined; // deleted since it was listed
    throw error;
  }
  const entry: CachedManifest = {
    mediaType,
    children: isIndex(manifest) ? manifest.manifests.map((m) => m.digest) : [],
    ...(manifest.subject ? { subject: manifest.subject.digest } : {}),
    ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}),
  };
  const createdAnnotation = parseTime(manifest.annotations?.['org.opencontainers.image.created']);
  if (createdAnnotation !== undefined) {
    entry.created = createdAnnotation;
  } else if (isIndex(manifest)) {
    // An index has no config: it was built when its newest child was.
    const children = await Promise.all(entry.children.map((child) => manifestFacts(driver, name, child, cache)));
    const times = children.map((c) => c?.created).filter((t): t is string => t !== undefined).sort();
    if (times.length) entry.created = times[times.length - 1] as string;
  } else if (isImageConfig(manifest.config.mediaType)) {
    const config = await driver.readImageConfig(name, manifest.config);
    const when = parseTime(config.created);
    if (when !== undefined) entry.created = when;
  }
  await cache.set(digest, entry);
  return entry;
}

const isImageConfig = (mediaType: string): boolean =>
  mediaType === 'application/vnd.oci.image.config.v1+json' || mediaType === 'application/vnd.docker.container.image.v1+json';
