/**
 * `image: oci:<dir>[:<ref>]`: an image a builder (buildah, kaniko, BuildKit's oci exporter, skopeo copy) left in
 * a local OCI image layout, published exactly as it is: the same manifest or index bytes (so the same digest),
 * every child manifest of an index, and every config and layer, streamed from the layout's blob files.
 * `<ref>` is a tag of the layout (its `org.opencontainers.image.ref.name`) or a digest; without one the layout
 * must hold exactly one image. Layers with `urls` (non-distributable) are not pushed, as registries expect.
 */
import { RegplanError } from '../errors.ts';
import { OciLayout } from '../layout/store.ts';
import { isIndex, REF_NAME_ANNOTATION, type Descriptor } from '../registry/oci.ts';
import { isDigest } from '../registry/reference.ts';
import { statPath } from '../runtime.ts';
import type { PushBlob, PushManifest } from '../drivers/driver.ts';
import { addUniqueBlobs, type PreparedBundle } from './types.ts';

/** `oci:/abs/dir:ref` split into directory and ref (the part after the last `:` past the last `/`). */
export function parseLayoutImage(reference: string): { dir: string; ref?: string } {
  const rest = reference.startsWith('oci:') ? reference.slice(4) : reference;
  const digestAt = /[:@](sha256:[0-9a-f]{64})$/.exec(rest);
  if (digestAt?.[1]) return { dir: rest.slice(0, digestAt.index), ref: digestAt[1] };
  const colon = rest.indexOf(':', rest.lastIndexOf('/') + 1);
  if (colon === -1) return { dir: rest };
  return { dir: rest.slice(0, colon), ref: rest.slice(colon + 1) };
}

/** Reads an image and everything it names from a layout, ready to push unchanged. */
export async function packageLayoutImage(input: { image: string; annotations?: Readonly<Record<string, string>> }): Promise<PreparedBundle> {
  if (Object.keys(input.annotations ?? {}).length > 0) {
    throw new RegplanError(`annotations cannot be added to image "${input.image}": it is pushed exactly as built (same digest)`, {
      hint: 'set annotations when building the image (e.g. buildah --annotation, docker buildx --annotation), and remove them from the bundle',
    });
  }
  const { dir, ref } = parseLayoutImage(input.image);
  const layout = await OciLayout.open(dir);
  const top = await resolveTop(layout, ref, input.image);
  const children: PushManifest[] = [];
  const blobs: PushBlob[] = [];
  const visited = new Set<string>();
  const visit = async (descriptor: Descriptor, isTop: boolean): Promise<PushManifest & { artifactType?: string }> => {
    const stored = await readManifest(layout, descriptor, input.image);
    const manifest = stored.manifest;
    if (isIndex(manifest)) {
      for (const child of manifest.manifests) {
        if (visited.has(child.digest)) continue;
        visited.add(child.digest);
        children.push(await visit(child, false));
      }
    } else {
      const named = [manifest.config, ...(manifest.layers ?? [])].filter((d) => d !== undefined && !(d.urls && d.urls.length > 0));
      const found: PushBlob[] = [];
      for (const blob of named) found.push(await layoutBlob(layout, blob, input.image));
      addUniqueBlobs(blobs, found);
    }
    const pushed = { digest: stored.digest, mediaType: stored.mediaType, bytes: stored.bytes };
    return isTop && manifest.artifactType !== undefined ? { ...pushed, artifactType: manifest.artifactType } : pushed;
  };
  visited.add(top.digest);
  const manifest = await visit(top, true);
  return { kind: 'image', manifest, children, blobs };
}

/** The descriptor `ref` names in the layout (tag or digest), or its only image when no ref is given. */
async function resolveTop(layout: OciLayout, ref: string | undefined, image: string): Promise<Descriptor> {
  if (ref !== undefined && isDigest(ref)) {
    const listed = (await layout.readIndex()).manifests.find((d) => d.digest === ref);
    if (listed) return listed;
    const stored = await layout.readManifest(ref);
    return { mediaType: stored.mediaType, digest: ref, size: stored.bytes.byteLength };
  }
  if (ref !== undefined) {
    const found = await layout.resolveTag(ref);
    if (found) return found;
    const tags = await layout.listTags();
    throw new RegplanError(`OCI layout "${layout.dir}" has no image tagged "${ref}" (for ${image})`, {
      hint: tags.length > 0 ? `its tags are: ${[...new Set(tags)].join(', ')}` : 'the layout has no tagged image; build or copy one into it (skopeo copy … oci:DIR:TAG)',
    });
  }
  const entries = (await layout.readIndex()).manifests;
  if (entries.length === 1 && entries[0]) return entries[0];
  throw new RegplanError(`image "${image}" does not say which of the ${entries.length} images of the layout to push`, {
    hint: `write oci:<dir>:<tag>; the layout's tags are: ${entries.map((d) => d.annotations?.[REF_NAME_ANNOTATION] ?? d.digest).join(', ') || 'none'}`,
  });
}

async function readManifest(layout: OciLayout, descriptor: Descriptor, image: string) {
  try {
    return await layout.readManifest(descriptor.digest);
  } catch (error) {
    throw new RegplanError(`image "${image}" names manifest ${descriptor.digest}${descriptor.platform ? ` (${descriptor.platform.os}/${descriptor.platform.architecture})` : ''}, which OCI layout "${layout.dir}" does not hold`, {
      hint: 'copy every platform into the layout (skopeo copy --all …), or push a single-platform image',
      cause: error,
    });
  }
}

/** A config or layer as a blob streamed from the layout's file, after checking the file is there with the right size. */
async function layoutBlob(layout: OciLayout, descriptor: Descriptor, image: string): Promise<PushBlob> {
  const file = layout.blobPath(descriptor.digest);
  const stat = await statPath(file);
  if (!stat?.isFile || stat.size !== descriptor.size) {
    throw new RegplanError(`image "${image}" needs blob ${descriptor.digest} (${descriptor.size} bytes), which OCI layout "${layout.dir}" ${stat ? `holds with ${stat.size} bytes` : 'lacks'}`, {
      hint: 'the layout is incomplete or damaged; build or copy the image into it again',
    });
  }
  return { digest: descriptor.digest, size: descriptor.size, mediaType: descriptor.mediaType, content: { path: file } };
}
