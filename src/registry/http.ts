/**
 * The HTTP edge of the registry client, built on ky: retries 408/429/503 and dropped connections with capped
 * exponential backoff that honours `Retry-After` (seconds or HTTP date); follows redirects itself
 * (`redirect: 'manual'`) so `Authorization` never reaches another origin and plain http is refused on the way;
 * prints one debug line per request (method, redacted URL, status, never headers).
 */
import ky, { HTTPError, isNetworkError, isTimeoutError } from 'ky';
import { NetworkError, RegistryError } from '../errors.ts';
import { isLoopbackHost } from './reference.ts';
import { oneLine, redactUrl, type SecretSet } from './redact.ts';

/** Retry tuning; tests pass tiny delays. */
export interface RetryOptions {
  /** Total attempts per request, first one included (default 5). */
  attempts?: number;
  /** First backoff delay; doubles per attempt (default 500 ms). */
  baseDelayMs?: number;
  /** Cap on any single wait, including one a `Retry-After` asks for (default 60 s). */
  maxDelayMs?: number;
}

/** One request as the client describes it; the body is always in memory (a bounded chunk) so it can be retried. */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string | URL;
  headers?: Record<string, string>;
  body?: Uint8Array | string | URLSearchParams;
}

/** A response plus the URL it finally came from (after redirects), for resolving relative Link/Location. */
export interface HttpResponse {
  response: Response;
  url: URL;
}

/** What the transport needs to know about its client. */
export interface TransportOptions {
  fetch?: typeof fetch;
  userAgent?: string;
  debug?: (line: string) => void;
  retry?: RetryOptions;
  /** Per-attempt timeout for getting a response (default 120 s; uploads send up to one chunk per request). */
  timeoutMs?: number;
  /** Plain http is allowed for this host (loopback, or the client was built with `insecure: true`). */
  allowHttp: (host: string) => boolean;
  secrets: SecretSet;
  /**
   * A vendor's own retry rule (GitHub's 403 rate limits, Selectel's 409 during GC): for an answer not otherwise
   * retried, the wait in ms before retrying it, or undefined when it is final. Same attempts and cap as the rest.
   */
  retryWhen?: (response: Response) => number | undefined;
}

const RETRY_STATUSES = [408, 429, 503];

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
const MAX_REDIRECTS = 10;

/** Sends requests with retries and safe redirects; error statuses are returned, not thrown (see error-response.ts). */
export class HttpTransport {
  readonly #options: TransportOptions;
  readonly #ky: typeof ky;

