/**
 * The HTTP edge of the registry client and the native APIs, built on ky. One attempt = fetch + (for 2xx GETs and
 * callers that ask) reading the body within its cap, so a body cut short is retried like a dropped connection.
 * ky's retry loop runs the policy of retry-policy.ts: an `afterResponse` hook resends retryable answers with
 * `ky.retry({delay})` (5xx, 429 with Retry-After, a vendor's `retryWhen`), `shouldRetry` decides on failed
 * attempts, and every wait of 2 s or more is announced through `onWait` before it starts. Redirects are followed
 * here (`redirect: 'manual'`) so `Authorization` never reaches another origin and plain http is refused on the
 * way; one debug line per attempt (method, redacted URL, status, never headers), built only with --debug.
 * Connections stay open for every method, HEAD included, through one shared dispatcher (connections.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import ky, { isNetworkError as isConnectionFailure, isTimeoutError } from 'ky';
import { isRegplanError, NetworkError, ProtocolError } from '../errors.ts';
import { BODY_LIMITS, readBody } from './body.ts';
import { keepAliveDispatcher } from './connections.ts';
import { isLoopbackHost } from './reference.ts';
import { oneLine, redactUrl, type SecretSet } from './redact.ts';
import { IDEMPOTENT_METHODS, isIdempotent, retryableAnswer, retryableFailure, retryDelay, retryTuning, WAIT_NOTICE_MIN_MS, waitNotice, type RetryOptions, type RetryTuning } from './retry-policy.ts';

export { BODY_LIMITS, readBody, type ReadBodyOptions } from './body.ts';
export type { RetryOptions } from './retry-policy.ts';

/** A 2xx body the transport reads within the attempt (so a broken one is retried), holding at most `limit` bytes. */
export interface BodyRead {
  limit: number;
  /** What it is, for messages: `manifest`, `tag list page`. */
  what: string;
}

/** One request as the client describes it; the body is always in memory (a bounded chunk) so it can be retried. */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string | URL;
  headers?: Record<string, string>;
  body?: Uint8Array | string | URLSearchParams;
  /**
   * Read a 2xx body inside the attempt. Default for GET: up to BODY_LIMITS.json (a JSON answer); other methods
   * leave the body to the caller unless asked. `false` leaves a GET's body unread, to be streamed by the caller.
   */
  read?: BodyRead | false;
}

/** A response plus the URL it finally came from (after redirects), for resolving relative Link/Location. */
export interface HttpResponse {
  response: Response;
  url: URL;
}

/** Settings a whole command run shares (settings.timeout, where wait notices go); see withTransportDefaults. */
export interface TransportDefaults {
  /** Per-attempt timeout for getting a response and reading a buffered body. */
  timeoutMs?: number;
  /** Told about every retry wait of 2 s or more, before it starts. */
  onWait?: (message: string) => void;
  /** Open connections per origin (settings.concurrency; default 8): requests beyond it wait for a free one. */
  connectionsPerHost?: number;
}

