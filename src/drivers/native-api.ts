/**
 * The one layer every native driver uses for its registry's own REST API (Harbor, Quay, Hub, GitHub, GitLab, ACR,
 * Selectel, …), so the rules that keep users' data safe exist once:
 * - transport: the Registry API client's (retries with backoff honouring Retry-After, safe redirects, http only
 *   for loopback or `insecure`), plus a vendor's own retry rule as data (`retryWhen`: GitHub's 403 rate limits,
 *   Selectel's 409 during GC);
 * - base URLs: `nativeApiBase` — the configured `api` (with the vendor's known path appended to a bare origin)
 *   or one derived from the host, http only where the registry is loopback or `insecure`;
 * - paging: `listAll` follows a vendor's next-page rule (`linkNext`, `bodyNext`, `bodyTokenNext`, `headerPageNext`,
 *   `pageNumberNext`) and sends credentials only to the API's own origin: a next page elsewhere is an error, a
 *   page seen twice is an error (a listing that stops early could hide a tag that protects a manifest);
 * - "is it gone": `confirmGone` — a 404 on DELETE is "already gone" only when a fresh lookup agrees;
 * - `SingleFlight`: concurrent identical deletes share one request;
 * - errors: vendor bodies become RegistryError/AuthError quoting the vendor, with hints; secrets masked.
 * A vendor driver then holds only URLs, JSON shapes and its quirks as data.
 */
import { Buffer } from 'node:buffer';
import { AuthError, isNotFound, ProtocolError, RegistryError, type RegplanError } from '../errors.ts';
import { assertValidDigest, assertValidTag } from '../model/names.ts';
import { nextLink } from '../registry/client.ts';
import { BODY_LIMITS, HttpTransport, readBody, type RetryOptions } from '../registry/http.ts';
import { isLoopbackHost } from '../registry/reference.ts';
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
  /**
   * What to tell the user on 401/403, e.g. "set REGPLAN_REPO_HARBOR_USERNAME/PASSWORD to a project admin"; a function
   * reads the refusal's headers (GitHub's `x-accepted-oauth-scopes`, an exhausted rate limit).
   */
  authHint: string | ((response: Response) => string);
  insecure?: boolean;
  debug?: (line: string) => void;
  retry?: RetryOptions;
  /** The vendor's own retry rule: for an answer not otherwise retried, the wait in ms, else undefined. */
  retryWhen?: (response: Response) => number | undefined;
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
      // Plain http: loopback always; with `insecure`, the API's own host only (never a realm or redirect elsewhere).
      allowHttp: isLoopbackHost,
      ...(options.insecure === true ? { insecureHost: this.base.host } : {}),
      secrets: this.#secrets,
      userAgent: 'regplan',
      ...(options.debug === undefined ? {} : { debug: options.debug }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.retryWhen === undefined ? {} : { retryWhen: options.retryWhen }),
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

  /**
   * Every item of a paged listing, in order. `next` says where the vendor puts the next page; the pages are
   * followed only on the API's own origin (credentials go nowhere else), an empty page (or 204) ends the list, and a 404
   * after the first page ends it too (offset pages shift while deletes run: Docker Hub answers 404 past the end).
   * A 404 on the first page throws a RegistryError (status 404) naming the URL: the caller decides whether a
   * missing listing means "try elsewhere" or "error" — it never silently reads as an empty repository.
   */
  async listAll<P, T>(first: string | URL, options: ListOptions<P, T>): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let url: URL | undefined = typeof first === 'string' ? this.url(first, options.query) : first;
    for (let page = 1; url !== undefined; page++) {
      if (seen.has(url.href) || page > (options.maxPages ?? MAX_PAGES)) throw this.#pagingLoop(url, options.subject, page);
      seen.add(url.href);
      const answer: NativeResponse<P> = await this.request<P>('GET', url, { expect: [200, 204, 404], subject: options.subject });
      if (answer.status === 204) break; // No Content: an empty page (CRaaS answers an empty list so)
      if (answer.status === 404) {
        if (page > 1) break;
        throw new RegistryError(`${this.title} has no listing for "${options.subject}": GET ${redactUrl(url)} answered HTTP 404`, {
          status: 404,
          registry: url.host,
          repo: options.subject,
          hint: options.notFoundHint ?? `check the repository name and registries.<host>.api; ${this.title} does not know this URL`,
        });
      }
      const found = answer.data === undefined ? undefined : options.items(answer.data);
      if (!Array.isArray(found)) {
        throw new ProtocolError(`${this.title} answered page ${page} of "${options.subject}" without the expected list (GET ${redactUrl(url)})`, {
          code: 'UNEXPECTED_ANSWER',
          registry: url.host,
          repo: options.subject,
          hint: `check registries.<host>.api points at ${this.title}`,
        });
      }
      items.push(...found);
      if (found.length === 0) break;
      url = this.#sameOrigin(options.next(answer, url), answer.url, options.subject);
    }
    return items;
  }

  /** A next-page URL resolved against the page it came from, refused when it leaves the API's origin. */
  #sameOrigin(next: string | URL | undefined, from: URL, subject: string): URL | undefined {
    if (next === undefined || next === '') return undefined;
    let url: URL;
    try {
      url = new URL(next, from);
    } catch {
      throw new ProtocolError(`${this.title} sent an unreadable next-page URL for "${subject}"`, { code: 'UNSAFE_NEXT_PAGE', registry: from.host, repo: subject, hint: `check registries.<host>.api points at ${this.title}` });
    }
    if (url.origin !== this.base.origin) {
      throw new ProtocolError(`${this.title} pointed the next page of "${subject}" at another origin (${url.origin}); regplan sends credentials only to ${this.base.origin}`, {
        code: 'UNSAFE_NEXT_PAGE',
        registry: this.base.host,
        repo: subject,
        hint: `check registries.<host>.api; if ${this.title} really lives at ${url.origin}, set that as the api URL`,
      });
    }
    return url;
  }

  #pagingLoop(url: URL, subject: string, page: number): ProtocolError {
    return new ProtocolError(`${this.title} kept paging "${subject}" (page ${page}, ${redactUrl(url)} again or past ${MAX_PAGES} pages)`, {
      code: 'PAGING_LOOP',
      registry: url.host,
      repo: subject,
      hint: 'the listing would be incomplete, so regplan stops instead of planning from part of it; report this to the registry operator',
    });
  }

  #error(method: Method, url: URL, response: Response, text: string, subject: string | undefined): RegistryError {
    const vendor = this.#secrets.scrub(oneLine(vendorMessage(text), 300));
    const what = `${this.title} refused ${method} ${subject === undefined ? redactUrl(url) : `"${subject}"`}: HTTP ${response.status}${vendor ? ` ${JSON.stringify(vendor)}` : ''}`;
    const options = { status: response.status, registry: url.host, ...(subject === undefined ? {} : { repo: subject }) };
    if (response.status === 401 || response.status === 403) {
      const authHint = this.#options.authHint;
      return new AuthError(what, { ...options, hint: typeof authHint === 'function' ? authHint(response) : authHint });
    }
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

