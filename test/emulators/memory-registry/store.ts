/**
 * The content of the in-memory registry: repositories with tags and manifests, and blobs stored once by digest
 * and linked into each repository that holds them (so a cross-repo mount has something to find). Routes and
 * vendor emulators change it through these methods; tests read and seed it directly, without HTTP.
 */
import { MediaType } from '../../../src/registry/oci.ts';
import { buildTestImage, sha256Digest } from '../../harness/layout.ts';

/** A manifest as stored: exact bytes, the media type it was pushed with, and what it references. */
export interface StoredManifest {
  digest: string;
  bytes: Uint8Array;
  mediaType: string;
  /** When this digest first arrived in the repository. */
  pushedAt: Date;
  /** Digest of the `subject` (referrers), when it has one. */
  subject?: string;
  /** `artifactType`, else the config media type of an image manifest (what the referrers API reports). */
  artifactType?: string;
  annotations?: Record<string, string>;
  /** Blobs it references (config, layers) and manifests it references (index children). */
  blobs: string[];
  children: string[];
}

/** One repository. `tagPushedAt` is when each tag last moved to a different digest (or was created). */
export interface StoredRepo {
  tags: Map<string, string>;
  manifests: Map<string, StoredManifest>;
  tagPushedAt: Map<string, Date>;
  /** Last pull per tag and per manifest digest (`recordPull`), for the vendor APIs that report pull times. */
  tagPulledAt?: Map<string, Date>;
  manifestPulledAt?: Map<string, Date>;
  /** Blobs linked into this repository (uploaded, mounted or seeded here). */
  blobs: Set<string>;
}

/** A tag as `tags()` reports it. */
export interface StoredTag {
  tag: string;
  digest: string;
  pushedAt: Date;
}

/** What `seedImage` built. */
export interface SeededMemoryImage {
  digest: string;
  mediaType: string;
  /** Digest of each platform manifest, keyed `os/arch[/variant]`. */
  platformDigests: Record<string, string>;
}

const DIGEST_PATTERN = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** True when `ref` has the shape of a digest (`sha256:...`) rather than a tag. */
export const isDigestRef = (ref: string): boolean => DIGEST_PATTERN.test(ref);

/** The references a manifest's JSON makes, parsed leniently (a manifest that is not JSON references nothing). */
export function manifestReferences(bytes: Uint8Array): Pick<StoredManifest, 'blobs' | 'children'> & { subject?: string; artifactType?: string; annotations?: Record<string, string> } {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return { blobs: [], children: [] };
  }
  const digestOf = (d: unknown): string | undefined => (typeof d === 'object' && d !== null && typeof (d as { digest?: unknown }).digest === 'string' ? (d as { digest: string }).digest : undefined);
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(digestOf).filter((d): d is string => d !== undefined) : []);
  const config = parsed['config'] as { mediaType?: unknown } | undefined;
  const configDigest = digestOf(config);
  const subject = digestOf(parsed['subject']);
  const artifactType = typeof parsed['artifactType'] === 'string' ? parsed['artifactType'] : typeof config?.mediaType === 'string' ? config.mediaType : undefined;
  const annotations = typeof parsed['annotations'] === 'object' && parsed['annotations'] !== null ? (parsed['annotations'] as Record<string, string>) : undefined;
  return {
    blobs: [...(configDigest === undefined ? [] : [configDigest]), ...list(parsed['layers']), ...list(parsed['blobs'])],
    children: list(parsed['manifests']),
    ...(subject === undefined ? {} : { subject }),
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(annotations === undefined ? {} : { annotations }),
  };
}

/** All repositories, manifests, tags and blobs of one in-memory registry. */
export class RegistryStore {
  readonly #repos = new Map<string, StoredRepo>();
  readonly #blobs = new Map<string, Uint8Array>();
  readonly #clock: () => Date;

  /** `clock` stamps push times (default: the real time). */
  constructor(options: { clock?: () => Date } = {}) {
    this.#clock = options.clock ?? (() => new Date());
  }

