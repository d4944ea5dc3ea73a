/**
 * Inventory: reads what a repo holds, through its driver, into the plain data the evaluator decides on.
 * Per tag: digest (a HEAD, or the native listing) and push time (native listing, else the image config's
 * `created`, cached by digest). Per manifest: children and subject, so related content follows what it belongs to.
 * Requests to one host run at most `concurrency` at a time. Every push time, whatever its source (a native
 * listing, a config's `created`, an annotation), passes `plausiblePushTime` here and nowhere else: a zeroed or
 * future time becomes unknown, which keeps the tag.
 * Names from the registry are hostile until checked: a tag or digest that fails the distribution grammar
 * (model/names.ts) is never resolved, read or deleted; it goes to `rejected` and the plan shows it as skipped.
 */
import pLimit from 'p-limit';
import { canListUntagged, canReadManifests, type Driver, type ManifestReader, hasDetailedListing } from '../drivers/driver.ts';
import { judgePullTime, parseTime, plausiblePushTime } from '../model/time.ts';
import { isValidDigest, isValidTag, quoteName } from '../model/names.ts';
import { RegplanError } from '../errors.ts';
import type { Descriptor } from '../registry/oci.ts';
import type { ManifestCache } from './manifest-cache.ts';
import { configCreated, type CreatedSource, type DatedManifestFacts, type ManifestContent, manifestContent } from './manifest-facts.ts';
import { INVALID_DIGEST_REASON, INVALID_TAG_REASON } from './types.ts';
import type { ManifestFacts, RepoInventory, SkippedName, TagRecord, UntaggedRecord } from '../model/inventory.ts';

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
  const rejected: SkippedName[] = [];
  const listed = hasDetailedListing(driver)
    ? await driver.listTagRecords(name)
    : await resolveTags(target, { ...options, rejected });
  const tags = listed.filter((record) => acceptTagRecord(repo, record, rejected));
  const untagged: UntaggedRecord[] = (canListUntagged(driver) ? await driver.listUntagged(name) : []).filter((record) => {
    if (isValidDigest(record.digest)) return true;
    rejected.push({ repo, kind: 'digest', name: quoteName(record.digest), reason: INVALID_DIGEST_REASON });
    return false;
  });

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
    const { pushedAt: _recorded, pulled: _pulled, ...rest } = record;
    const when = pushTime(record.pushedAt, record.digest);
    const pulled = judgePullTime(record.pulled, now);
    return { ...rest, ...(when === undefined ? {} : { pushedAt: when }), ...(pulled === undefined ? {} : { pulled }) };
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
    ...(rejected.length === 0 ? {} : { rejected: uniqueRejections(rejected) }),
  };
}

/** Each rejected name once (a listing may repeat a name across pages), in a stable order. */
function uniqueRejections(rejected: readonly SkippedName[]): SkippedName[] {
  const byKey = new Map(rejected.map((entry) => [`${entry.kind} ${entry.tag ?? ''} ${entry.name}`, entry]));
  return [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry);
}

/** True when a listed tag record's tag and digest both follow the grammar; otherwise it is recorded as rejected. */
function acceptTagRecord(repo: string, record: TagRecord, rejected: SkippedName[]): boolean {
  if (!isValidTag(record.tag)) {
    rejected.push({ repo, kind: 'tag', name: quoteName(record.tag), reason: INVALID_TAG_REASON });
    return false;
  }
  if (!isValidDigest(record.digest)) {
    rejected.push({ repo, kind: 'digest', name: quoteName(record.digest), tag: record.tag, reason: INVALID_DIGEST_REASON });
    return false;
  }
  return true;
}

/**
 * Lists tag names, then resolves each valid one to its digest (one HEAD per tag); tags gone meanwhile are dropped,
 * and names that fail the tag grammar go to `rejected` without a request.
 */
async function resolveTags(target: { repo: string; name: string; driver: Driver }, options: InventoryOptions & { rejected: SkippedName[] }): Promise<TagRecord[]> {
  const { repo, name, driver } = target;
  const names = (await options.limit(() => driver.listTags(name))).filter((tag) => {
    if (isValidTag(tag)) return true;
    options.rejected.push({ repo, kind: 'tag', name: quoteName(tag), reason: INVALID_TAG_REASON });
    return false;
  });
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

/**
 * Facts of one digest (and its creation time: from its annotation, its newest child, or its image config), derived
 * from content that is either in the cache and hashes to its digest, or read from the registry (and then cached).
 */
async function manifestFacts(driver: Driver & ManifestReader, name: string, digest: string, cache: ManifestCache): Promise<DatedManifestFacts | undefined> {
  const known = cache.recall(digest);
  if (known) return known;
  const content = await readManifestContent(driver, name, digest, cache);
  if (!content) return undefined;
  const created = await createdTime(content.created, { driver, name, cache });
  const entry: DatedManifestFacts = { ...content.facts, ...(created === undefined ? {} : { created }) };
  cache.remember(digest, entry);
  return entry;
}

/** The creation time a manifest's content points to: its annotation, its newest child's, or its image config's. */
async function createdTime(source: CreatedSource, from: { driver: Driver & ManifestReader; name: string; cache: ManifestCache }): Promise<string | undefined> {
  if (source === undefined) return undefined;
  if ('annotation' in source) return source.annotation;
  if ('children' in source) {
    const children = await Promise.all(source.children.map((child) => manifestFacts(from.driver, from.name, child, from.cache)));
    return children.map((c) => c?.created).filter((t): t is string => t !== undefined).sort().at(-1);
  }
  return configCreated(await readConfigBytes(from.driver, from.name, source.config, from.cache));
}

/** What a manifest's content says: the cached bytes when they verify, else the registry's (cached for next time). */
async function readManifestContent(driver: ManifestReader, name: string, digest: string, cache: ManifestCache): Promise<ManifestContent | undefined> {
  const cached = await cache.read('manifest', digest);
  const fromCache = cached && manifestContent(cached);
  if (fromCache) return fromCache;
  let bytes: Uint8Array;
  try {
    bytes = (await driver.readManifest(name, digest)).bytes;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined; // deleted since it was listed
    throw error;
  }
  const content = manifestContent(bytes);
  if (!content) throw new RegplanError(`manifest "${name}@${digest}" is not a JSON object`, { context: { ref: digest }, hint: 'inspect it with skopeo inspect --raw' });
  await cache.store('manifest', digest, bytes);
  return content;
}

/** An image config's bytes: the cached ones when they verify, else the registry's (cached for next time). */
async function readConfigBytes(driver: ManifestReader, name: string, config: Descriptor, cache: ManifestCache): Promise<Uint8Array> {
  const cached = await cache.read('config', config.digest);
  if (cached) return cached;
  const bytes = await driver.readImageConfig(name, config);
  await cache.store('config', config.digest, bytes);
  return bytes;
}