/** Pages followed at most by `listAll` (100,000 items at 100 per page; more is a loop). */
const MAX_PAGES = 10_000;

/** Where a vendor's listing says the next page is, given one answered page and the URL it was asked at. */
export type NextPage<P> = (page: NativeResponse<P>, asked: URL) => string | URL | undefined;

/** How `listAll` reads one vendor listing. */
export interface ListOptions<P, T> {
  /** The items of one page's body; anything but an array is an error. */
  items: (data: P) => T[] | undefined;
  next: NextPage<P>;
  /** What is listed, for messages (e.g. `ghcr.io/acme/api`). */
  subject: string;
  query?: Record<string, string | number | undefined>;
  /** The hint of the error for a first page that is 404. */
  notFoundHint?: string;
  maxPages?: number;
}

/** RFC 8288 `Link: <…>; rel="next"` (GitHub, Harbor, ACR, GitLab keyset). */
export const linkNext: NextPage<unknown> = (page) => nextLink(page.headers.get('link'), page.url);

/** An absolute or relative next URL in a body field (Docker Hub `next`). */
export const bodyNext =
  <P>(field: keyof P & string): NextPage<P> =>
  (page) => {
    const value = (page.data as Record<string, unknown> | undefined)?.[field];
    return typeof value === 'string' ? value : undefined;
  };