  /**
   * Repository names, sorted: by default those that hold at least one manifest (what `_catalog` lists); with
   * `includeEmpty`, every repository ever created (ECR repositories exist on their own, images or not).
   */
  repos(options: { includeEmpty?: boolean } = {}): string[] {
    return [...this.#repos].filter(([, r]) => options.includeEmpty === true || r.manifests.size > 0).map(([name]) => name).sort();
  }

  /** The raw repository record, or undefined; `create` makes an empty one. */
  repo(name: string, options: { create?: boolean } = {}): StoredRepo | undefined {
    let repo = this.#repos.get(name);
    if (repo === undefined && options.create === true) {
      repo = { tags: new Map(), manifests: new Map(), tagPushedAt: new Map(), blobs: new Set() };
      this.#repos.set(name, repo);
    }
    return repo;
  }

  /**
   * Records a pull of `ref` (a tag or digest) at `at`, as a registry does when a client GETs the manifest: the
   * manifest's last pull, and the tag's when pulled by tag. Tests call it; the emulators' own GETs do not, so a
   * plan's reads never move the times a test set.
   */
  recordPull(repo: string, ref: string, at: Date): void {
    const r = this.#repos.get(repo);
    const manifest = this.resolve(repo, ref);
    if (r === undefined || manifest === undefined) throw new Error(`recordPull: ${repo}:${ref} does not exist`);
    (r.manifestPulledAt ??= new Map()).set(manifest.digest, at);
    if (!isDigestRef(ref)) (r.tagPulledAt ??= new Map()).set(ref, at);
  }

  /** The last recorded pull of a tag, or of a manifest by digest; undefined when never pulled. */
  lastPull(repo: string, ref: string): Date | undefined {
    const r = this.#repos.get(repo);
    return isDigestRef(ref) ? r?.manifestPulledAt?.get(ref) : r?.tagPulledAt?.get(ref);
  }

  /** A repo's tags sorted by name, with digest and push time. */
  tags(repo: string): StoredTag[] {
    const r = this.#repos.get(repo);
    if (r === undefined) return [];
    return [...r.tags.keys()].sort().map((tag) => ({ tag, digest: r.tags.get(tag) ?? '', pushedAt: r.tagPushedAt.get(tag) ?? new Date(0) }));
  }

  /** Every manifest of a repo (tagged or not). */
  manifests(repo: string): StoredManifest[] {
    return [...(this.#repos.get(repo)?.manifests.values() ?? [])];
  }

  /** One manifest by digest, or undefined. */
  manifest(repo: string, digest: string): StoredManifest | undefined {
    return this.#repos.get(repo)?.manifests.get(digest);
  }

  /** The manifest a tag or digest names, or undefined. */
  resolve(repo: string, ref: string): StoredManifest | undefined {
    const r = this.#repos.get(repo);
    if (r === undefined) return undefined;
    const digest = isDigestRef(ref) ? ref : r.tags.get(ref);
    return digest === undefined ? undefined : r.manifests.get(digest);
  }

  /** Tags pointing at `digest`, sorted. */
  tagsOf(repo: string, digest: string): string[] {
    return this.tags(repo).filter((t) => t.digest === digest).map((t) => t.tag);
  }

  /** Stores a manifest as-is (no reference checks; routes check) under a tag or by digest; returns its digest. */
  putManifest(repo: string, ref: string, bytes: Uint8Array, mediaType: string, at?: Date): string {
    const r = this.repo(repo, { create: true }) as StoredRepo;
    const digest = sha256Digest(bytes);
    const now = at ?? this.#clock();
    if (!r.manifests.has(digest)) {
      r.manifests.set(digest, { digest, bytes: new Uint8Array(bytes), mediaType, pushedAt: now, ...manifestReferences(bytes) });
    }
    if (!isDigestRef(ref)) {
      if (r.tags.get(ref) !== digest) r.tagPushedAt.set(ref, now);
      r.tags.set(ref, digest);
    }
    this.#blobs.set(digest, new Uint8Array(bytes)); // distribution also serves manifests as blobs
    return digest;
  }

  /** Removes a manifest and every tag on it; false when it was not there. */
  deleteManifest(repo: string, digest: string): boolean {
    const r = this.#repos.get(repo);
    if (r === undefined || !r.manifests.delete(digest)) return false;
    for (const [tag, d] of r.tags) {
      if (d === digest) {
        r.tags.delete(tag);
        r.tagPushedAt.delete(tag);
      }
    }
    return true;
  }

  /** Removes one tag and leaves its manifest; false when the tag was not there. */
  untag(repo: string, tag: string): boolean {
    const r = this.#repos.get(repo);
    if (r === undefined || !r.tags.delete(tag)) return false;
    r.tagPushedAt.delete(tag);
    return true;
  }

  /** Digests of manifests with no tag, sorted. */
  untagged(repo: string): string[] {
    const r = this.#repos.get(repo);
    if (r === undefined) return [];
    const tagged = new Set(r.tags.values());
    return [...r.manifests.keys()].filter((d) => !tagged.has(d)).sort();
  }

  /** Stores a blob (and links it into `repo` when given); returns its digest. */
  putBlob(bytes: Uint8Array, repo?: string): string {
    const digest = sha256Digest(bytes);
    this.#blobs.set(digest, new Uint8Array(bytes));
    if (repo !== undefined) this.linkBlob(repo, digest);
    return digest;
  }

  /** Makes an existing blob part of `repo` (a mount). */
  linkBlob(repo: string, digest: string): void {
    (this.repo(repo, { create: true }) as StoredRepo).blobs.add(digest);
  }

  /** Removes a blob from `repo` (its bytes stay for other repos); false when it was not linked. */
  unlinkBlob(repo: string, digest: string): boolean {
    return this.#repos.get(repo)?.blobs.delete(digest) ?? false;
  }

  /** True when the blob exists anywhere, or, with `repo`, is linked into that repository. */
  hasBlob(digest: string, repo?: string): boolean {
    if (!this.#blobs.has(digest)) return false;
    return repo === undefined || (this.#repos.get(repo)?.blobs.has(digest) ?? false);
  }

  /** A blob's bytes, or undefined. */
  blob(digest: string): Uint8Array | undefined {
    return this.#blobs.get(digest);
  }

  /** What a manifest references that `repo` lacks: blobs not linked there and child manifests not stored there. */
  missingReferences(repo: string, bytes: Uint8Array): string[] {
    const { blobs, children } = manifestReferences(bytes);
    return [...blobs.filter((d) => !this.hasBlob(d, repo)), ...children.filter((d) => this.manifest(repo, d) === undefined)];
  }

  /** Manifests of `repo` whose subject is `digest` (the referrers API). */
  referrers(repo: string, digest: string): StoredManifest[] {
    return this.manifests(repo).filter((m) => m.subject === digest).sort((a, b) => a.digest.localeCompare(b.digest));
  }

  /**
   * Builds a tiny OCI image (or an index for two or more platforms) with test/harness/layout.ts and stores it
   * under `tags`; distinct `content` gives distinct digests (default `<repo>:<first tag>`).
   */
  seedImage(repo: string, tags: readonly string[], options: { created?: Date; pushedAt?: Date; content?: string; platforms?: readonly string[] } = {}): SeededMemoryImage {
    const image = buildTestImage({
      ...(options.created === undefined ? {} : { created: options.created }),
      ...(options.platforms === undefined ? {} : { platforms: options.platforms }),
      content: options.content ?? `${repo}:${tags[0] ?? 'untagged'}`,
    });
    const manifestDigests = new Set([image.descriptor.digest, ...Object.values(image.platformDigests)]);
    for (const [digest, bytes] of image.blobs) if (!manifestDigests.has(digest)) this.putBlob(bytes, repo);
    const at = options.pushedAt ?? this.#clock();
    for (const digest of Object.values(image.platformDigests)) {
      if (digest !== image.descriptor.digest) this.putManifest(repo, digest, image.blobs.get(digest) as Uint8Array, MediaType.ociManifest, at);
    }
    const top = image.blobs.get(image.descriptor.digest) as Uint8Array;
    this.putManifest(repo, image.descriptor.digest, top, image.descriptor.mediaType, at);
    for (const tag of tags) this.putManifest(repo, tag, top, image.descriptor.mediaType, at);
    return { digest: image.descriptor.digest, mediaType: image.descriptor.mediaType, platformDigests: image.platformDigests };
  }
}
