/**
 * The one HTTP client every native driver uses for its registry's own REST API (Harbor, Quay, Hub, GitHub,
 * GitLab, ACR, Selectel, …): JSON in and out, the same transport as the Registry API client (retries of
 * 408/429/503 honouring Retry-After, safe redirects, http only for loopback or `insecure`), vendor error bodies
 * turned into RegistryError/AuthError quoting the vendor's message, and every secret it handled masked in text.
 */
import { Buffer } from 'node:buffer';
import { AuthError, RegistryError } from '../errors.ts';
import { BODY_LIMITS, HttpTransport, httpAllowed, readBody, type RetryOptions } from '../registry/http.ts';
import { oneLine, redactUrl, SecretSet } from '../registry/redact.ts';

/** How a native API is reached and authenticated. */
export interface NativeApiOptions {
  /** Base URL, e.g. `https://harbor.example.com/api/v2.0` (from `registries.<host>.api` or derived from the host). */
  base: string;
  /** Human name for messages, e.g. "Harbor API". */
  title: string;
  /** The `Authorization` header value, looked up lazily (may be undefined for anonymous calls). */
  authorization?: () => Promise<string | undefined>;
  /** Extra headers sent with every request (e.g. `X-GitHub-Api-Version`). */
  headers?: Record<string, string>;
  /** What to tell the user on 401/403, e.g. "set REGPLAN_REPO_HARBOR_USERNAME/PASSWORD to a project admin". */
  authHint: string;
  insecure?: boolean;
  debug?: (line: string) => void;
  retry?: RetryOptions;
  fetch?: typeof fetch;
}

/** One JSON answer. */
export interface NativeResponse<T> {
  status: number;
  data: T;
  headers: Headers;
  url: URL;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A JSON REST client for one registry's native API. */
export class NativeApi {
  readonly title: string;
  readonly base: URL;
  readonly #options: NativeApiOptions;
  readonly #secrets = new SecretSet();
  readonly #transport: HttpTransport;
  #authorization: Promise<string | undefined> | undefined;

  constructor(options: NativeApiOptions) {
    this.#options = options;
    this.title = options.title;
    this.base = new URL(options.base.endsWith('/') ? options.base : `${options.base}/`);
    this.#transport = new HttpTransport({
      allowHttp: (host) => httpAllowed(host, options.insecure === true),
      secrets: this.#secrets,
      userAgent: 'regplan',
      ...(options.debug === undefined ? {} : { debug: options.debug }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
  }

  /** Remembers a secret so it is masked in every message and debug line. */
  addSecret(secret: string | undefined): void {
    this.#secrets.add(secret);
  }

  /** The absolute URL of `path` (relative to the base) with query parameters. */
  url(path: string, query: Record<string, string | number | undefined> = {}): URL {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url;
  }

  /**
   * Sends one request; statuses in `expect` (default 2xx) return, any other throws RegistryError (AuthError on
   * 401/403) with the vendor's message. A JSON body is parsed; an empty one gives `undefined`.
   */
  async request<T = unknown>(
    method: Method,
    target: string | URL,
    options: { query?: Record<string, string | number | undefined>; body?: unknown; form?: URLSearchParams; expect?: number[]; subject?: string } = {},
  ): Promise<NativeResponse<T>> {
    const url = typeof target === 'string' ? this.url(target, options.query) : target;
    const headers: Record<string, string> = { accept: 'application/json', ...this.#options.headers };
    this.#authorization ??= this.#options.authorization?.() ?? Promise.resolve(undefined);
    const authorization = await this.#authorization;
    if (authorization !== undefined) {
      this.#secrets.add(authorization);
      this.#secrets.add(authorization.replace(/^\S+\s+/, ''));
      headers['authorization'] = authorization;
    }
    let body: string | URLSearchParams | undefined;
    if (options.form !== undefined) body = options.form;
    else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const { response, url: finalUrl } = await this.#transport.send({ method, url, headers, ...(body === undefined ? {} : { body }) });
    const text = method === 'DELETE' && response.status === 204 ? '' : await readBody(response, { limit: BODY_LIMITS.json, url: finalUrl, what: `${this.title} answer`, method, as: 'text' });
    const ok = options.expect ? options.expect.includes(response.status) : response.status >= 200 && response.status < 300;
    if (!ok) throw this.#error(method, url, response, text, options.subject);
    let data: unknown;
    if (text.trim() !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    return { status: response.status, data: data as T, headers: response.headers, url: finalUrl };
  }

  /** GET that parses JSON; shorthand for `request('GET', …)`. */
  async get<T>(path: string | URL, query?: Record<string, string | number | undefined>, expect?: number[]): Promise<NativeResponse<T>> {
    return this.request<T>('GET', path, { ...(query === undefined ? {} : { query }), ...(expect === undefined ? {} : { expect }) });
  }

  #error(method: Method, url: URL, response: Response, text: string, subject: string | undefined): RegistryError {
    const vendor = this.#secrets.scrub(oneLine(vendorMessage(text), 300));
    const what = `${this.title} refused ${method} ${subject === undefined ? redactUrl(url) : `"${subject}"`}: HTTP ${response.status}${vendor ? ` ${JSON.stringify(vendor)}` : ''}`;
    const options = { status: response.status, registry: url.host, ...(subject === undefined ? {} : { repo: subject }) };
    if (response.status === 401 || response.status === 403) return new AuthError(what, { ...options, hint: this.#options.authHint });
    const retryAfter = response.headers.get('retry-after');
    const hint =
      response.status === 404
        ? `check the repository name; ${this.title} does not know it`
        : response.status === 429
          ? `the API is rate limiting${retryAfter ? ` (Retry-After: ${oneLine(retryAfter, 40)})` : ''}; retry later or lower settings.concurrency`
          : response.status >= 500
            ? `${this.title} failed; retry later`
            : `see ${this.title}'s message above`;
    return new RegistryError(what, { ...options, hint });
  }
}

/** The human message in a vendor error body: `message`, `errors[].message`, `error_description`, `detail`, or the text. */
export function vendorMessage(text: string): string {
  try {
    const data = JSON.parse(text) as Record<string, unknown>;
    const errors = Array.isArray(data['errors']) ? (data['errors'] as Record<string, unknown>[]) : [];
    const first = errors[0];
    const nested = typeof data['error'] === 'object' && data['error'] !== null ? (data['error'] as Record<string, unknown>) : undefined;
    const candidates = [data['message'], data['error_message'], data['error_description'], data['detail'], data['error'], nested?.['message'], first?.['message'], first?.['detail'], first?.['code']];
    const found = candidates.find((c): c is string => typeof c === 'string' && c.trim() !== '');
    return found ?? text;
  } catch {
    return text;
  }
}

/** Basic `Authorization` value for a username and password. */
export const basicAuthorization = (username: string, password: string): string => `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
