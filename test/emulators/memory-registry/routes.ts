/**
 * The OCI Distribution routes of the memory registry (reference §1): ping, tags/list and _catalog with n/last
 * paging and relative `Link` headers, manifests GET/HEAD/PUT/DELETE (with the configurable delete quirks of
 * vendor registries), blobs GET/HEAD/DELETE, uploads (./uploads.ts) and the referrers API. Errors are OCI error
 * bodies with distribution's codes and statuses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MediaType } from '../../../src/registry/oci.ts';
import { sha256Digest } from '../../harness/layout.ts';
import type { RegistryAuth } from './auth.ts';
import { readBody, sendBytes, sendEmpty, sendJson, sendOciError } from './respond.ts';
import { isDigestRef, type RegistryStore } from './store.ts';
import type { Uploads } from './uploads.ts';

/** What `DELETE /v2/<name>/manifests/<tag>` does. */
export type TagDeleteMode = 'untag' | 'unsupported-400' | 'unsupported-405' | 'digest-invalid-400';
/** What `DELETE /v2/<name>/manifests/<digest>` does. */
export type DigestDeleteMode = 'delete' | 'unsupported-405' | 'forbidden-if-tagged-403' | 'dangling-tag-400';

/** Behaviour switches the routes read. */
export interface RouteOptions {
  tagDelete: TagDeleteMode;
  digestDelete: DigestDeleteMode;
  /** Page size when `n` is absent, and the most one page holds (a larger `n` is clamped and gets a Link). */
  pageSize?: number;
  /** Answer an empty tag page with `"tags": null` (as some registries do) instead of `[]`. */
  nullEmptyTags?: boolean;
}

const NAME_PATTERN = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const API_VERSION = { 'docker-distribution-api-version': 'registry/2.0' };

/** Everything a route needs. */
export interface RouteContext {
  store: RegistryStore;
  auth: RegistryAuth;
  uploads: Uploads;
  options: RouteOptions;
}

/** Answers one /v2 request (auth included); false when the path is not a Registry API path. */
export async function serveRegistryApi(req: IncomingMessage, res: ServerResponse, url: URL, context: RouteContext): Promise<boolean> {
  const path = url.pathname;
  if (path !== '/v2' && !path.startsWith('/v2/')) return false;
  const method = req.method ?? 'GET';
  const read = method === 'GET' || method === 'HEAD';
  const need = (name: string): string => `repository:${name}:${method === 'DELETE' ? 'delete' : read ? 'pull' : 'pull,push'}`;
  const { store, uploads } = context;
  const authorized = (scope: string | undefined): boolean => context.auth.authorize(req, res, scope).ok;

  if (path === '/v2/' || path === '/v2') {
    if (authorized(undefined)) sendJson(req, res, 200, {}, API_VERSION);
    return true;
  }
  if (path === '/v2/_catalog') {
    if (!authorized('registry:catalog:*')) return true;
    const page = paginate(store.repos(), url, context.options.pageSize);
    if (typeof page === 'string') return invalidPage(req, res, page), true;
    sendJson(req, res, 200, { repositories: page.items }, { ...API_VERSION, ...linkHeader('/v2/_catalog', page) });
    return true;
  }
  const match =
    /^\/v2\/(.+)\/(tags)\/list$/.exec(path) ??
    /^\/v2\/(.+)\/(manifests)\/([^/]+)$/.exec(path) ??
    /^\/v2\/(.+)\/blobs\/(uploads)\/?([^/]*)$/.exec(path) ??
    /^\/v2\/(.+)\/(blobs)\/([^/]+)$/.exec(path) ??
    /^\/v2\/(.+)\/(referrers)\/([^/]+)$/.exec(path);
  if (match === null) {
    sendOciError(req, res, 404, 'NOT_FOUND', `no route for ${method} ${path}`);
    return true;
  }
  const [, name = '', kind = '', ref = ''] = match;
  if (!authorized(need(name))) return true;
  if (!NAME_PATTERN.test(name)) {
    sendOciError(req, res, 400, 'NAME_INVALID', 'invalid repository name', { detail: { name } });
    return true;
  }
  const route = `${method} ${kind}`;
  switch (route) {
    case 'GET tags':
      return listTags(req, res, url, name, context), true;
    case 'GET manifests':
    case 'HEAD manifests':
      return getManifest(req, res, name, ref, context), true;
    case 'PUT manifests':
      return await putManifest(req, res, name, ref, context), true;
    case 'DELETE manifests':
      return deleteManifest(req, res, name, ref, context), true;
    case 'GET blobs':
    case 'HEAD blobs': {
      const bytes = store.hasBlob(ref, name) ? store.blob(ref) : undefined;
      if (bytes === undefined) sendOciError(req, res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest: ref } });
      else sendBytes(req, res, 200, bytes, { 'content-type': 'application/octet-stream', 'docker-content-digest': ref, ...API_VERSION });
      return true;
    }
    case 'DELETE blobs':
      if (store.unlinkBlob(name, ref)) sendEmpty(res, 202, API_VERSION);
      else sendOciError(req, res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest: ref } });
      return true;
    case 'POST uploads':
      if (ref !== '') return sendOciError(req, res, 405, 'UNSUPPORTED', 'POST to an upload session'), true;
      return await uploads.start(req, res, name, url), true;
    case 'PATCH uploads':
      return await uploads.patch(req, res, name, ref, url), true;
    case 'PUT uploads':
      return await uploads.put(req, res, name, ref, url), true;
    case 'GET uploads':
      return uploads.status(req, res, name, ref, url), true;
    case 'DELETE uploads':
      return uploads.cancel(req, res, name, ref, url), true;
    case 'GET referrers':
      return referrers(req, res, url, name, ref, context), true;
    default:
      sendOciError(req, res, 405, 'UNSUPPORTED', `${method} is not supported on ${kind}`);
      return true;
  }
}

