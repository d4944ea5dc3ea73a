/**
 * Blob uploads (distribution-spec "pushing blobs"): a session is opened with POST; a blob up to the chunk size
 * goes up in one PUT (monolithic); a larger one as PATCH chunks with `Content-Range`, each to the `Location` the
 * previous answer gave, closed by a PUT `?digest=`. A file is read chunk by chunk, so only one chunk is ever in
 * memory, and every request body is a bounded byte array that can be retried. Cross-repo mounts live here too.
 */
import { RegistryError, RegplanError } from '../errors.ts';
import { readFileReusingBuffer } from '../runtime.ts';
import { sha256Digest } from './digest.ts';
import type { HttpRequest, HttpResponse } from './http.ts';

/** Bytes to upload: in memory, or a file streamed from disk (its digest and size known in advance). */
export type BlobSource = { bytes: Uint8Array } | { path: string; size: number; digest: string };

/** Blobs up to this size go up in one PUT; larger ones in chunks of this size (8 MiB: above ECR's 5 MiB minimum, small enough to buffer per request). */
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

/** A request the client sends with auth, returning when the status is in `expect` and throwing the registry's error otherwise. */
export type ExchangeRequest = HttpRequest & { scopes: readonly string[]; subject: string; ref?: string; expect: readonly number[] };
/** What uploads need from the client: authenticated, error-mapped requests and the repository's URLs. */
export interface UploadTarget {
  exchange: (request: ExchangeRequest) => Promise<HttpResponse>;
  /** A fresh `/v2/<name>/blobs/uploads/` URL, built by url.ts (names checked, segments encoded). */
  uploadsUrl: () => URL;
  registry: string;
  name: string;
  scopes: readonly string[];
}

