/**
 * An on-disk cache of what a manifest digest says (media type, children, subject, created time). Digests are
 * immutable, so an entry never goes stale: a second plan needs about one request per tag (the HEAD that tells
 * the tag's current digest) instead of three.
 *
 * The facts are derived (the created time comes from the image config), so they cannot be re-hashed to their
 * digest; instead each entry is sealed: an HMAC-SHA256 over the digest and the exact facts text, keyed by a random
 * per-cache key (`key`, 0600). An entry that does not verify — edited, torn, or copied under another digest's
 * name — is ignored (with a debug line) and read from the registry again, so a cache edit can never turn a kept
 * tag into a deletion. Files are 0600 and the directories regplan creates 0700, whatever the umask; the seal
 * guards against whoever can write the cache but not read its key (a shared or restored cache directory).
 */
import { Buffer } from 'node:buffer';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ManifestFacts } from '../model/inventory.ts';
import { createFileExclusive, makePrivateDir, path, readTextFile, writeFileAtomic } from '../runtime.ts';

/** What inventory caches per digest: the facts plus the image's creation time when the config gave one. */
export interface CachedManifest extends ManifestFacts {
  created?: string;
}

/** The cache directory: `$REGPLAN_CACHE_DIR`, else `$XDG_CACHE_HOME/regplan`, else `~/.cache/regplan`. */
export function manifestCacheDir(env: Readonly<Record<string, string | undefined>>, home: string): string {
  return env['REGPLAN_CACHE_DIR'] ?? path.join(env['XDG_CACHE_HOME'] ?? path.join(home, '.cache'), 'regplan');
}

/** One entry file: the facts as exact JSON text, the digest they belong to, and the seal over both. */
interface SealedEntry {
  v: 2;
  digest: string;
  facts: string;
  mac: string;
}

/** A digest-keyed cache; `undefined` dir disables it (memory only). */
export class ManifestCache {
  readonly #dir: string | undefined;
  readonly #debug: ((line: string) => void) | undefined;
  readonly #memory = new Map<string, CachedManifest>();
  #key: Promise<Buffer | undefined> | undefined;

  constructor(dir: string | undefined, options: { debug?: (line: string) => void } = {}) {
    this.#dir = dir;
    this.#debug = options.debug;
  }

  #file(digest: string): string | undefined {
    const [algorithm, encoded] = digest.split(':');
    if (!this.#dir || !algorithm || !encoded || !/^[a-z0-9]+$/.test(algorithm) || !/^[a-f0-9]+$/.test(encoded)) return undefined;
    return path.join(this.#dir, 'manifests', algorithm, `${encoded}.json`);
  }

  /** The cached facts of a digest, or undefined. An entry that fails its seal or shape counts as a miss. */
  async get(digest: string): Promise<CachedManifest | undefined> {
    const inMemory = this.#memory.get(digest);
    if (inMemory) return inMemory;
    const file = this.#file(digest);
    if (!file) return undefined;
    let text: string;
    try {
      text = await readTextFile(file);
    } catch {
      return undefined; // not cached (or unreadable: the same)
    }
    const key = await this.#secretKey();
    const entry = key === undefined ? undefined : verified(text, digest, key);
    if (entry === undefined) {
      this.#debug?.(`manifest cache entry for ${digest} (${file}) does not verify (edited, damaged or of an older format); reading it from the registry again`);
      return undefined;
    }
    this.#memory.set(digest, entry);
    return entry;
  }

  /** Stores the facts of a digest (best effort: a read-only cache dir only costs requests next time). */
  async set(digest: string, entry: CachedManifest): Promise<void> {
    this.#memory.set(digest, entry);
    const file = this.#file(digest);
    if (!file) return;
    try {
      const key = await this.#secretKey();
      if (key === undefined) return;
      const facts = JSON.stringify(entry);
      const sealed: SealedEntry = { v: 2, digest, facts, mac: seal(key, digest, facts) };
      await writeFileAtomic(file, JSON.stringify(sealed), { mode: 0o600, dirMode: 0o700 });
    } catch {
      // caching is an optimisation; never fail a plan over it
    }
  }

  /** The cache's sealing key, made on first use (0600); undefined when it can be neither read nor made. */
  #secretKey(): Promise<Buffer | undefined> {
    this.#key ??= (async () => {
      const dir = this.#dir as string;
      const file = path.join(dir, 'key');
      try {
        await makePrivateDir(dir);
        await createFileExclusive(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
        const key = Buffer.from((await readTextFile(file)).trim(), 'hex');
        if (key.length < 16) throw new Error('the key file is too short');
        return key;
      } catch (error) {
        this.#debug?.(`manifest cache key ${file} cannot be read or made (${error instanceof Error ? error.message : String(error)}); caching in memory only`);
        return undefined;
      }
    })();
    return this.#key;
  }
}

/** HMAC-SHA256 of an entry, hex. */
const seal = (key: Buffer, digest: string, facts: string): string => createHmac('sha256', key).update(`regplan manifest cache v2\n${digest}\n${facts}`).digest('hex');

/** The facts of an entry file when it is sealed for `digest` with `key` and well-formed; otherwise undefined. */
function verified(text: string, digest: string, key: Buffer): CachedManifest | undefined {
  try {
    const entry = JSON.parse(text) as Partial<SealedEntry>;
    if (entry.v !== 2 || entry.digest !== digest || typeof entry.facts !== 'string' || typeof entry.mac !== 'string') return undefined;
    const expected = Buffer.from(seal(key, digest, entry.facts), 'hex');
    const given = Buffer.from(entry.mac, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const facts = JSON.parse(entry.facts) as CachedManifest;
    if (typeof facts.mediaType !== 'string' || !Array.isArray(facts.children)) return undefined;
    return facts;
  } catch {
    return undefined;
  }
}