/** One page of a sorted list: items after `last`, at most `n` (clamped to `pageSize`); `next` when more remain. */
export function paginate(all: readonly string[], url: URL, pageSize: number | undefined): { items: string[]; next?: { n: number; last: string } } | string {
  const nText = url.searchParams.get('n');
  const last = url.searchParams.get('last');
  let n = pageSize ?? Number.POSITIVE_INFINITY;
  if (nText !== null) {
    if (!/^\d+$/.test(nText)) return nText;
    n = Math.min(Number(nText), pageSize ?? Number.POSITIVE_INFINITY);
  }
  const rest = last === null ? [...all] : all.filter((item) => item > last);
  const items = rest.slice(0, n);
  const lastItem = items.at(-1);
  return rest.length > items.length && lastItem !== undefined ? { items, next: { n, last: lastItem } } : { items };
}

/** The `Link` header for a page with a next page (a relative URL, as distribution sends). */
export function linkHeader(path: string, page: { next?: { n: number; last: string } }): Record<string, string> {
  if (page.next === undefined) return {};
  return { link: `<${path}?n=${page.next.n}&last=${encodeURIComponent(page.next.last)}>; rel="next"` };
}

function invalidPage(req: IncomingMessage, res: ServerResponse, n: string): void {
  sendOciError(req, res, 400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { detail: { n } });
}

function listTags(req: IncomingMessage, res: ServerResponse, url: URL, name: string, { store, options }: RouteContext): void {
  if (store.repo(name) === undefined) return sendOciError(req, res, 404, 'NAME_UNKNOWN', 'repository name not known to registry', { detail: { name } });
  const page = paginate(store.tags(name).map((t) => t.tag), url, options.pageSize);
  if (typeof page === 'string') return invalidPage(req, res, page);
  sendJson(req, res, 200, { name, tags: page.items.length === 0 && options.nullEmptyTags === true ? null : page.items }, { ...API_VERSION, ...linkHeader(`/v2/${name}/tags/list`, page) });
}

