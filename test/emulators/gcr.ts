/**
 * GCR / Artifact Registry emulator (reference §3.8) on top of the memory registry. Quirks, each from its source:
 * - tags/list carries Google's extension (reference §3.8; go-containerregistry pkg/v1/google `Tags`):
 *   `{name, tags, child, manifest: {"sha256:…": {tag: [...], mediaType, imageSizeBytes, layerId: "",
 *   timeCreatedMs, timeUploadedMs}}}`, numbers as strings; manifests with no tag are in the map with `tag: []`
 *   (how gcrane gc finds them); `child` lists nested repositories.
 * - GCR ignores `n` and answers everything at once (reference §1.10, go-containerregistry sends n=10000); with
 *   `pageSize` set the emulator pages by `n`/`last` with a `Link` instead (an Artifact Registry that pages [U]),
 *   each page's map holding the manifests of that page's tags, the untagged ones on the first.
 * - `timeCreatedMs` is "0" when the image has no creation time; `zeroUploadTime(digest)` answers `timeUploadedMs`
 *   "0" for that digest (reference §3.8: possibly "0").
 * - `artifactRegistry: true` answers as Artifact Registry does: `timeUploadedMs` a JSON number, not a string
 *   (go-containerregistry#667, "GCR returns timeUploadedMs as a string, while AR returns the same field as
 *   int64"), `timeCreatedMs` always "0" and `imageSizeBytes` "0" (marekaf/gcr-lifecycle-policy#6).
 * - DELETE by tag untags; DELETE by digest of a tagged manifest answers 400 GOOGLE_MANIFEST_DANGLING_TAG
 *   "Manifest is still referenced by tag: <t>", naming one tag (genuinetools/reg#136, containers/image#1616; Artifact
 *   Registry alike, enix/kube-image-keeper#636).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type MemoryAuth, type MemoryRegistry, type RegistryStore, type RouteHelpers, startMemoryRegistry } from './memory-registry.ts';

/** How the emulator behaves. */
export interface GcrEmulatorOptions {
  auth?: MemoryAuth;
  clock?: () => Date;
  /** Tags per tags/list page, paged with Link (default: everything at once, as GCR). */
  pageSize?: number;
  /** Answer as Artifact Registry (see the header). */
  artifactRegistry?: boolean;
}

/** A running emulator. */
export interface GcrEmulator {
  registry: MemoryRegistry;
  host: string;
  store: RegistryStore;
  /** From now on `timeUploadedMs` of `digest` is "0". */
  zeroUploadTime(digest: string): void;
  stop(): Promise<void>;
}

const TAGS_LIST = /^\/v2\/(.+)\/tags\/list$/;

/** Starts the emulator on a free loopback port; always stop it. */
export async function startGcrEmulator(options: GcrEmulatorOptions = {}): Promise<GcrEmulator> {
  const zero = new Set<string>();
  const ar = options.artifactRegistry === true;

  const routes = (req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): boolean => {
    const list = TAGS_LIST.exec(url.pathname);
    if (list === null || req.method !== 'GET') return false;
    const repo = list[1] ?? '';
    if (!helpers.auth.authorize(req, res, `repository:${repo}:pull`).ok) return true;
    if (store.repo(repo) === undefined) {
      helpers.sendOciError(req, res, 404, 'NAME_UNKNOWN', 'repository name not known to registry', { detail: { name: repo } });
      return true;
    }
    const all = store.tags(repo);
    const page = options.pageSize === undefined ? { items: all.map((t) => t.tag) } : helpers.paginate(all.map((t) => t.tag), url, options.pageSize);
    if (typeof page === 'string') {
      helpers.sendOciError(req, res, 400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested');
      return true;
    }
    const onPage = new Set(page.items);
    const firstPage = url.searchParams.get('last') === null;
    const map: Record<string, unknown> = {};
    for (const m of store.manifests(repo)) {
      const tags = store.tagsOf(repo, m.digest).filter((t) => onPage.has(t)).sort();
      if (tags.length === 0 && !(firstPage && store.tagsOf(repo, m.digest).length === 0)) continue;
      map[m.digest] = {
        imageSizeBytes: ar ? '0' : String(m.bytes.byteLength + m.blobs.reduce((sum, b) => sum + (store.blob(b)?.byteLength ?? 0), 0)),
        ...(ar ? {} : { layerId: '' }),
        mediaType: m.mediaType,
        tag: tags,
        timeCreatedMs: ar ? '0' : String(createdMs(store, m.blobs[0])),
        timeUploadedMs: zero.has(m.digest) ? (ar ? 0 : '0') : ar ? m.pushedAt.getTime() : String(m.pushedAt.getTime()),
      };
    }
    const child = [...new Set(store.repos().filter((r) => r.startsWith(`${repo}/`)).map((r) => r.slice(repo.length + 1).split('/')[0] ?? ''))];
    helpers.sendJson(req, res, 200, { child, manifest: map, name: repo, tags: page.items }, helpers.linkHeader(`/v2/${repo}/tags/list`, page));
    return true;
  };

  const registry = await startMemoryRegistry({
    routes,
    tagDelete: 'untag',
    digestDelete: 'dangling-tag-400',
    ...(options.auth === undefined ? {} : { auth: options.auth }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return { registry, host: registry.host, store: registry.store, zeroUploadTime: (digest) => void zero.add(digest), stop: () => registry.stop() };
}

/** The config blob's `created` in ms, 0 when there is none (GCR then answers "0"). */
function createdMs(store: RegistryStore, config: string | undefined): number {
  const bytes = config === undefined ? undefined : store.blob(config);
  if (bytes === undefined) return 0;
  try {
    const created = (JSON.parse(new TextDecoder().decode(bytes)) as { created?: unknown }).created;
    const ms = typeof created === 'string' ? Date.parse(created) : Number.NaN;
    return Number.isFinite(ms) ? ms : 0;
  } catch {
    return 0;
  }
}