/** What the transport needs to know about its client. */
export interface TransportOptions extends TransportDefaults {
  fetch?: typeof fetch;
  userAgent?: string;
  debug?: (line: string) => void;
  retry?: RetryOptions;
  /** Plain http is allowed for this host (loopback, typically; see httpAllowed). */
  allowHttp: (host: string) => boolean;
  /**
   * The one non-loopback host plain http may reach: the registry the user marked `insecure`. A token realm or a
   * redirect on another host does not inherit it (credentials would cross the network unencrypted).
   */
  insecureHost?: string;
  /**
   * Vendor retry hook for answers not otherwise retried (GitHub's 403 with `x-ratelimit-remaining: 0`, Selectel's
   * 409 during GC): the wait in ms before resending, or undefined. Same attempt budget, cap and `onWait` notice.
   * Returning a number vouches that the request was not carried out, so any method is resent.
   */
  retryWhen?: (response: Response) => number | undefined;
  secrets: SecretSet;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const defaultsScope = new AsyncLocalStorage<TransportDefaults>();

/**
 * Runs `body` with transport defaults that every HttpTransport built inside it (and in what it awaits) picks up
 * unless its own options say otherwise. The CLI sets settings.timeout and its stderr notice printer once per run
 * this way, so drivers need not pass them to each RegistryClient and NativeApi they build.
 */
export function withTransportDefaults<T>(defaults: TransportDefaults, body: () => T): T {
  return defaultsScope.run({ ...defaultsScope.getStore(), ...defaults }, body);
}

/**
 * Bodies above this size (upload chunks) are sent as a stream of views of the caller's bytes with an explicit
 * Content-Length. fetch copies a Uint8Array body, and ky's retry clone of a byte stream copies it again, so each
 * 8 MiB chunk left ~3 copies of garbage and a 200 MB upload peaked near 250 MB of RSS; as views (and with
 * upload.ts reusing its chunk buffer) it stays at the process's baseline. The views share the caller's buffer,
 * which upload.ts refills only after this request, retries included, is done, so a retry resends it intact.
 */
const STREAMED_BODY_MIN = 1 << 20;

/** A (non-byte) stream of 64 KiB views of `bytes`: nothing is copied, and a tee shares the same views. */
function viewStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let offset = 0; offset < bytes.byteLength; offset += 1 << 16) controller.enqueue(bytes.subarray(offset, offset + (1 << 16)));
      controller.close();
    },
  });
}
/** `bytes` as a one-chunk stream: a Response built from a Uint8Array would copy it, and a tee of this shares the chunk. */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}
const MAX_REDIRECTS = 10;
/** Statuses whose answers carry no body (a Response built with one throws). */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

type Hop = { method: HttpRequest['method']; url: URL; headers: Record<string, string>; body?: Uint8Array | string | URLSearchParams; read: BodyRead | undefined };

/** Sends requests with retries and safe redirects; error statuses are returned, not thrown (see error-response.ts). */
export class HttpTransport {
  readonly #options: TransportOptions;
  readonly #tuning: RetryTuning;
  readonly #timeoutMs: number;
  readonly #onWait: ((message: string) => void) | undefined;
  readonly #fetch: typeof fetch;
  /** The keep-alive dispatcher (connections.ts) when this transport uses the global fetch; resolved at the first request. */
  readonly #dispatcher: (() => Promise<unknown>) | undefined;
  readonly #ky: typeof ky;

  constructor(options: TransportOptions) {
    const defaults = defaultsScope.getStore() ?? {};
    this.#options = options;
    this.#tuning = retryTuning(options.retry);
    this.#timeoutMs = options.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#onWait = options.onWait ?? defaults.onWait;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    const connections = options.connectionsPerHost ?? defaults.connectionsPerHost;
    this.#dispatcher = options.fetch === undefined ? () => keepAliveDispatcher(connections) : undefined;
    this.#ky = ky.create({ redirect: 'manual', throwHttpErrors: false, timeout: this.#timeoutMs });
  }

