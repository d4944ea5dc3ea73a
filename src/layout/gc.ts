/**
 * Garbage collection of an OCI image layout: after index.json lost entries (untag, delete), the blobs only those
 * entries reached are removed. Reachability is the image-spec graph from index.json: an index reaches its child
 * manifests, a manifest its config and layers, either one its subject. It errs on the side of keeping: a manifest
 * that cannot be read or parsed stops the collection before anything is removed, because its children would
 * otherwise look unreachable. Manifests are read, and unreachable blobs removed, by a few workers at a time
 * (`PARALLEL_FILE_OPERATIONS`), so a layout of 100,000 images is collected in time linear in its size without
 * waiting on one file at a time.
 */
import { RegplanError } from '../errors.ts';
import type { Descriptor } from '../registry/oci.ts';
import { listDir, path, removeFile, statPath } from '../runtime.ts';
import { isBlobFileName } from './digest.ts';
import type { OciLayout } from './store.ts';

/** Files read or removed at once by a collection. */
const PARALLEL_FILE_OPERATIONS = 16;

/** Runs `work` on every item of `queue` (which `work` may add to), `PARALLEL_FILE_OPERATIONS` at a time. */
async function drain<T>(queue: T[], work: (item: T) => Promise<void>): Promise<void> {
  const worker = async (): Promise<void> => {
    for (let item = queue.pop(); item !== undefined; item = queue.pop()) await work(item);
  };
  // A worker stops when the queue is empty for a moment; items added by the last ones in flight start another round.
  while (queue.length > 0) await Promise.all(Array.from({ length: PARALLEL_FILE_OPERATIONS }, worker));
}

/** What a collection removed. */
export interface GarbageReport {
  /** Digests of the removed blobs, sorted. */
  removed: string[];
  /** Their total size in bytes. */
  bytesFreed: number;
}

/** The JSON fields that name other content, read loosely (indexes, manifests, old artifact manifests alike). */
interface Referencing {
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
  blobs?: Descriptor[];
  subject?: Descriptor;
}

/** Every digest index.json reaches; manifests are read (and verified) to follow their references. */
export async function reachableDigests(layout: OciLayout): Promise<Set<string>> {
  const reachable = new Set<string>();
  const pending: string[] = [];
  const reach = (descriptor: Descriptor | undefined, isManifest: boolean): void => {
    if (descriptor === undefined || typeof descriptor.digest !== 'string' || reachable.has(descriptor.digest)) return;
    reachable.add(descriptor.digest);
    if (isManifest) pending.push(descriptor.digest);
  };
  for (const descriptor of (await layout.readIndex({ fresh: true })).manifests) reach(descriptor, true);
  await drain(pending, async (digest) => {
    if (!(await layout.hasBlob(digest))) return; // a subject or child that was never copied: nothing to follow
    let content: Referencing;
    try {
      content = JSON.parse(new TextDecoder().decode(await layout.readBlob(digest))) as Referencing;
    } catch (e) {
      throw new RegplanError(`garbage collection of OCI layout "${layout.dir}" stopped, nothing was removed: manifest ${digest} cannot be read (${e instanceof Error ? e.message : String(e)})`, {
        hint: 'repair or remove the entry that names it, then run the cleanup again',
        cause: e,
        context: { repo: `oci:${layout.dir}`, ref: digest },
      });
    }
    for (const child of content.manifests ?? []) reach(child, true);
    reach(content.subject, true);
    reach(content.config, false);
    for (const layer of [...(content.layers ?? []), ...(content.blobs ?? [])]) reach(layer, false);
  });
  return reachable;
}

/**
 * Removes every blob file index.json no longer reaches, except those in `keep` (blobs a push in progress has
 * leased, see store.ts); temp files and unknown names are left alone. The caller holds the layout lock.
 */
export async function collectGarbage(layout: OciLayout, options: { keep?: ReadonlySet<string> } = {}): Promise<GarbageReport> {
  const reachable = await reachableDigests(layout);
  for (const digest of options.keep ?? []) reachable.add(digest);
  const blobsDir = path.join(layout.dir, 'blobs');
  const unreachable: { digest: string; file: string }[] = [];
  for (const algorithm of await listDir(blobsDir)) {
    for (const hex of await listDir(path.join(blobsDir, algorithm))) {
      const digest = `${algorithm}:${hex}`;
      if (isBlobFileName(algorithm, hex) && !reachable.has(digest)) unreachable.push({ digest, file: path.join(blobsDir, algorithm, hex) });
    }
  }
  const removed: string[] = [];
  let bytesFreed = 0;
  await drain(unreachable, async ({ digest, file }) => {
    bytesFreed += (await statPath(file))?.size ?? 0;
    await removeFile(file);
    removed.push(digest);
  });
  return { removed: removed.sort(), bytesFreed };
}