/** Uploads a blob and returns its digest and size; the registry verifies the digest when the upload closes. */
export async function uploadBlob(target: UploadTarget, blob: BlobSource, options: { chunkSize?: number } = {}): Promise<{ digest: string; size: number }> {
  const digest = 'bytes' in blob ? sha256Digest(blob.bytes) : blob.digest;
  const size = 'bytes' in blob ? blob.bytes.byteLength : blob.size;
  const subject = `${target.name}@${digest}`;
  const opened = await target.exchange({
    method: 'POST',
    url: target.uploadsUrl(),
    body: new Uint8Array(0),
    scopes: target.scopes,
    subject,
    expect: [202],
  });
  const minimum = Number(opened.response.headers.get('oci-chunk-min-length') ?? 0);
  const chunkSize = Math.max(options.chunkSize ?? DEFAULT_CHUNK_SIZE, Number.isFinite(minimum) ? minimum : 0, 1);
  let location = nextLocation(opened, target, undefined);
  await opened.response.body?.cancel().catch(() => undefined);

  let body: Uint8Array = new Uint8Array(0);
  if (size <= chunkSize) {
    body = 'bytes' in blob ? blob.bytes : await readWhole(blob);
  } else {
    let offset = 0;
    for await (const chunk of chunksOf(blob, chunkSize)) {
      const patched = await target.exchange({
        method: 'PATCH',
        url: location,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.byteLength - 1}` },
        body: chunk,
        scopes: target.scopes,
        subject,
        expect: [202, 204],
      });
      await patched.response.body?.cancel().catch(() => undefined);
      location = nextLocation(patched, target, location);
      offset += chunk.byteLength;
    }
    if (offset !== size) throw sizeChanged(target, blob, offset, size);
  }
  const closed = await target.exchange({
    method: 'PUT',
    url: withDigest(location, digest),
    headers: { 'content-type': 'application/octet-stream' },
    body,
    scopes: target.scopes,
    subject,
    expect: [201, 200, 204],
  });
  await closed.response.body?.cancel().catch(() => undefined);
  const stored = closed.response.headers.get('docker-content-digest');
  if (stored !== null && stored !== digest) {
    throw new RegistryError(`registry ${target.registry} stored blob "${subject}" under digest ${stored}`, {
      status: closed.response.status,
      registry: target.registry,
      repo: target.name,
      hint: 'the content changed during the upload or the registry mangled it; retry the push',
    });
  }
  return { digest, size };
}

/**
 * Mounts a blob from another repository of the same registry. True when mounted (201); false when the registry
 * declined (202 opens a plain upload session, which is cancelled here; the caller then uploads the blob).
 */
export async function mountBlob(target: UploadTarget, digest: string, from: string): Promise<boolean> {
  const url = target.uploadsUrl();
  url.search = `mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
  const answer = await target.exchange({ method: 'POST', url, body: new Uint8Array(0), scopes: target.scopes, subject: `${target.name}@${digest}`, expect: [201, 202] });
  await answer.response.body?.cancel().catch(() => undefined);
  if (answer.response.status === 201) return true;
  const location = answer.response.headers.get('location');
  if (location !== null) {
    await target
      .exchange({ method: 'DELETE', url: new URL(location, answer.url), scopes: target.scopes, subject: `${target.name}@${digest}`, expect: [200, 202, 204, 404] })
      .then((cancelled) => cancelled.response.body?.cancel())
      .catch(() => undefined); // a session left open expires on its own
  }
  return false;
}

/** The session URL from an answer's `Location` (relative ones resolved against the request); `fallback` when absent. */
function nextLocation(answer: HttpResponse, target: UploadTarget, fallback: URL | undefined): URL {
  const location = answer.response.headers.get('location');
  if (location !== null) return new URL(location, answer.url);
  if (fallback !== undefined) return fallback;
  throw new RegistryError(`registry ${target.registry} opened an upload session for "${target.name}" without a Location header`, {
    status: answer.response.status,
    registry: target.registry,
    repo: target.name,
    hint: 'the registry does not follow the distribution spec for uploads; run with --debug to see the requests',
  });
}

/** Adds `digest=` to an upload URL, keeping its own query (session state) byte for byte. */
function withDigest(location: URL, digest: string): string {
  const text = location.toString();
  return `${text}${location.search === '' ? '?' : '&'}digest=${encodeURIComponent(digest)}`;
}

/**
 * Re-chunks a source into pieces of exactly `size` bytes (the last may be shorter). A file goes through one
 * buffer, refilled only after the request that sent the previous piece (retries included) has finished, so a
 * large upload holds one chunk, not a trail of garbage chunks.
 */
async function* chunksOf(blob: BlobSource, size: number): AsyncIterable<Uint8Array> {
  if ('bytes' in blob) {
    for (let offset = 0; offset < blob.bytes.byteLength; offset += size) yield blob.bytes.subarray(offset, offset + size);
    return;
  }
  const buffer = new Uint8Array(size);
  let filled = 0;
  for await (const piece of readFileReusingBuffer(blob.path)) {
    let consumed = 0;
    while (consumed < piece.byteLength) {
      const take = Math.min(size - filled, piece.byteLength - consumed);
      buffer.set(piece.subarray(consumed, consumed + take), filled);
      filled += take;
      consumed += take;
      if (filled === size) {
        yield buffer;
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

async function readWhole(blob: { path: string; size: number; digest: string }): Promise<Uint8Array> {
  const whole = new Uint8Array(blob.size);
  let offset = 0;
  for await (const piece of readFileReusingBuffer(blob.path)) {
    if (offset + piece.byteLength > blob.size) throw sizeChanged(undefined, blob, offset + piece.byteLength, blob.size);
    whole.set(piece, offset);
    offset += piece.byteLength;
  }
  if (offset !== blob.size) throw sizeChanged(undefined, blob, offset, blob.size);
  return whole;
}

/** A local file that no longer matches its descriptor: not the registry's doing, so no RegistryError (and no made-up status). */
function sizeChanged(target: UploadTarget | undefined, blob: BlobSource, actual: number, expected: number): RegplanError {
  const where = 'path' in blob ? `file ${blob.path}` : 'the blob';
  return new RegplanError(`${where} has ${actual} bytes, not the ${expected} its descriptor says`, {
    context: target === undefined ? {} : { registry: target.registry, repo: target.name },
    hint: 'the file changed after it was packaged; package it again',
  });
}
