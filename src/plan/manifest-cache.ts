/**
 * An on-disk cache of content by digest: the exact bytes of manifests (`manifests/<algorithm>/<hex>`) and of image
 * configs (`configs/<algorithm>/<hex>`). Digests are immutable, so an entry never goes stale: a second plan needs
 * about one request per tag (the HEAD that tells the tag's current digest) instead of three.
 *
 * The cache holds content, never facts: inventory derives media type, children, subject and created time from the
 * bytes (plan/manifest-facts.ts), on a fresh read and on a cached one alike. Every read hashes the file with the
 * algorithm its digest names and compares; a file that does not match — edited, forged, torn, or copied under
 * another digest's name — is a miss (with a debug line) and the content is read from the registry again. No key is
 * needed, so whoever can write the cache (a restored CI cache, a shared directory) can only put in content that
 * is what its digest says. Digests of an algorithm regplan cannot compute are not cached. Files are 0600 and the
 * directories regplan creates 0700, whatever the umask; writes are atomic.
 *
 * Beside the content, one file per repo (`tags/<sha256 of the repo address>.json`) remembers which digest each tag
 * had in the last plan. It is a hint, never a fact: it only picks the request that reads a tag — a HEAD where the
 * tag was seen before (its manifest is most likely cached, so only the digest is needed), a GET by tag otherwise
 * (digest and manifest in one request). The digest always comes from the registry, so an edited or forged hint file
 * can cost requests but cannot change a plan.
 */
import { createHash } from 'node:crypto';
import { isValidDigest, isValidTag } from '../model/names.ts';
import { matchesDigest } from '../registry/digest.ts';
import { BODY_LIMITS } from '../registry/body.ts';
import { FileRefusedError, makePrivateDir, path, readBytesCapped, writeFileAtomic } from '../runtime.ts';
import type { DatedManifestFacts } from './manifest-facts.ts';

/** The kinds of content the cache holds, each under its own directory and size cap (the client's body limits). */
export type CachedContent = 'manifest' | 'config';

const STORE: Record<CachedContent, { dir: string; maxBytes: number; what: string }> = {
  manifest: { dir: 'manifests', maxBytes: BODY_LIMITS.manifest, what: 'manifest' },
  config: { dir: 'configs', maxBytes: BODY_LIMITS.config, what: 'image config' },
};

/** The largest tag hint file read (about 150 bytes a tag: a million tags). */
const TAG_HINTS_MAX_BYTES = 160 << 20;

/** The digest algorithms whose content the cache can check (model/names.ts pins their lengths). */
const VERIFIABLE = new Set(['sha256', 'sha512']);

/** The cache directory: `$REGPLAN_CACHE_DIR`, else `$XDG_CACHE_HOME/regplan`, else `~/.cache/regplan`. */
export function manifestCacheDir(env: Readonly<Record<string, string | undefined>>, home: string): string {
  return env['REGPLAN_CACHE_DIR'] ?? path.join(env['XDG_CACHE_HOME'] ?? path.join(home, '.cache'), 'regplan');
}

/** A digest-keyed content cache; `undefined` dir disables the disk (facts are still remembered in memory). */
export class ManifestCache {
  readonly #dir: string | undefined;
  readonly #debug: ((line: string) => void) | undefined;
  readonly #facts = new Map<string, DatedManifestFacts>();

  constructor(dir: string | undefined, options: { debug?: (line: string) => void } = {}) {
    this.#dir = dir;
    this.#debug = options.debug;
  }

  /** The file of a digest's content; undefined when caching is off or the digest is not one regplan can verify. */
  #file(kind: CachedContent, digest: string): string | undefined {
    const [algorithm = '', encoded = ''] = digest.split(':');
    if (!this.#dir || !VERIFIABLE.has(algorithm) || !isValidDigest(digest)) return undefined;
    return path.join(this.#dir, STORE[kind].dir, algorithm, encoded);
  }

  /** The cached bytes of a digest's content when they hash to it; undefined (a miss) otherwise. */
  async read(kind: CachedContent, digest: string): Promise<Uint8Array | undefined> {
    const file = this.#file(kind, digest);
    if (!file) return undefined;
    const { maxBytes, what } = STORE[kind];
    let bytes: Uint8Array;
    try {
      bytes = await readBytesCapped(file, { maxBytes, regularOnly: true });
    } catch (error) {
      // not cached, or unreadable: the same. A file refused for its kind or size is worth a word.
      if (error instanceof FileRefusedError) this.#debug?.(`manifest cache entry for ${digest} (${what}, ${file}) is refused: ${error.message}; reading it from the registry again`);
      return undefined;
    }
    if (!matchesDigest(bytes, digest, { strict: true })) {
      this.#debug?.(`manifest cache entry for ${digest} (${what}, ${file}) does not hash to its digest (edited, forged or damaged); reading it from the registry again`);
      return undefined;
    }
    return bytes;
  }

  /** Stores content under its digest (best effort: a read-only cache dir only costs requests next time). */
  async store(kind: CachedContent, digest: string, bytes: Uint8Array): Promise<void> {
    const file = this.#file(kind, digest);
    if (!file || bytes.byteLength > STORE[kind].maxBytes || !matchesDigest(bytes, digest, { strict: true })) return;
    try {
      await makePrivateDir(path.dirname(file));
      await writeFileAtomic(file, bytes, { mode: 0o600 });
    } catch {
      // caching is an optimisation; never fail a plan over it
    }
  }

  /** Facts derived from verified content earlier in this process (memory only: they are never written). */
  recall(digest: string): DatedManifestFacts | undefined {
    return this.#facts.get(digest);
  }

  /** Remembers the facts derived for a digest for the rest of this process. */
  remember(digest: string, facts: DatedManifestFacts): void {
    this.#facts.set(digest, facts);
  }

  /** The tag -> digest hints of `repo` from the last plan (see the module comment); empty when there are none. */
  async readTagHints(repo: string): Promise<Map<string, string>> {
    const hints = new Map<string, string>();
    const file = this.#tagHintsFile(repo);
    if (!file) return hints;
    try {
      const parsed = JSON.parse(new TextDecoder().decode(await readBytesCapped(file, { maxBytes: TAG_HINTS_MAX_BYTES, regularOnly: true }))) as unknown;
      if (typeof parsed === 'object' && parsed !== null) {
        for (const [tag, digest] of Object.entries(parsed)) if (isValidTag(tag) && typeof digest === 'string' && isValidDigest(digest)) hints.set(tag, digest);
      }
    } catch {
      // no hints yet, or unreadable ones: every tag is read by GET, which costs nothing extra on a cold cache
    }
    return hints;
  }

  /** Remembers each tag's digest of `repo` for the next plan (best effort, like `store`). */
  async storeTagHints(repo: string, tags: readonly { tag: string; digest: string }[]): Promise<void> {
    const file = this.#tagHintsFile(repo);
    if (!file) return;
    const hints = Object.create(null) as Record<string, string>; // a tag may be named __proto__
    for (const { tag, digest } of tags) hints[tag] = digest;
    try {
      await makePrivateDir(path.dirname(file));
      await writeFileAtomic(file, JSON.stringify(hints), { mode: 0o600 });
    } catch {
      // a hint only saves requests next time
    }
  }

  #tagHintsFile(repo: string): string | undefined {
    return this.#dir === undefined ? undefined : path.join(this.#dir, 'tags', `${createHash('sha256').update(repo).digest('hex')}.json`);
  }
}
