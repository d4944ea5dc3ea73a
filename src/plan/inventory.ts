/**
 * Inventory: reads what a repo holds, through its driver, into the plain data the evaluator decides on.
 * Per tag: digest (the native listing; else a GET by tag, which brings the manifest too, or a HEAD where the last
 * plan saw the tag and its manifest is likely cached) and push time (native listing, else the image config's
 * `created`, cached by digest). Per manifest: children and subject, so related content follows what it belongs to.
 * Each manifest and each config is read at most once per repo, however many tags share it (single-flight by digest).
 * Requests to one host run at most `concurrency` at a time, and a repo is worked through by that many workers, so
 * memory grows with the tags' records, not with a pending promise per tag. Every push time, whatever its source
 * (a native listing, a config's `created`, an annotation), passes `plausiblePushTime` here and nowhere else: a
 * zeroed or future time becomes unknown, which keeps the tag.
 * Names from the registry are hostile until checked: a tag or digest that fails the distribution grammar
 * (model/names.ts) is never resolved, read or deleted; it goes to `rejected` and the plan shows it as skipped.
 */
import pLimit from 'p-limit';
import { canListUntagged, canReadManifests, canUntagByPlaceholder, type Driver, type ManifestReader, hasDetailedListing } from '../drivers/driver.ts';
import { judgePullTime, parseTime, plausiblePushTime } from '../model/time.ts';
import { isValidDigest, isValidTag, quoteName } from '../model/names.ts';
import { isNotFound, RegplanError } from '../errors.ts';
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
  const reader = canReadManifests(driver) ? new ContentReader(driver, name, { cache, limit }) : undefined;
  const listed = hasDetailedListing(driver)
    ? await driver.listTagRecords(name)
    : await resolveTags(target, { ...options, rejected, reader });
  const tags = listed.filter((record) => acceptTagRecord(repo, record, rejected));
  const untagged: UntaggedRecord[] = (canListUntagged(driver) ? await driver.listUntagged(name) : []).filter((record) => {
    if (isValidDigest(record.digest)) return true;
    rejected.push({ repo, kind: 'digest', name: quoteName(record.digest), reason: INVALID_DIGEST_REASON });
    return false;
  });

  const manifests: Record<string, ManifestFacts> = {};
  const created = new Map<string, string>();
  if (reader) {
    const digests = [...new Set([...tags.map((t) => t.digest), ...untagged.map((u) => u.digest)])];
    const facts = new Map<string, DatedManifestFacts | undefined>();
    await eachWithWorkers(digests, limit.concurrency, async (digest) => void facts.set(digest, await reader.facts(digest)));
    for (const digest of digests) {
      const entry = facts.get(digest);
      if (!entry) continue;
      const { created: when, ...rest } = entry;
      manifests[digest] = rest; // in listing order, whatever order the reads finished in
      if (when) created.set(digest, when);
    }
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
    driver: {
      type: driver.type,
      untag: driver.capabilities.untag,
      ...(canUntagByPlaceholder(driver) ? { untagByPlaceholder: true } : {}),
      listUntagged: driver.capabilities.listUntagged && canReadManifests(driver),
    },
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
 * Runs `work` on each item with `workers` of them in flight at a time (a pool, not a promise per item: 100,000
 * tags would otherwise hold 100,000 pending closures at once). The first failure stops the pool and is thrown.
 */
async function eachWithWorkers<T>(items: readonly T[], workers: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, items.length)) }, worker));
}

/**
 * Lists tag names, then resolves each valid one to its digest; tags gone meanwhile are dropped, and names that
 * fail the tag grammar go to `rejected` without a request. A tag the last plan saw (the cache's tag hints) is
 * HEADed: its manifest is most likely cached, so the digest is all that is needed. Any other tag is read with one
 * GET by tag, whose body the client hashes and checks against Docker-Content-Digest; the digest and the manifest
 * come in that one request, and the manifest goes to the cache so it is not fetched again by digest. Each tag's
 * manifest facts are derived right after, so bytes read by tag are not held until every tag is resolved.
 */
async function resolveTags(
  target: { repo: string; name: string; driver: Driver },
  options: InventoryOptions & { rejected: SkippedName[]; reader: ContentReader | undefined },
): Promise<TagRecord[]> {
  const { repo, name, driver } = target;
  const { limit, cache, reader } = options;
  const names = (await limit(() => driver.listTags(name))).filter((tag) => {
    if (isValidTag(tag)) return true;
    options.rejected.push({ repo, kind: 'tag', name: quoteName(tag), reason: INVALID_TAG_REASON });
    return false;
  });
  const hints = reader ? await cache.readTagHints(repo) : new Map<string, string>();
  const records: TagRecord[] = [];
  let done = 0;
  await eachWithWorkers(names, limit.concurrency, async (tag) => {
    const descriptor = reader && !hints.has(tag) ? await reader.readTag(tag) : await limit(() => driver.resolveTag(name, tag));
    if (descriptor) {
      records.push({ tag, digest: descriptor.digest, mediaType: descriptor.mediaType });
      if (reader && isValidDigest(descriptor.digest)) await reader.facts(descriptor.digest); // while a manifest read by tag is at hand
    }
    options.progress?.({ repo, done: ++done, total: names.length });
  });
  const order = new Map(names.map((tag, i) => [tag, i]));
  records.sort((a, b) => (order.get(a.tag) ?? 0) - (order.get(b.tag) ?? 0));
  if (reader) await cache.storeTagHints(repo, records);
  return records;
}

