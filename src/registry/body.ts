/**
 * Reading response bodies with a ceiling. fetch's `text()`/`arrayBuffer()` hold whatever arrives (a 600 MB tag
 * list took 1.93 GB and ended in an internal error), and a connection that breaks mid-body surfaces as undici's
 * bare "terminated". readBody reads the stream chunk by chunk, cancels it the moment the limit is passed, and
 * turns a broken stream into a TruncatedBodyError naming the (redacted) URL. http.ts re-exports it.
 */
import { BodyTooLargeError, TruncatedBodyError } from '../errors.ts';
import { redactUrl } from './redact.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * What regplan holds in memory per response body, by kind. Anything bigger is refused (BodyTooLargeError), never
 * buffered: these are bodies regplan parses whole, so streaming them would not help.
 */
export const BODY_LIMITS = {
  /** Manifests and indexes: the distribution spec asks registries to accept at least 4 MB, so portable ones fit. */
  manifest: 4 * MiB,
  /** Image config blobs: real ones are a few KiB (history and labels included); 8 MiB is generous and still bounded. */
  config: 8 * MiB,
  /**
   * JSON API answers: one page of tags, catalog or referrers, a token, a native-API page. 16 MiB holds ~500k tag
   * names in one page; a registry that sends more must be paged (`n`), which every registry regplan knows supports.
   */
  json: 16 * MiB,
  /** A blob read whole by `getBlob` (verified against its digest in memory); regplan never downloads layers. */
  blob: 64 * MiB,
  /** Error bodies: only their first line or OCI error entries are shown, so the rest is not worth holding. */
  error: 64 * KiB,
} as const;

/** How one body is read. */
export interface ReadBodyOptions {
  /** Bytes at most; see BODY_LIMITS. */
  limit: number;
  /** The URL the body came from; shown redacted in errors. */
  url: string | URL;
  /** What the body is, for messages: `manifest`, `tag list page`, `Harbor API answer`. */
  what: string;
  /** The request method, for messages (default GET). */
  method?: string;
  /** Replaces the generic hint of a BodyTooLargeError. */
  hint?: string;
  /** Return the first `limit` bytes (and whatever arrived before a break) instead of throwing: for error bodies. */
  truncate?: boolean;
  /** `text` decodes UTF-8; the default returns bytes. */
  as?: 'bytes' | 'text';
}

/** Reads a body, holding at most `limit` bytes; throws BodyTooLargeError past the limit, TruncatedBodyError when the stream breaks. */
export function readBody(response: Response, options: ReadBodyOptions & { as: 'text' }): Promise<string>;
/** Reads a body as bytes, holding at most `limit` bytes. */
export function readBody(response: Response, options: ReadBodyOptions & { as?: 'bytes' }): Promise<Uint8Array>;
export async function readBody(response: Response, options: ReadBodyOptions): Promise<Uint8Array | string> {
  const bytes = await readBytes(response, options);
  return options.as === 'text' ? new TextDecoder().decode(bytes) : bytes;
}

async function readBytes(response: Response, options: ReadBodyOptions): Promise<Uint8Array> {
  const body = response.body;
  if (body === null) return new Uint8Array(0);
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (options.truncate !== true && Number.isFinite(declared) && declared > options.limit) {
    await body.cancel().catch(() => undefined);
    throw tooLarge(options);
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let overflow = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (total + value.byteLength > options.limit) {
        overflow = true;
        if (options.truncate === true) chunks.push(value.subarray(0, options.limit - total));
        total = Math.min(options.limit, total + value.byteLength);
        break;
      }
      chunks.push(value);
      total += value.byteLength;
    }
  } catch (error) {
    if (options.truncate !== true) throw truncated(options, total, declared, error);
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  if (overflow && options.truncate !== true) throw tooLarge(options);
  return concat(chunks);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function tooLarge(options: ReadBodyOptions): BodyTooLargeError {
  const url = redactUrl(options.url);
  return new BodyTooLargeError(`${options.what} from ${options.method ?? 'GET'} ${url} is larger than ${formatBytes(options.limit)}`, {
    limit: options.limit,
    url,
    registry: hostOf(options.url),
    hint: options.hint ?? `regplan reads at most ${formatBytes(options.limit)} of a ${options.what} and does not hold more in memory; check that the URL really serves one`,
  });
}

function truncated(options: ReadBodyOptions, received: number, declared: number, cause: unknown): TruncatedBodyError {
  const of = Number.isFinite(declared) ? ` of ${declared}` : '';
  const why = cause instanceof Error ? `: ${cause.message}` : '';
  return new TruncatedBodyError(`the connection broke while reading the ${options.what} of ${options.method ?? 'GET'} ${redactUrl(options.url)} (after ${received}${of} bytes${why})`, {
    hint: 'the registry or a proxy closed the connection early; GET, HEAD, PUT and DELETE were already retried with backoff. Run again later, and check proxies or load balancers in between if it persists',
    cause,
    context: { registry: hostOf(options.url), url: redactUrl(options.url) },
  });
}

function hostOf(url: string | URL): string {
  try {
    return new URL(url).host;
  } catch {
    return '<invalid url>';
  }
}

/** `4 MiB`, `64 KiB`, or `10000 bytes`: a limit as people read it. */
export function formatBytes(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} bytes`;
}
