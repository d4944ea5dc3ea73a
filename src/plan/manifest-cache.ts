/**
 * An on-disk cache of what a manifest digest says (media type, children, subject, created time). Digests are
 * immutable, so an entry never goes stale: a second plan needs about one request per tag (the HEAD that tells
 * the tag's current digest) instead of three.
 */
import { path, pathExists, readTextFile, writeFileAtomic } from '../runtime.ts';
import type { ManifestFacts } from '../model/inventory.ts';

/** What inventory caches per digest: the facts plus the image's creation time when the config gave one. */
export interface CachedManifest extends ManifestFacts {
  created?: string;
}

/** The cache directory: `$REGPLAN_CACHE_DIR`, else `$XDG_CACHE_HOME/regplan`, else `~/.cache/regplan`. */
export function manifestCacheDir(env: Readonly<Record<string, string | undefined>>, home: string): string {
  return env['REGPLAN_CACHE_DIR'] ?? path.join(env['XDG_CACHE_HOME'] ?? path.join(home, '.cache'), 'regplan');
}

/** A digest-keyed cache; `undefined` dir disables it (memory only). */
export class ManifestCache {
  readonly #dir: string | undefined;
  readonly #memory = new Map<string, CachedManifest>();

  constructor(dir: string | undefined) {
    this.#dir = dir;
  }

  #file(digest: string): string | undefined {
    const [algorithm, encoded] = digest.split(':');
    if (!this.#dir || !algorithm || !encoded || !/^[a-z0-9]+$/.test(algorithm) || !/^[a-f0-9]+$/.test(encoded)) return undefined;
    return path.join(this.#dir, 'manifests', algorithm, `${encoded}.json`);
  }

  /** The cached facts of a digest, or undefined. A corrupt entry counts as a miss. */
  async get(digest: string): Promise<CachedManifest | undefined> {
    const inMemory = this.#memory.get(digest);
    if (inMemory) return inMemory;
    const file = this.#file(digest);
    if (!file || !(await pathExists(file))) return undefined;
    try {
      const entry = JSON.parse(await readTextFile(file)) as CachedManifest;
      if (typeof entry.mediaType !== 'string' || !Array.isArray(entry.children)) return undefined;
      this.#memory.set(digest, entry);
      return entry;
    } catch {
      return undefined;
    }
  }

  /** Stores the facts of a digest (best effort: a read-only cache dir only costs requests next time). */
  async set(digest: string, entry: CachedManifest): Promise<void> {
    this.#memory.set(digest, entry);
    const file = this.#file(digest);
    if (!file) return;
    try {
      await writeFileAtomic(file, JSON.stringify(entry));
    } catch {
      // caching is an optimisation; never fail a plan over it
    }
  }
}
