/**
 * Bearer tokens from a registry's token server (distribution `spec/auth/token.md` and `oauth.md`).
 * With an identity token (Docker's `identitytoken`) the OAuth2 POST form is used (`grant_type=refresh_token`),
 * falling back to the GET form when the server answers 404; otherwise the GET form with Basic credentials
 * (or none, for anonymous pulls). Tokens are cached per (realm, service, scope set) until shortly before expiry.
 */
import { AuthError } from '../errors.ts';
import type { Credential } from '../credentials/types.ts';
import { buildError } from './error-response.ts';
import { BODY_LIMITS, readBody, type HttpTransport } from './http.ts';
import { redactUrl, type SecretSet } from './redact.ts';
import { mergeScopes } from './scope.ts';

/** What a token is requested for. */
export interface TokenRequest {
  realm: string;
  service?: string | undefined;
  scopes: readonly string[];
  credential: Credential | undefined;
  /** Fetch anew even when a cached token exists (the registry just refused that one). */
  skipCache?: boolean;
}

/** The token server's JSON answer (GET and OAuth2 forms share it). */
interface TokenResponse {
  token?: unknown;
  access_token?: unknown;
  expires_in?: unknown;
  issued_at?: unknown;
}

/** Lifetime assumed when the server sends no `expires_in` (the spec's default). */
const DEFAULT_LIFETIME_S = 60;
/** A cached token is dropped this long before it expires (at most half its lifetime). */
const EXPIRY_MARGIN_MS = 10_000;
/** The OAuth2 client_id regplan identifies itself with. */
const CLIENT_ID = 'regplan';

/** Fetches and caches bearer tokens for one registry client. */
export class TokenCache {
  readonly #transport: HttpTransport;
  readonly #secrets: SecretSet;
  readonly #now: () => number;
  readonly #registry: string;
  readonly #cache = new Map<string, { token: string; refreshAt: number }>();
  readonly #pending = new Map<string, Promise<string>>();

  constructor(options: { transport: HttpTransport; secrets: SecretSet; now: () => number; registry: string }) {
    this.#transport = options.transport;
    this.#secrets = options.secrets;
    this.#now = options.now;
    this.#registry = options.registry;
  }

  /** A valid token for the request: from the cache, or freshly fetched (concurrent callers share one fetch). */
  async token(request: TokenRequest): Promise<string> {
    const scopes = mergeScopes(request.scopes);
    const key = JSON.stringify([request.realm, request.service ?? '', scopes]);
    const cached = this.#cache.get(key);
    if (cached && cached.refreshAt > this.#now() && request.skipCache !== true) return cached.token;
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const fetching = this.#fetch({ ...request, scopes }).then(
      ({ token, refreshAt }) => {
        this.#cache.set(key, { token, refreshAt });
        this.#pending.delete(key);
        return token;
      },
      (error: unknown) => {
        this.#pending.delete(key);
        throw error;
      },
    );
    this.#pending.set(key, fetching);
    return fetching;
  }

  async #fetch(request: TokenRequest): Promise<{ token: string; refreshAt: number }> {
    const identityToken = request.credential?.identityToken;
    if (identityToken !== undefined) {
      const posted = await this.#post(request, identityToken);
      if (posted !== undefined) return posted;
    }
    return this.#get(request);
  }

  /** The OAuth2 POST form; undefined when the server has no POST endpoint (404), so the caller falls back to GET. */
  async #post(request: TokenRequest, refreshToken: string): Promise<{ token: string; refreshAt: number } | undefined> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID });
    if (request.service !== undefined) form.set('service', request.service);
    if (request.scopes.length > 0) form.set('scope', request.scopes.join(' '));
    const { response } = await this.#transport.send({
      method: 'POST',
      url: request.realm,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    if (response.status === 404) {
      await response.body?.cancel().catch(() => undefined);
      return undefined;
    }
    return this.#readToken(response, request, 'POST');
  }

  /** The GET form: repeated `scope` params, credentials (if any) as Basic auth. */
  async #get(request: TokenRequest): Promise<{ token: string; refreshAt: number }> {
    const url = new URL(request.realm);
    if (request.service !== undefined) url.searchParams.set('service', request.service);
    for (const scope of request.scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    const basic = basicAuthorization(request.credential, this.#secrets);
    if (basic !== undefined) headers['authorization'] = basic;
    const { response } = await this.#transport.send({ method: 'GET', url, headers });
    return this.#readToken(response, request, 'GET');
  }

  async #readToken(response: Response, request: TokenRequest, method: string): Promise<{ token: string; refreshAt: number }> {
    const text = response.ok
      ? await readBody(response, { limit: BODY_LIMITS.json, url: request.realm, what: 'token answer', method, as: 'text' })
      : await readBody(response, { limit: BODY_LIMITS.error, url: request.realm, what: 'token server error', method, truncate: true, as: 'text' });
    const subject = request.scopes.join(' ') || '(no scope)';
    if (!response.ok) {
      throw buildError(response.status, text, {
        registry: `${this.#registry} (token server ${redactUrl(request.realm)})`,
        method,
        subject,
        credentialSource: request.credential?.source,
        ...(response.status === 401 || response.status === 403
          ? {
              hint:
                request.credential === undefined
                  ? `the token server wants credentials; log in with "docker login ${this.#registry}"`
                  : `the token server rejected the credentials from ${request.credential.source}; log in again with "docker login ${this.#registry}"`,
            }
          : {}),
      }, this.#secrets, response.headers);
    }
    let body: TokenResponse;
    try {
      body = JSON.parse(text) as TokenResponse;
    } catch {
      throw this.#badAnswer(request, response.status, 'a body that is not JSON');
    }
    const token = typeof body.token === 'string' && body.token !== '' ? body.token : typeof body.access_token === 'string' ? body.access_token : '';
    if (token === '') throw this.#badAnswer(request, response.status, 'JSON without "token" or "access_token"');
    this.#secrets.add(token);
    const lifetimeMs = (typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_LIFETIME_S) * 1000;
    const now = this.#now();
    const issued = typeof body.issued_at === 'string' ? Date.parse(body.issued_at) : Number.NaN;
    // issued_at is the server's clock: trust it only when it is earlier than ours (never extend a token's life).
    const start = Number.isFinite(issued) ? Math.min(issued, now) : now;
    return { token, refreshAt: start + lifetimeMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2) };
  }

  #badAnswer(request: TokenRequest, status: number, what: string): AuthError {
    return new AuthError(`token server ${redactUrl(request.realm)} for ${this.#registry} answered HTTP ${status} with ${what}`, {
      status,
      registry: this.#registry,
      hint: 'the realm in the registry\'s WWW-Authenticate challenge does not point at a working token server; run with --debug to see the requests',
    });
  }
}

/** `Basic base64(user:secret)` for a credential: the password, else the identity token (as docker sends it); undefined when there is nothing to send. */
export function basicAuthorization(credential: Credential | undefined, secrets: SecretSet): string | undefined {
  if (credential === undefined) return undefined;
  const secret = credential.password ?? credential.identityToken;
  if (secret === undefined) return undefined;
  const user = credential.username ?? (credential.identityToken !== undefined ? '<token>' : '');
  const encoded = btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${secret}`)));
  secrets.add(secret);
  secrets.add(encoded);
  return `Basic ${encoded}`;
}