/**
 * Reads one repo's manifests and configs through the host's limiter, each digest at most once: concurrent asks
 * for the same manifest or config share one request (many tags on one digest, an index's children also listed
 * as tags, manifests sharing a config), and finished facts are remembered in the cache for the process.
 */
class ContentReader {
  readonly #driver: Driver & ManifestReader;
  readonly #name: string;
  readonly #cache: ManifestCache;
  readonly #limit: ReturnType<typeof pLimit>;
  readonly #facts = new Map<string, Promise<DatedManifestFacts | undefined>>();
  readonly #configs = new Map<string, Promise<string | undefined>>();
  /** Manifest bytes read by tag, waiting for their facts to be derived (dropped once they are). */
  readonly #fresh = new Map<string, Uint8Array>();

  constructor(driver: Driver & ManifestReader, name: string, options: { cache: ManifestCache; limit: ReturnType<typeof pLimit> }) {
    this.#driver = driver;
    this.#name = name;
    this.#cache = options.cache;
    this.#limit = options.limit;
  }

  /** A tag's descriptor from one GET by tag (verified by the driver), its manifest kept for `facts`; undefined when gone. */
  async readTag(tag: string): Promise<Descriptor | undefined> {
    let read: Awaited<ReturnType<ManifestReader['readManifest']>>;
    try {
      read = await this.#limit(() => this.#driver.readManifest(this.#name, tag));
    } catch (error) {
      if (isNotFound(error)) return undefined; // deleted since it was listed
      throw error;
    }
    const { digest } = read.descriptor;
    if (this.#cache.recall(digest) === undefined && !this.#facts.has(digest)) {
      this.#fresh.set(digest, read.bytes);
      await this.#cache.store('manifest', digest, read.bytes);
    }
    return read.descriptor;
  }

  /**
   * Facts of one digest (and its creation time: from its annotation, its newest child, or its image config),
   * derived from content that is either in the cache and hashes to its digest, or read from the registry (and
   * then cached).
   */
  facts(digest: string): Promise<DatedManifestFacts | undefined> {
    const known = this.#cache.recall(digest);
    if (known) return Promise.resolve(known);
    let pending = this.#facts.get(digest);
    if (pending === undefined) {
      pending = this.#readFacts(digest);
      this.#facts.set(digest, pending);
    }
    return pending;
  }

  async #readFacts(digest: string): Promise<DatedManifestFacts | undefined> {
    const content = await this.#manifestContent(digest);
    if (!content) return undefined;
    const created = await this.#createdTime(content.created);
    const entry: DatedManifestFacts = { ...content.facts, ...(created === undefined ? {} : { created }) };
    this.#cache.remember(digest, entry);
    this.#facts.delete(digest); // remembered in the cache from now on
    return entry;
  }

  /** The creation time a manifest's content points to: its annotation, its newest child's, or its image config's. */
  async #createdTime(source: CreatedSource): Promise<string | undefined> {
    if (source === undefined) return undefined;
    if ('annotation' in source) return source.annotation;
    if ('children' in source) {
      const children = await Promise.all(source.children.map((child) => this.facts(child)));
      return children.map((c) => c?.created).filter((t): t is string => t !== undefined).sort().at(-1);
    }
    const config = source.config;
    let pending = this.#configs.get(config.digest);
    if (pending === undefined) {
      pending = this.#readConfigBytes(config).then(configCreated);
      this.#configs.set(config.digest, pending);
    }
    return pending;
  }

  /** What a manifest's content says: bytes just read by tag, the cached bytes when they verify, else the registry's (cached for next time). */
  async #manifestContent(digest: string): Promise<ManifestContent | undefined> {
    const fresh = this.#fresh.get(digest);
    if (fresh !== undefined) {
      this.#fresh.delete(digest);
      return this.#parsed(digest, fresh);
    }
    const cached = await this.#cache.read('manifest', digest);
    const fromCache = cached && manifestContent(cached);
    if (fromCache) return fromCache;
    let bytes: Uint8Array;
    try {
      bytes = (await this.#limit(() => this.#driver.readManifest(this.#name, digest))).bytes;
    } catch (error) {
      if (isNotFound(error)) return undefined; // deleted since it was listed
      throw error;
    }
    await this.#cache.store('manifest', digest, bytes);
    return this.#parsed(digest, bytes);
  }

  #parsed(digest: string, bytes: Uint8Array): ManifestContent {
    const content = manifestContent(bytes);
    if (!content) throw new RegplanError(`manifest "${this.#name}@${digest}" is not a JSON object`, { context: { ref: digest }, hint: 'inspect it with skopeo inspect --raw' });
    return content;
  }

  /** An image config's bytes: the cached ones when they verify, else the registry's (cached for next time). */
  async #readConfigBytes(config: Descriptor): Promise<Uint8Array> {
    const cached = await this.#cache.read('config', config.digest);
    if (cached) return cached;
    const bytes = await this.#limit(() => this.#driver.readImageConfig(this.#name, config));
    await this.#cache.store('config', config.digest, bytes);
    return bytes;
  }
}
