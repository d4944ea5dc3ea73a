/**
 * A local OCI image layout (`oci:<dir>` repos): `oci-layout`, `index.json` and content-addressed
 * `blobs/<alg>/<hex>`, as the image-spec describes them and as skopeo, oras, buildah and BuildKit write them.
 *
 * Tags are `org.opencontainers.image.ref.name` annotations on index.json entries. Every change to index.json is
 * a read-modify-write of the whole file published with an atomic rename, so a concurrent reader (skopeo, another
 * regplan) sees the old file or the new one, never half of one. Writers are serialised across processes by the
 * layout lock (`.regplan-lock` in the layout, see src/lock/file-lock.ts), held for each read-modify-write and for
 * a whole garbage collection and waited for up to `lockTimeoutMs`, so a cleanup and a push running side by side
 * never lose each other's edits. Edits asked for while one is being written are applied together in the next
 * write (one lock, one read, one rename for all of them), and each caller is answered only once the write that
 * carries its edit is published: thousands of deletions cost a few rewrites of index.json, not one each.
 *
 * Readers keep index.json parsed, with lookups by tag and by digest, and re-read it only when the file changed
 * (its `fileVersion`: inode, size and times, so another process's atomic rename is always seen); a plan of N tags
 * parses index.json once, not once per manifest. A read-modify-write and garbage collection always read the file
 * afresh under the lock. Removing a tag or manifest only edits index.json: the blobs stay until
 * `garbageCollect()` (apply calls it once after its deletions), so an interrupted apply never leaves index.json
 * pointing at missing content.
 *
 * A push's blobs are reachable from index.json only once its tagged manifest lands, so until then they are
 * leased (lease.ts): before relying on a blob, found present or about to be written, the pusher names it in its
 * lease, and garbage collection keeps every blob a live lease names.
 */
import { RegistryError, RegplanError } from '../errors.ts';
import { type Descriptor, type ImageIndex, type Manifest, isIndex, MediaType, OCI_LAYOUT_FILE, REF_NAME_ANNOTATION } from '../registry/oci.ts';
import { isValidTag } from '../registry/reference.ts';
import { describeOwner, waitForLock } from '../lock/file-lock.ts';
import {
  fileVersion, listDir, makeDir, path, readBytes, readFileChunks, readTextFile, removeFile, renameFile, statPath, tempSiblingName, writeFileAtomic,
  writeFileFromChunks,
} from '../runtime.ts';
import { digestLike, hashingStream, parseDigest, sha256Digest } from './digest.ts';
import { type GarbageReport, collectGarbage } from './gc.ts';
import { leasedDigests, PushLease } from './lease.ts';

/** The layout lock file, inside the layout directory. */
export const LAYOUT_LOCK_FILE = '.regplan-lock';
/** How long a layout change waits for another process's lock by default. */
const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

/** How a layout is opened: how long to wait for another process's lock, and where notices go. */
export interface LayoutOptions {
  /** How long a change waits for another process holding the layout lock (default 60 s). */
  lockTimeoutMs?: number;
  /** Told when a stale lock (its process died) was removed. */
  onNotice?: (line: string) => void;
  /** Told each time index.json is read or written (`--debug`), so its cost can be seen. */
  onDebug?: (line: string) => void;
}

/** A tag of the layout with the index.json entry that carries it. */
export interface TaggedDescriptor {
  tag: string;
  descriptor: Descriptor;
}

/** A manifest read back from the layout: its exact bytes (digests are over bytes) and the parsed form. */
export interface StoredManifest {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
  manifest: Manifest;
}

/** Where `putBlob` takes content from: bytes in memory, or a file streamed from disk (large layers). */
export type BlobSource = Uint8Array | { path: string };

const tagOf = (descriptor: Descriptor): string | undefined => descriptor.annotations?.[REF_NAME_ANNOTATION];

/** index.json parsed, with the lookups readers need; shared by every reader until the file changes, never mutated. */
interface IndexSnapshot {
  index: ImageIndex;
  /** Every tagged entry, in index.json order (a duplicated tag appears twice). */
  tagged: TaggedDescriptor[];
  /** The first entry of each tag (the one `resolveTag` answers) and of each digest. */
  byTag: Map<string, Descriptor>;
  byDigest: Map<string, Descriptor>;
}