  /** Sends one request, following up to 10 redirects; throws NetworkError when the host cannot be reached. */
  async send(request: HttpRequest): Promise<HttpResponse> {
    let url = new URL(request.url);
    let method = request.method;
    let headers = { ...request.headers };
    let body = request.body;
    const read = request.read === false ? undefined : (request.read ?? (method === 'GET' ? { limit: BODY_LIMITS.json, what: 'answer' } : undefined));
    const origin = url.origin;
    for (let hop = 0; ; hop++) {
      this.assertSchemeAllowed(url);
      const response = await this.#sendOnce({ method, url, headers, read, ...(body === undefined ? {} : { body }) });
      const location = response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(response.status) || location === null) return { response, url };
      if (hop >= MAX_REDIRECTS) {
        throw new ProtocolError(`too many redirects for ${method} ${redactUrl(request.url)}`, {
          code: 'TOO_MANY_REDIRECTS',
          registry: url.host,
          url: redactUrl(request.url),
          hint: 'the registry redirects in a loop; check its proxy configuration',
        });
      }
      await response.body?.cancel().catch(() => undefined);
      url = new URL(location, url);
      if (url.origin !== origin) headers = headersForAnotherOrigin(headers);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-/i.test(k)));
      }
    }
  }

  /** Throws (before any network traffic) when `url` is plain http to a host that is neither loopback nor the insecure registry. */
  assertSchemeAllowed(url: URL): void {
    if (url.protocol === 'https:') return;
    const insecureHost = this.#options.insecureHost;
    if (url.protocol === 'http:' && (this.#options.allowHttp(url.host) || url.host === insecureHost)) return;
    throw new ProtocolError(`refusing to contact ${redactUrl(url)} over ${url.protocol.replace(':', '')}: only https is allowed for ${url.host}`, {
      code: 'INSECURE_SCHEME',
      registry: url.host,
      url: redactUrl(url),
      hint: insecureHost !== undefined && url.protocol === 'http:'
        ? `"insecure" covers only ${insecureHost} itself; ${url.host} (a token realm or redirect target) must serve https, or credentials and signed URLs would cross the network unencrypted`
        : `plain http is used only for loopback hosts; set "registries.${url.host}.insecure: true" in the config if this registry really has no TLS`,
    });
  }

  async #sendOnce(hop: Hop): Promise<Response> {
    const headers = new Headers(hop.headers);
    if (this.#options.userAgent !== undefined && !headers.has('user-agent')) headers.set('user-agent', this.#options.userAgent);
    const large = hop.body instanceof Uint8Array && hop.body.byteLength > STREAMED_BODY_MIN;
    if (large) headers.set('content-length', String((hop.body as Uint8Array).byteLength));
    const limit = this.#tuning.attempts - 1;
    let nextDelay = 0;
    try {
      return await this.#ky(hop.url, {
        method: hop.method,
        headers,
        ...(hop.body === undefined ? {} : large ? { body: viewStream(hop.body as Uint8Array), duplex: 'half' } : { body: hop.body as BodyInit }),
        fetch: (input, init) => this.#attempt(input, init, hop),
        retry: {
          limit,
          methods: [...IDEMPOTENT_METHODS],
          statusCodes: [],
          afterStatusCodes: [],
          delay: () => nextDelay,
          shouldRetry: ({ error, retryCount }) => {
            const reason = retryableFailure(error);
            if (reason === undefined) return false;
            nextDelay = this.#waitBefore(hop, { retry: retryCount, reason });
            return true;
          },
        },
        hooks: {
          afterResponse: [
            ({ response, retryCount }) => {
              if (retryCount >= limit) return undefined; // out of attempts: the caller gets this answer
              const verdict = retryableAnswer(hop.method, response, this.#options.retryWhen);
              if (verdict === undefined) return undefined;
              return ky.retry({ delay: this.#waitBefore(hop, { retry: retryCount + 1, ...verdict }), code: verdict.reason });
            },
          ],
        },
      });
    } catch (error) {
      if (isRegplanError(error)) throw error; // a body cut short or over its limit (from #attempt)
      if (isConnectionFailure(error) || isTimeoutError(error)) {
        const cause = error.cause instanceof Error ? `: ${error.cause.message}${causeCode(error.cause)}` : '';
        const timedOut = isTimeoutError(error);
        throw new NetworkError(this.#options.secrets.scrub(`cannot reach ${hop.url.host} (${hop.method} ${redactUrl(hop.url)})${timedOut ? `: timed out after ${this.#timeoutMs / 1000}s` : cause}`), {
          hint: timedOut
            ? 'the registry did not answer within settings.timeout; raise it for a slow registry, or check the network and proxy'
            : `check the host name, port, proxy and network${isIdempotent(hop.method) ? '; regplan already retried with backoff' : ''}`,
          cause: error,
          context: { registry: hop.url.host, url: redactUrl(hop.url) },
        });
      }
      throw error;
    }
  }

  /** One attempt: fetch, then read a 2xx body the request wants read, so a break in it fails (and retries) the attempt. */
  async #attempt(input: RequestInfo | URL, init: RequestInit | undefined, hop: Hop): Promise<Response> {
    const response = await this.#loggedFetch(input, init);
    if (hop.read === undefined || response.status < 200 || response.status > 299 || NULL_BODY_STATUSES.has(response.status) || response.body === null) return response;
    const url = input instanceof Request ? input.url : hop.url;
    const bytes = await readBody(response, { limit: hop.read.limit, url, what: hop.read.what, method: hop.method });
    return new Response(streamOf(bytes), { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  /** The wait before retry number `retry` of `hop`; logs it and, from 2 s on, tells onWait first. */
  #waitBefore(hop: Hop, options: { retry: number; reason: string; askedMs?: number | undefined }): number {
    const delayMs = retryDelay(options.retry, this.#tuning, options.askedMs);
    const notice = waitNotice({ delayMs, method: hop.method, url: redactUrl(hop.url), reason: options.reason, attempt: options.retry + 1, attempts: this.#tuning.attempts });
    this.#debug(`${notice} [${delayMs} ms]`);
    if (delayMs >= WAIT_NOTICE_MIN_MS) this.#onWait?.(this.#options.secrets.scrub(notice));
    return delayMs;
  }

  /** fetch, plus one debug line per attempt when debugging (only then is the URL redacted and the clock read). */
  async #loggedFetch(input: RequestInfo | URL, givenInit: RequestInit | undefined): Promise<Response> {
    const dispatcher = await this.#dispatcher?.();
    const init = dispatcher === undefined ? givenInit : ({ ...givenInit, dispatcher } as RequestInit);
    if (this.#options.debug === undefined) return this.#fetch(input, init);
    const line = input instanceof Request ? `${input.method} ${redactUrl(input.url)}` : `${init?.method ?? 'GET'} ${redactUrl(String(input))}`;
    const started = Date.now();
    try {
      const response = await this.#fetch(input, init);
      this.#debug(`${line} -> ${response.status} (${Date.now() - started} ms)`);
      return response;
    } catch (error) {
      this.#debug(`${line} -> failed: ${error instanceof Error ? error.message : 'error'}${error instanceof Error ? causeCode(error.cause) : ''}`);
      throw error;
    }
  }

  #debug(line: string): void {
    this.#options.debug?.(this.#options.secrets.scrub(oneLine(line, 1000)));
  }
}

/** Headers that carry no credential, whatever the vendor: the only ones a redirect to another origin keeps. */
const HEADERS_SAFE_ACROSS_ORIGINS = new Set(['accept', 'accept-encoding', 'user-agent', 'content-type', 'content-length', 'range']);

/**
 * What follows a redirect to another origin: only headers known to carry no credential. An allowlist, not a
 * denylist: vendors invent credential headers (`X-Auth-Token`, `PRIVATE-TOKEN`, `JOB-TOKEN`, `X-JFrog-Art-Api`)
 * and every one of them must stay with the origin it was meant for.
 */
export function headersForAnotherOrigin(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([key]) => HEADERS_SAFE_ACROSS_ORIGINS.has(key.toLowerCase())));
}

/**
 * True when plain http to `host` is acceptable: loopback always, anything else when `insecure`. Gives every host
 * the same answer, so a client for one insecure registry should use `isLoopbackHost` plus `insecureHost` instead.
 */
export const httpAllowed = (host: string, insecure: boolean): boolean => insecure || isLoopbackHost(host);

function causeCode(cause: unknown): string {
  const code = (cause as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code ?? (cause as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' ? ` (${code})` : '';
}