/**
 * An opaque next-page token in a body field, sent back as the `param` query parameter of the same URL (Quay's
 * `next_page`); the page stays on the URL it came from, so the token can never move it to another origin.
 */
export const bodyTokenNext =
  <P>(field: keyof P & string, param: string = field): NextPage<P> =>
  (page, asked) => {
    const value = (page.data as Record<string, unknown> | undefined)?.[field];
    if (typeof value !== 'string' || value === '') return undefined;
    const url = new URL(asked);
    url.searchParams.set(param, value);
    return url;
  };

/** A next page number in a header (GitLab `X-Next-Page`), set as the `param` query parameter; Link first when sent. */
export const headerPageNext =
  (header: string, param = 'page'): NextPage<unknown> =>
  (page, asked) => {
    const linked = linkNext(page, asked);
    if (linked !== undefined) return linked;
    const number = page.headers.get(header)?.trim();
    if (number === undefined || !/^\d+$/.test(number)) return undefined;
    const url = new URL(asked);
    url.searchParams.set(param, number);
    return url;
  };

/** Numbered pages while the body says there are more (Quay `has_additional`). */
export const pageNumberNext =
  <P>(param: string, hasMore: (data: P) => boolean): NextPage<P> =>
  (page, asked) => {
    if (page.data === undefined || !hasMore(page.data)) return undefined;
    const url = new URL(asked);
    url.searchParams.set(param, String(Number(url.searchParams.get(param) ?? '1') + 1));
    return url;
  };

/**
 * The base URL of a vendor API: `configured` (`registries.<host>.api`) with `path` appended when it is a bare
 * origin (`https://harbor.example.com` -> `https://harbor.example.com/api/v2.0`), else `fallback`, else the
 * registry host itself plus `path`. A derived base uses http only where the registry is loopback or `insecure`;
 * a configured http base is checked by the transport like any other URL.
 */
export function nativeApiBase(options: { host: string; configured?: string | undefined; insecure?: boolean | undefined; path?: string; fallback?: string }): string {
  const path = options.path ?? '';
  if (options.configured !== undefined) {
    const url = new URL(options.configured);
    return url.pathname === '/' || url.pathname === '' ? `${url.origin}${path}` : options.configured.replace(/\/$/, '');
  }
  if (options.fallback !== undefined) return options.fallback;
  const scheme = options.insecure === true || isLoopbackHost(options.host) ? 'http' : 'https';
  return `${scheme}://${options.host}${path}`;
}

/**
 * Concurrent calls with one key share one run (apply deletes the tags of one digest concurrently; the vendor
 * deletes the digest once). The key is forgotten when the run settles, so a later call runs again.
 */
export class SingleFlight<T> {
  readonly #running = new Map<string, Promise<T>>();

  /** Runs `work` unless a run with `key` is in flight, whose result is then shared. */
  run(key: string, work: () => Promise<T>): Promise<T> {
    let pending = this.#running.get(key);
    if (pending === undefined) {
      pending = work().finally(() => this.#running.delete(key));
      this.#running.set(key, pending);
    }
    return pending;
  }
}

/**
 * What a 404 (or 410) on DELETE means. It is not proof of deletion: GitHub answers 404 where the token lacks admin
 * access to the package. Resolves when a fresh lookup of that one tag or version finds nothing; throws
 * `refused()` (a failure with the vendor's hint) when it is still there.
 */
export async function confirmGone(lookup: { stillThere: () => Promise<boolean>; refused: () => RegplanError }): Promise<void> {
  let there: boolean;
  try {
    there = await lookup.stillThere();
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  if (there) throw lookup.refused();
}

/**
 * A tag as one URL path segment of a vendor API. Names from registries are hostile: one outside the tag grammar
 * (`..`, `a/b`, `%2e%2e`) would address another resource (on Hub and Quay a DELETE of the repository itself), so
 * it is refused before any request; `where` names the call for the message.
 */
export function tagSegment(tag: string, where: string): string {
  assertValidTag(tag, { where });
  return encodeURIComponent(tag);
}

/**
 * A digest as one URL path segment of a vendor API. Checked against `algorithm:hex`, whose characters are all
 * safe in a path, so it goes as it is (`sha256:…`, as the vendors document it; some route on the literal colon).
 */
export function digestSegment(digest: string, where: string): string {
  assertValidDigest(digest, { where });
  return digest;
}