/** An index.json edit waiting for the next write, and how to answer its caller. */
interface QueuedEdit {
  change: (entries: Descriptor[]) => Descriptor[];
  done: () => void;
  failed: (error: unknown) => void;
}

/** One OCI image layout directory; build it with `OciLayout.open` or `OciLayout.create`. */
export class OciLayout {
  /** The layout directory as given (relative paths resolve against the working directory). */
  readonly dir: string;
  readonly #options: LayoutOptions;
  #mutations: Promise<unknown> = Promise.resolve();
  /** The lease of this instance's push in progress (see lease.ts). */
  #lease: PushLease | undefined;
  /** The parsed index.json and the file version it was read at. */
  #cached: { version: string; snapshot: Promise<IndexSnapshot> } | undefined;
  /** Edits waiting for the next index.json write, and whether that write is already queued. */
  #queuedEdits: QueuedEdit[] = [];
  #writeQueued = false;

  private constructor(dir: string, options: LayoutOptions) {
    this.dir = dir;
    this.#options = options;
  }

  /** Opens an existing layout; a missing directory or one without `oci-layout` is a clear error. */
  static async open(dir: string, options: LayoutOptions = {}): Promise<OciLayout> {
    const layout = await OciLayout.openIfExists(dir, options);
    if (!layout) {
      throw new RegplanError(`cannot open OCI layout "${dir}": the directory does not exist`, {
        hint: `check the oci:${dir} address (relative paths start at the working directory), or push to it to create it`,
        context: { repo: `oci:${dir}` },
      });
    }
    return layout;
  }

