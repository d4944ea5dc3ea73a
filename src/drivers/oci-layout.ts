/**
 * The local OCI image layout (`oci:<dir>`): a directory with `oci-layout`, `index.json` and `blobs/`, served by
 * src/layout/store.ts. No network and no credentials. A layout has no repository names: the address `oci:<dir>`
 * is the whole layout, so the driver reads the directory from its context (`host` is the address `oci:<dir>` or
 * the bare directory) and ignores `name` — unless the host is empty or just `oci`, when `name` carries the address.
 *
 * Bundles push into it too (blobs, then child manifests stored without an index.json entry, then the tagged
 * manifest), creating the layout when the directory does not exist yet.
 *
 * Listing reads index.json alone: each tag's digest and media type, and its push time when the index.json entry
 * records one (the `created` annotation). Every other time (the manifest's annotation, an index's newest child,
 * the image config's `created`) is inventory's to read from the content, as for any registry (plan/inventory.ts,
 * once per digest, in parallel, through the manifest cache), so a plan reads each blob once.
 *
 * Cleanup only edits index.json (untag drops one tag's entry, deleteManifest every entry of a digest), and edits
 * asked for together are written together, so apply hands the driver many at a time (BatchedDeleter); the blobs
 * nothing references any more go when apply calls `collectGarbage` after its deletions. A directory that does not
 * exist is an empty repo (no tags); one that exists but is not a layout is an error.
 */
import { RegplanError } from '../errors.ts';
import { entryPushTime } from '../layout/push-time.ts';
import { OciLayout } from '../layout/store.ts';
import type { Descriptor } from '../registry/oci.ts';
import type {
  BatchedDeleter, Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, GarbageCollector, ManifestReader, UntaggedLister, Untagger,
} from './driver.ts';
import type { TagRecord } from '../model/inventory.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'edits index.json (tags), removes unreferenced blobs',
  untag: true,
  listUntagged: true,
  nativeCredentials: [],
  notes: 'no network: the embedded default for demos, tests and air-gapped bundles; push times come from the created annotation or the image config',
};

/** The layout directory a driver works on (see the file comment for how host and name are read). */
export function layoutDir(context: Pick<DriverContext, 'host'>, name = ''): string {
  const host = context.host === 'oci' ? '' : context.host;
  const address = host === '' ? name : host;
  return address.startsWith('oci:') ? address.slice(4) : address;
}

/** The push time an index.json entry records itself (its `created` annotation), as a TagRecord field. */
function entryTime(descriptor: Descriptor): { pushedAt?: string } {
  const pushedAt = entryPushTime(descriptor);
  return pushedAt === undefined ? {} : { pushedAt };
}

/** The OCI image layout type. */
export const ociLayoutDriver = {
  type: 'oci',
  title: 'OCI image layout (local directory)',
  status: 'ready',
  capabilities,
  create(context): Driver & Untagger & DetailedLister & UntaggedLister & GarbageCollector & ManifestReader & ContentPusher & BatchedDeleter {
    // One OciLayout per directory for the driver's life, so its index.json edits are serialised (and locked
    // against other processes, with a notice when a dead process's lock is taken over).
    const opened = new Map<string, OciLayout>();
    const options = {
      ...(context.notice === undefined ? {} : { onNotice: context.notice }),
      ...(context.debug === undefined ? {} : { onDebug: context.debug }),
    };
    const layoutOf = async (name: string): Promise<OciLayout | undefined> => {
      const dir = layoutDir(context, name);
      const known = opened.get(dir);
      if (known) return known;
      const layout = await OciLayout.openIfExists(dir, options);
      if (layout) opened.set(dir, layout);
      return layout;
    };
    // Pushing into a directory that is not a layout yet creates one (exporting bundles for an air-gapped site).
    const layoutForPush = async (name: string): Promise<OciLayout> => {
      const dir = layoutDir(context, name);
      const known = opened.get(dir);
      if (known) return known;
      const layout = await OciLayout.create(dir, options);
      opened.set(dir, layout);
      return layout;
    };
    return {
      type: 'oci',
      capabilities,
      batchesDeletes: true, // concurrent untag/deleteManifest calls share one index.json write (store.ts)
      async listTags(name) {
        const layout = await layoutOf(name);
        return layout ? [...new Set(await layout.listTags())] : [];
      },
      async resolveTag(name, tag) {
        return (await layoutOf(name))?.resolveTag(tag);
      },
      async deleteManifest(name, digest) {
        await (await layoutOf(name))?.deleteManifest(digest); // no entry left counts as done
      },
      async untag(name, tag) {
        await (await layoutOf(name))?.untag(tag);
      },
      async listTagRecords(name) {
        const layout = await layoutOf(name);
        if (!layout) return [];
        const records: TagRecord[] = [];
        const seen = new Set<string>();
        for (const { tag, descriptor } of await layout.listTagged()) {
          if (seen.has(tag)) continue; // a duplicated ref.name: the first entry is the one resolveTag answers
          seen.add(tag);
          records.push({ tag, digest: descriptor.digest, mediaType: descriptor.mediaType, ...entryTime(descriptor) });
        }
        return records;
      },
      async listUntagged(name) {
        const layout = await layoutOf(name);
        if (!layout) return [];
        return (await layout.listUntagged()).map((descriptor) => ({ digest: descriptor.digest, ...entryTime(descriptor) }));
      },
      async readManifest(name, digest) {
        const layout = await layoutOf(name);
        if (!layout) throw new RegplanError(`OCI layout "${layoutDir(context, name)}" does not exist`, { context: { repo: `oci:${layoutDir(context, name)}`, ref: digest } });
        const stored = await layout.readManifest(digest);
        return { descriptor: { mediaType: stored.mediaType, digest, size: stored.bytes.length }, manifest: stored.manifest, bytes: stored.bytes };
      },
      async readImageConfig(name, config) {
        const layout = await layoutOf(name);
        if (!layout) throw new RegplanError(`OCI layout "${layoutDir(context, name)}" does not exist`, { context: { repo: `oci:${layoutDir(context, name)}`, ref: config.digest } });
        return layout.readBlob(config.digest);
      },
      async hasBlob(name, digest) {
        // Asked by a push: a blob found present is leased, so no collection removes it before the tag lands.
        return (await layoutOf(name))?.holdBlob(digest) ?? false;
      },
      async putBlob(name, blob) {
        const layout = await layoutForPush(name);
        await layout.putBlob('bytes' in blob.content ? blob.content.bytes : { path: blob.content.path }, { digest: blob.digest });
        return 'uploaded';
      },
      async putManifest(name, manifest, options = {}) {
        const layout = await layoutForPush(name);
        const stored = await layout.putManifest(manifest.bytes, manifest.mediaType, options.tag === undefined ? { child: true } : { tag: options.tag });
        return stored.digest;
      },
      async collectGarbage(name) {
        const layout = await layoutOf(name);
        return layout ? layout.garbageCollect() : { removed: [], bytesFreed: 0 };
      },
    };
  },
} satisfies DriverFactory;