  constructor(options: TransportOptions) {
    this.#options = options;
    const retry = options.retry ?? {};
    const attempts = Math.max(1, retry.attempts ?? 5);
    const base = retry.baseDelayMs ?? 500;
    const max = retry.maxDelayMs ?? 60_000;
    const underlying = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#ky = ky.create({
      redirect: 'manual',
      throwHttpErrors: (status) => RETRY_STATUSES.includes(status),
      timeout: options.timeoutMs ?? 120_000,
      retry: {
        limit: attempts - 1,
        methods: ['get', 'head', 'put', 'post', 'patch', 'delete'],
        statusCodes: RETRY_STATUSES,
        afterStatusCodes: [429, 503],
        maxRetryAfter: max,
        backoffLimit: max,
        delay: (attempt) => base * 2 ** (attempt - 1),
      },
      hooks: {
        afterResponse: [
          ({ response, retryCount }) => {
            if (options.retryWhen === undefined || retryCount >= attempts - 1) return undefined;
            const wait = options.retryWhen(response);
            return wait === undefined ? undefined : ky.retry({ delay: Math.min(Math.max(0, wait), max) });
          },
        ],
      },
      fetch: (input, init) => this.#loggedFetch(underlying, input, init),
    });
  }

  /** Sends one request, following up to 10 redirects; throws NetworkError when the host cannot be reached. */
  async send(request: HttpRequest): Promise<HttpResponse> {
    let url = new URL(request.url);
    let method = request.method;
    let headers = { ...request.headers };
    let body = request.body;
    const origin = url.origin;
    for (let hop = 0; ; hop++) {
      this.assertSchemeAllowed(url);
      const response = await this.#sendOnce({ method, url, headers, ...(body === undefined ? {} : { body }) });
      const location = response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(response.status) || location === null) return { response, url };
      if (hop >= MAX_REDIRECTS) {
        throw new NetworkError(`too many redirects for ${method} ${redactUrl(request.url)}`, { hint: 'the registry redirects in a loop; check its proxy configuration' });
      }
      await response.body?.cancel().catch(() => undefined);
      url = new URL(location, url);
      if (url.origin !== origin) headers = withoutAuthorization(headers);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-/i.test(k)));
      }
    }
  }

  /** Throws (before any network traffic) when `url` is plain http to a host that is neither loopback nor insecure. */
  assertSchemeAllowed(url: URL): void {
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && this.#options.allowHttp(url.host)) return;
    throw new RegistryError(`refusing to contact ${redactUrl(url)} over ${url.protocol.replace(':', '')}: only https is allowed for ${url.host}`, {
      status: 0,
      registry: url.host,
      hint: `plain http is used only for loopback hosts; set "registries.${url.host}.insecure: true" in the config if this registry really has no TLS`,
    });
  }

  async #sendOnce(request: { method: string; url: URL; headers: Record<string, string>; body?: Uint8Array | string | URLSearchParams }): Promise<Response> {
    const headers = new Headers(request.headers);
    if (this.#options.userAgent !== undefined && !headers.has('user-agent')) headers.set('user-agent', this.#options.userAgent);
    const large = request.body instanceof Uint8Array && request.body.byteLength > STREAMED_BODY_MIN;
    if (large) headers.set('content-length', String((request.body as Uint8Array).byteLength));
    try {
      return await this.#ky(request.url, {
        method: request.method,
        headers,
        ...(request.body === undefined ? {} : large ? { body: viewStream(request.body as Uint8Array), duplex: 'half' } : { body: request.body as BodyInit }),
        ...(request.method === 'PATCH' ? { retry: { limit: this.#retryLimit(), shouldRetry: ({ error }) => (isNetworkError(error) ? false : undefined) } } : {}),
      });
    } catch (error) {
      if (error instanceof HTTPError) return rebuildResponse(error); // a retryable status, out of attempts
      if (isNetworkError(error) || isTimeoutError(error)) {
        const cause = error.cause instanceof Error ? `: ${error.cause.message}${causeCode(error.cause)}` : '';
        throw new NetworkError(this.#options.secrets.scrub(`cannot reach ${request.url.host} (${request.method} ${redactUrl(request.url)})${isTimeoutError(error) ? ': timed out' : cause}`), {
          hint: 'check the host name, port, proxy and network; regplan already retried with backoff',
          cause: error,
          context: { registry: request.url.host },
        });
      }
      throw error;
    }
  }

  #retryLimit(): number {
    return Math.max(1, this.#options.retry?.attempts ?? 5) - 1;
  }

  async #loggedFetch(underlying: typeof fetch, input: RequestInfo | URL, init: RequestInit | undefined): Promise<Response> {
    const request = input instanceof Request ? input : new Request(input, init);
    const started = Date.now();
    const line = `${request.method} ${redactUrl(request.url)}`;
    try {
      const response = await underlying(input, init);
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

/** The headers without `Authorization` (any case): what follows a redirect to another origin. */
export function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([key]) => key.toLowerCase() !== 'authorization'));
}

/** True when plain http to `host` is acceptable: loopback always, anything else only when `insecure`. */
export const httpAllowed = (host: string, insecure: boolean): boolean => insecure || isLoopbackHost(host);

function causeCode(cause: unknown): string {
  const code = (cause as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code ?? (cause as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' ? ` (${code})` : '';
}

/** ky consumed the body of the last retryable response into `error.data`; rebuild a Response from it. */
function rebuildResponse(error: HTTPError): Response {
  const data: unknown = error.data;
  const body = data === undefined ? null : typeof data === 'string' ? data : JSON.stringify(data);
  return new Response(body, { status: error.response.status, statusText: error.response.statusText, headers: error.response.headers });
}