  /** Opens a layout, or gives undefined when the directory does not exist (an empty repo); other problems throw. */
  static async openIfExists(dir: string, options: LayoutOptions = {}): Promise<OciLayout | undefined> {
    const stat = await statPath(dir);
    if (!stat) return undefined;
    const notLayout = (why: string) =>
      new RegplanError(`"${dir}" is not an OCI image layout: ${why}`, {
        hint: 'an OCI layout directory holds oci-layout, index.json and blobs/ (as written by skopeo copy … oci:DIR:TAG, buildah or BuildKit); check the oci: address',
        context: { repo: `oci:${dir}` },
      });
    if (!stat.isDirectory) throw notLayout('it is not a directory');
    let marker: unknown;
    try {
      marker = JSON.parse(await readTextFile(path.join(dir, 'oci-layout')));
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') throw notLayout('it has no oci-layout file');
      throw notLayout('its oci-layout file is not valid JSON');
    }
    const version = (marker as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
    if (typeof version !== 'string' || !version.startsWith('1.')) {
      throw notLayout(`its oci-layout file declares imageLayoutVersion ${JSON.stringify(version)}, regplan reads 1.x`);
    }
    const layout = new OciLayout(dir, options);
    await layout.readIndex();
    return layout;
  }

  /** Opens the layout in `dir`, first creating an empty one (oci-layout, index.json, blobs/sha256) when there is none. */
  static async create(dir: string, options: LayoutOptions = {}): Promise<OciLayout> {
    const stat = await statPath(dir);
    if (stat && !stat.isDirectory) {
      throw new RegplanError(`cannot create an OCI layout at "${dir}": it is a file`, { hint: 'point the oci: address at a directory', context: { repo: `oci:${dir}` } });
    }
    if (!(stat ? await listDir(dir) : []).includes('oci-layout')) {
      await makeDir(dir);
      // Under the layout lock, so two processes creating it at once never reset each other's index.json.
      await new OciLayout(dir, options).#exclusive('create the layout', async () => {
        const entries = (await listDir(dir)).filter((name) => !name.startsWith('.regplan-'));
        if (entries.includes('oci-layout')) return;
        if (entries.length > 0) {
          throw new RegplanError(`cannot create an OCI layout in "${dir}": the directory is not empty and holds no oci-layout file`, {
            hint: 'point the oci: address at an empty or new directory, or at an existing layout',
            context: { repo: `oci:${dir}` },
          });
        }
        await makeDir(path.join(dir, 'blobs', 'sha256'));
        await writeFileAtomic(path.join(dir, 'index.json'), serializeIndex({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }));
        await writeFileAtomic(path.join(dir, 'oci-layout'), JSON.stringify(OCI_LAYOUT_FILE));
      });
    }
    return OciLayout.open(dir, options);
  }

  /** The file a blob lives in (for streaming large blobs straight from disk). */
  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.dir, 'blobs', algorithm, hex);
  }

  /**
   * The parsed index.json (shared: callers must not change it); a broken one is an error, never treated as empty
   * (that would look like "no tags"). `fresh` reads the file even when it looks unchanged (before removing content).
   */
  async readIndex(options: { fresh?: boolean } = {}): Promise<ImageIndex> {
    return (await (options.fresh === true ? this.#readSnapshot() : this.#snapshot())).index;
  }

  /** The parsed index.json as of now: the kept copy while the file is unchanged, else read again (once for all callers). */
  async #snapshot(): Promise<IndexSnapshot> {
    // The version is taken before reading, so a kept copy is never older than the version it is kept under.
    const version = await fileVersion(this.#indexFile);
    const cached = this.#cached;
    if (cached !== undefined && cached.version === version) return cached.snapshot;
    const snapshot = this.#readSnapshot();
    if (version !== undefined) {
      const entry = { version, snapshot };
      this.#cached = entry;
      snapshot.catch(() => {
        if (this.#cached === entry) this.#cached = undefined;
      });
    }
    return snapshot;
  }

  get #indexFile(): string {
    return path.join(this.dir, 'index.json');
  }

  async #readSnapshot(): Promise<IndexSnapshot> {
    const file = this.#indexFile;
    let text: string;
    let index: unknown;
    try {
      text = await readTextFile(file);
      index = JSON.parse(text);
    } catch (e) {
      const why = (e as { code?: string }).code === 'ENOENT' ? 'it is missing' : 'it is not valid JSON';
      throw new RegplanError(`cannot read ${file}: ${why}`, { hint: 'restore index.json from the layout\'s source; regplan does not guess its content', cause: e, context: { file } });
    }
    if (!Array.isArray((index as Partial<ImageIndex> | null)?.manifests)) {
      throw new RegplanError(`cannot read ${file}: it has no manifests array`, { hint: 'index.json of an OCI layout is an image index with "manifests": [...]', context: { file } });
    }
    const manifests = (index as ImageIndex).manifests;
    this.#options.onDebug?.(`oci:${this.dir}: read index.json (${manifests.length} entries, ${text.length} bytes)`);
    const tagged: TaggedDescriptor[] = [];
    const byTag = new Map<string, Descriptor>();
    const byDigest = new Map<string, Descriptor>();
    for (const descriptor of manifests) {
      if (typeof descriptor?.digest === 'string' && !byDigest.has(descriptor.digest)) byDigest.set(descriptor.digest, descriptor);
      const tag = tagOf(descriptor);
      if (tag === undefined) continue;
      tagged.push({ tag, descriptor });
      if (!byTag.has(tag)) byTag.set(tag, descriptor);
    }
    return { index: index as ImageIndex, tagged, byTag, byDigest };
  }

  /** Every tag with its index.json entry, in index.json order. */
  async listTagged(): Promise<TaggedDescriptor[]> {
    return [...(await this.#snapshot()).tagged];
  }

  /** Every tag name, in index.json order. */
  async listTags(): Promise<string[]> {
    return (await this.listTagged()).map((t) => t.tag);
  }

  /** The descriptor a tag points at, or undefined when the layout has no such tag. */
  async resolveTag(tag: string): Promise<Descriptor | undefined> {
    return (await this.#snapshot()).byTag.get(tag);
  }

  /** index.json entries without a tag whose digest no tagged entry shares (so deleting them removes no tag). */
  async listUntagged(): Promise<Descriptor[]> {
    const { index, tagged: taggedEntries } = await this.#snapshot();
    const tagged = new Set(taggedEntries.map((t) => t.descriptor.digest));
    const seen = new Set<string>();
    return index.manifests.filter((d) => {
      if (tagOf(d) !== undefined || tagged.has(d.digest) || seen.has(d.digest)) return false;
      seen.add(d.digest);
      return true;
    });
  }

  /** True when the blob file exists. */
  async hasBlob(digest: string): Promise<boolean> {
    return (await statPath(this.blobPath(digest)))?.isFile === true;
  }

  /**
   * For a push: leases the blob (garbage collection by any process keeps it until this push's tagged manifest is
   * stored), then says whether it is present. A push that finds a blob present may rely on it from then on.
   */
  async holdBlob(digest: string): Promise<boolean> {
    await this.#leaseDigests([digest]);
    return this.hasBlob(digest);
  }

  /** A blob's bytes, verified against its digest; a missing blob is a 404-style RegistryError (`isNotFound`). */
  async readBlob(digest: string): Promise<Uint8Array> {
    let bytes: Uint8Array;
    try {
      bytes = await readBytes(this.blobPath(digest));
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
      throw new RegistryError(`blob ${digest} is not in OCI layout "${this.dir}"`, {
        status: 404,
        errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to layout' }],
        repo: `oci:${this.dir}`,
        ref: digest,
        hint: 'the layout is incomplete; copy the image into it again (e.g. skopeo copy … oci:DIR:TAG)',
      });
    }
    const actual = digestLike(digest, bytes);
    if (actual !== digest) {
      throw new RegplanError(`blob ${digest} in OCI layout "${this.dir}" is corrupt: its content hashes to ${actual}`, {
        hint: 'restore the layout from its source; regplan never uses content that does not match its digest',
        context: { repo: `oci:${this.dir}`, ref: digest },
      });
    }
    return bytes;
  }

  /** A manifest or index by digest, parsed; its media type comes from the content, else from index.json. */
  async readManifest(digest: string): Promise<StoredManifest> {
    const bytes = await this.readBlob(digest);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
    } catch (e) {
      throw new RegplanError(`blob ${digest} in OCI layout "${this.dir}" is not a manifest (not JSON)`, { cause: e, context: { repo: `oci:${this.dir}`, ref: digest } });
    }
    const listed = (await this.#snapshot()).byDigest.get(digest)?.mediaType;
    const mediaType = manifest.mediaType ?? listed ?? (isIndex(manifest) ? MediaType.ociIndex : MediaType.ociManifest);
    return { digest, mediaType, bytes, manifest };
  }

  /** Stores content under its digest (temp file, then rename); returns the digest and size. */
  async putBlob(source: BlobSource, options: { digest?: string } = {}): Promise<{ digest: string; size: number }> {
    const written = source instanceof Uint8Array ? await this.#putBytes(source) : await this.#putFile(source.path);
    if (options.digest !== undefined && options.digest !== written.digest) {
      throw new RegplanError(`content written to OCI layout "${this.dir}" hashes to ${written.digest}, expected ${options.digest}`, {
        hint: 'the source changed or is corrupt; the stored copy is harmless and garbage collection removes it',
        context: { repo: `oci:${this.dir}`, ref: options.digest },
      });
    }
    return written;
  }

  async #putBytes(bytes: Uint8Array): Promise<{ digest: string; size: number }> {
    const digest = sha256Digest(bytes);
    if (!(await this.holdBlob(digest))) await writeFileAtomic(this.blobPath(digest), bytes);
    return { digest, size: bytes.byteLength };
  }

  async #putFile(file: string): Promise<{ digest: string; size: number }> {
    const temp = tempSiblingName(path.join(this.dir, 'blobs', 'sha256', 'upload'));
    const hashing = hashingStream(readFileChunks(file));
    try {
      await writeFileFromChunks(temp, hashing.chunks);
      const written = hashing.result();
      if (await this.holdBlob(written.digest)) await removeFile(temp);
      else await renameFile(temp, this.blobPath(written.digest));
      return written;
    } catch (e) {
      await removeFile(temp);
      throw e;
    }
  }

  /**
   * Stores a manifest or index and records it in index.json: with `tag`, the tag moves to it (replacing the entry
   * that carried the tag); without, it is added untagged unless index.json already lists it; with `child`, it is
   * only stored (the child of an index is reached through its index, not listed itself). Every blob it names
   * (config, layers, children; not its subject) must already be in the layout, as a registry would insist.
   */
  async putManifest(bytes: Uint8Array, mediaType: string, options: { tag?: string; child?: boolean } = {}): Promise<Descriptor> {
    const { tag } = options;
    if (tag !== undefined && options.child === true) throw new RegplanError('putManifest: a child manifest cannot carry a tag');
    if (tag !== undefined && !isValidTag(tag)) {
      throw new RegplanError(`invalid tag "${tag}" for OCI layout "${this.dir}"`, { hint: 'a tag is 1-128 letters, digits, _ . - and starts with a letter, digit or _' });
    }
    let manifest: Manifest;
    try {
      manifest = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
    } catch (e) {
      throw new RegplanError(`cannot store a manifest in OCI layout "${this.dir}": it is not JSON`, { cause: e });
    }
    if (manifest.mediaType !== undefined && manifest.mediaType !== mediaType) {
      throw new RegplanError(`cannot store a manifest in OCI layout "${this.dir}": its mediaType is ${manifest.mediaType}, not ${mediaType}`);
    }
    const named = isIndex(manifest) ? manifest.manifests : [manifest.config, ...(manifest.layers ?? [])].filter((d) => !d.urls?.length);
    await this.#leaseDigests(named.map((d) => d.digest)); // from here on no collection removes them
    for (const descriptor of named) {
      if (!(await this.hasBlob(descriptor.digest))) {
        throw new RegistryError(`cannot store manifest in OCI layout "${this.dir}": it names ${descriptor.digest}, which is not in the layout`, {
          status: 400,
          errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to layout' }],
          repo: `oci:${this.dir}`,
          hint: 'store config, layers and child manifests before the manifest that names them',
        });
      }
    }
    const { digest, size } = await this.#putBytes(bytes);
    const descriptor: Descriptor = {
      mediaType,
      digest,
      size,
      ...(manifest.artifactType === undefined ? {} : { artifactType: manifest.artifactType }),
      ...(tag === undefined ? {} : { annotations: { [REF_NAME_ANNOTATION]: tag } }),
    };
    if (options.child === true) return descriptor;
    await this.#editIndex('store a manifest', (entries) => {
      if (tag === undefined) return entries.some((d) => d.digest === digest) ? entries : [...entries, descriptor];
      return [...entries.filter((d) => tagOf(d) !== tag), descriptor];
    });
    // index.json reaches everything the push stored now: its lease has done its job.
    await this.#releaseLease();
    return descriptor;
  }

  /** Removes one tag (its index.json entry); the manifest stays for its other tags. False when there was no such tag. */
  async untag(tag: string): Promise<boolean> {
    let removed = false;
    await this.#editIndex('remove a tag', (entries) => {
      const kept = entries.filter((d) => tagOf(d) !== tag);
      removed = kept.length !== entries.length;
      return removed ? kept : entries;
    });
    return removed;
  }

  /** Removes every index.json entry with this digest (all its tags, and its untagged entry); returns how many. */
  async deleteManifest(digest: string): Promise<number> {
    parseDigest(digest);
    let removed = 0;
    await this.#editIndex('delete a manifest', (entries) => {
      const kept = entries.filter((d) => d.digest !== digest);
      removed = entries.length - kept.length;
      return removed > 0 ? kept : entries;
    });
    return removed;
  }

  /**
   * Removes blobs nothing in index.json reaches any more (through child manifests, configs, layers and subjects)
   * and no live push has leased. Call it after deletions; it holds the layout lock throughout.
   */
  garbageCollect(): Promise<GarbageReport> {
    return this.#exclusive('collect garbage', async () => collectGarbage(this, { keep: await leasedDigests(this.dir) }));
  }

  /**
   * Makes one index.json edit, resolving once a write that carries it is published. Edits asked for before that
   * write starts join it (see the file comment); `change` returns its argument unchanged to mean "nothing to do".
   */
  #editIndex(what: string, change: (entries: Descriptor[]) => Descriptor[]): Promise<void> {
    return new Promise((done, failed) => {
      this.#queuedEdits.push({ change, done, failed });
      if (this.#writeQueued) return;
      this.#writeQueued = true;
      // Callers are answered once the lock is released again, as if each edit had taken it alone.
      this.#exclusive(what, () => this.#writeQueuedEdits()).then(
        (answer) => answer(),
        (error: unknown) => {
          // The lock was not taken (the write never ran): every edit waiting for it fails with that reason.
          this.#writeQueued = false;
          for (const edit of this.#queuedEdits.splice(0)) edit.failed(error);
        },
      );
    });
  }

  /**
   * Under the layout lock: reads index.json afresh, applies every queued edit in order, publishes once. Never
   * throws: it returns how to answer the edits' callers (done, or each edit's own failure).
   */
  async #writeQueuedEdits(): Promise<() => void> {
    this.#writeQueued = false;
    const edits = this.#queuedEdits.splice(0);
    const failures = new Map<QueuedEdit, unknown>();
    const answer = () => {
      for (const edit of edits) {
        if (failures.has(edit)) edit.failed(failures.get(edit));
        else edit.done();
      }
    };
    try {
      const { index } = await this.#readSnapshot();
      let entries = index.manifests;
      for (const edit of edits) {
        try {
          entries = edit.change(entries);
        } catch (error) {
          failures.set(edit, error);
        }
      }
      if (entries !== index.manifests) {
        const text = serializeIndex({ ...index, manifests: entries });
        await writeFileAtomic(this.#indexFile, text);
        this.#cached = undefined;
        this.#options.onDebug?.(`oci:${this.dir}: wrote index.json (${edits.length - failures.size} edits, ${entries.length} entries, ${text.length} bytes)`);
      }
    } catch (error) {
      for (const edit of edits) failures.set(edit, error);
    }
    return answer;
  }

  /** Runs `work` alone: after this instance's earlier changes, and holding the layout lock against other processes. */
  #exclusive<T>(what: string, work: () => Promise<T>): Promise<T> {
    const locked = () => this.#underLock(what, work);
    const run = this.#mutations.then(locked, locked);
    this.#mutations = run.catch(() => undefined);
    return run;
  }

  async #underLock<T>(what: string, work: () => Promise<T>): Promise<T> {
    const timeoutMs = this.#options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const lock = await waitForLock(path.join(this.dir, LAYOUT_LOCK_FILE), {
      purpose: `regplan: ${what}`,
      timeoutMs,
      ...(this.#options.onNotice === undefined ? {} : { onStaleLock: this.#options.onNotice }),
      busy: (owner, waited) =>
        new RegplanError(`OCI layout "${this.dir}" is locked by ${describeOwner(owner)}; waited ${Math.round(waited / 1000)} s to ${what}`, {
          hint: `another process is changing the layout; retry when it is done. If nothing is, remove the stale lock ${path.join(this.dir, LAYOUT_LOCK_FILE)}`,
          context: { repo: `oci:${this.dir}`, file: path.join(this.dir, LAYOUT_LOCK_FILE) },
        }),
    });
    try {
      return await work();
    } finally {
      await lock.release();
    }
  }

  /** Adds digests to this instance's lease, under the layout lock (so a collection sees the lease or ran before it). */
  async #leaseDigests(digests: readonly string[]): Promise<void> {
    if (this.#lease !== undefined && this.#lease.missing(digests).length === 0) return;
    await this.#exclusive('lease blobs for a push', async () => {
      this.#lease ??= new PushLease(this.dir);
      await this.#lease.add(digests);
    });
  }

  async #releaseLease(): Promise<void> {
    const lease = this.#lease;
    this.#lease = undefined;
    await lease?.release();
  }
}

/** index.json as regplan writes it: the given fields in order, two-space indented for readable diffs. */
const serializeIndex = (index: ImageIndex): string => `${JSON.stringify(index, null, 2)}\n`;