function manifestUnknown(req: IncomingMessage, res: ServerResponse, name: string, ref: string, store: RegistryStore): void {
  if (store.repo(name) === undefined) return sendOciError(req, res, 404, 'NAME_UNKNOWN', 'repository name not known to registry', { detail: { name } });
  sendOciError(req, res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown', { detail: isDigestRef(ref) ? { Digest: ref } : { Tag: ref } });
}

function getManifest(req: IncomingMessage, res: ServerResponse, name: string, ref: string, { store }: RouteContext): void {
  const manifest = store.resolve(name, ref);
  if (manifest === undefined) return manifestUnknown(req, res, name, ref, store);
  sendBytes(req, res, 200, manifest.bytes, { 'content-type': manifest.mediaType, 'docker-content-digest': manifest.digest, etag: `"${manifest.digest}"`, ...API_VERSION });
}

async function putManifest(req: IncomingMessage, res: ServerResponse, name: string, ref: string, { store }: RouteContext): Promise<void> {
  const bytes = await readBody(req);
  const digest = sha256Digest(bytes);
  if (isDigestRef(ref) ? ref !== digest : !TAG_PATTERN.test(ref)) {
    return isDigestRef(ref)
      ? sendOciError(req, res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', { detail: { expected: ref, actual: digest } })
      : sendOciError(req, res, 400, 'TAG_INVALID', 'manifest tag did not match URI', { detail: { tag: ref } });
  }
  let parsed: { schemaVersion?: unknown; mediaType?: unknown };
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes)) as typeof parsed;
  } catch {
    return sendOciError(req, res, 400, 'MANIFEST_INVALID', 'manifest invalid: not JSON');
  }
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  const mediaType = typeof parsed.mediaType === 'string' ? parsed.mediaType : contentType;
  if (parsed.schemaVersion !== 2 || mediaType === '') return sendOciError(req, res, 400, 'MANIFEST_INVALID', 'manifest invalid: schemaVersion 2 and a media type are required');
  if (typeof parsed.mediaType === 'string' && contentType !== '' && contentType !== parsed.mediaType) {
    return sendOciError(req, res, 400, 'MANIFEST_INVALID', `manifest invalid: mediaType ${parsed.mediaType} does not match Content-Type ${contentType}`);
  }
  const missing = store.missingReferences(name, bytes);
  if (missing.length > 0) return sendOciError(req, res, 400, 'MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { detail: missing.map((d) => ({ digest: d })) });
  store.putManifest(name, ref, bytes, mediaType);
  const subject = store.manifest(name, digest)?.subject;
  sendEmpty(res, 201, { location: `/v2/${name}/manifests/${digest}`, 'docker-content-digest': digest, ...(subject === undefined ? {} : { 'oci-subject': subject }), ...API_VERSION });
}

function deleteManifest(req: IncomingMessage, res: ServerResponse, name: string, ref: string, { store, options }: RouteContext): void {
  if (!isDigestRef(ref)) {
    switch (options.tagDelete) {
      case 'untag':
        if (store.untag(name, ref)) return sendEmpty(res, 202, API_VERSION);
        return manifestUnknown(req, res, name, ref, store);
      case 'unsupported-400':
        return sendOciError(req, res, 400, 'UNSUPPORTED', 'The operation is unsupported.: deleting a tag is not supported, delete the artifact by digest');
      case 'unsupported-405':
        return sendOciError(req, res, 405, 'UNSUPPORTED', 'The operation is unsupported.');
      case 'digest-invalid-400':
        return sendOciError(req, res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
    }
  }
  if (options.digestDelete === 'unsupported-405') return sendOciError(req, res, 405, 'UNSUPPORTED', 'The operation is unsupported.');
  if (store.manifest(name, ref) === undefined) return manifestUnknown(req, res, name, ref, store);
  const tags = store.tagsOf(name, ref);
  if (tags.length > 0 && options.digestDelete === 'forbidden-if-tagged-403') {
    return sendOciError(req, res, 403, 'DENIED', 'requested access to the resource is denied', { detail: { tags } });
  }
  if (tags.length > 0 && options.digestDelete === 'dangling-tag-400') {
    return sendOciError(req, res, 400, 'GOOGLE_MANIFEST_DANGLING_TAG', `Manifest is still referenced by tag: ${tags[0]}`);
  }
  store.deleteManifest(name, ref);
  sendEmpty(res, 202, API_VERSION);
}

function referrers(req: IncomingMessage, res: ServerResponse, url: URL, name: string, digest: string, { store }: RouteContext): void {
  if (!isDigestRef(digest)) return sendOciError(req, res, 400, 'DIGEST_INVALID', 'invalid digest', { detail: { digest } });
  const filter = url.searchParams.get('artifactType');
  const found = store.referrers(name, digest).filter((m) => filter === null || m.artifactType === filter);
  const manifests = found.map((m) => ({
    mediaType: m.mediaType,
    digest: m.digest,
    size: m.bytes.byteLength,
    ...(m.artifactType === undefined ? {} : { artifactType: m.artifactType }),
    ...(m.annotations === undefined ? {} : { annotations: m.annotations }),
  }));
  sendJson(req, res, 200, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, { 'content-type': MediaType.ociIndex, ...(filter === null ? {} : { 'oci-filters-applied': 'artifactType' }), ...API_VERSION });
}
