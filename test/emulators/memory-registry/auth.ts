/**
 * Authentication of the memory registry (reference §1.3-1.5): none, Basic against a user table, or Bearer with
 * opaque random tokens from the registry's own token endpoint (GET form with Basic credentials and `scope`
 * params; OAuth2 POST form with `grant_type=password|refresh_token`). Tokens remember who got them and which
 * scopes; a /v2 request needs a token granting its scope (repository pull / push / delete, registry:catalog:*).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson, sendOciError } from './respond.ts';

/** How the registry authenticates. */
export type MemoryAuth =
  | { kind: 'none' }
  | { kind: 'basic'; users: Record<string, string>; realm?: string }
  | {
      kind: 'bearer';
      users: Record<string, string>;
      /** `service` of the challenge and token requests (default "memory-registry"). */
      service?: string;
      /** Token endpoint path on the same server (default `/token`). */
      realmPath?: string;
      /** When false, any valid token passes whatever scope it holds (default true: scopes are checked). */
      checkScopes?: boolean;
      /** Lifetime reported in `expires_in` (default 300). */
      expiresIn?: number;
    };

/** A token the endpoint issued: its user (undefined = anonymous) and the scopes it grants. */
export interface IssuedToken {
  user?: string;
  scopes: string[];
}

/** What a request needs: a scope string such as `repository:app:pull,push`, or undefined for the /v2/ ping. */
export type RequiredScope = string | undefined;

/** The authenticated caller of a request; `user` undefined when auth is `none`. */
export type AuthResult = { ok: true; user?: string } | { ok: false };

/** Issues and checks credentials for one memory registry. */
export class RegistryAuth {
  readonly config: MemoryAuth;
  /** Every token issued (opaque value -> grant), for tests that inspect them. */
  readonly tokens = new Map<string, IssuedToken>();
  readonly #refreshTokens = new Map<string, string>();
  #origin = '';

  constructor(config: MemoryAuth) {
    this.config = config;
  }

  /** The server's own `http://127.0.0.1:PORT`, known once it listens (the realm is absolute). */
  setOrigin(origin: string): void {
    this.#origin = origin;
  }

  /** The token endpoint path, or undefined unless auth is bearer. */
  get tokenPath(): string | undefined {
    return this.config.kind === 'bearer' ? (this.config.realmPath ?? '/token') : undefined;
  }

  /** The user whose Basic credentials the request carries, if they are right; undefined otherwise. */
  basicUser(req: IncomingMessage): string | undefined {
    if (this.config.kind === 'none') return undefined;
    const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (match === null) return undefined;
    const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    return Object.hasOwn(this.config.users, user) && this.config.users[user] === decoded.slice(colon + 1) ? user : undefined;
  }

  /** Checks a /v2 request; on failure it has already answered 401 with the challenge. */
  authorize(req: IncomingMessage, res: ServerResponse, scope: RequiredScope): AuthResult {
    const config = this.config;
    if (config.kind === 'none') return { ok: true };
    if (config.kind === 'basic') {
      const user = this.basicUser(req);
      if (user !== undefined) return { ok: true, user };
      this.#challenge(req, res, `Basic realm="${config.realm ?? 'memory-registry'}"`, scope);
      return { ok: false };
    }
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const grant = match === null ? undefined : this.tokens.get(match[1] ?? '');
    const service = config.service ?? 'memory-registry';
    const base = `Bearer realm="${this.#origin}${this.tokenPath ?? '/token'}",service="${service}"${scope === undefined ? '' : `,scope="${scope}"`}`;
    if (match !== null && grant === undefined) {
      this.#challenge(req, res, `${base},error="invalid_token"`, scope);
      return { ok: false };
    }
    if (grant === undefined) {
      this.#challenge(req, res, base, scope);
      return { ok: false };
    }
    const granted = scope === undefined || config.checkScopes === false || (grant.user !== undefined && grants(grant.scopes, scope));
    if (!granted) {
      this.#challenge(req, res, `${base},error="insufficient_scope"`, scope);
      return { ok: false };
    }
    return grant.user === undefined ? { ok: true } : { ok: true, user: grant.user };
  }

  /** Answers a request to the token endpoint (GET or POST form). */
  async serveToken(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const config = this.config;
    if (config.kind !== 'bearer') return sendJson(req, res, 404, { errors: [{ code: 'NOT_FOUND', message: 'no token endpoint' }] });
    const expiresIn = config.expiresIn ?? 300;
    const issue = (user: string | undefined, scopes: string[], offline: boolean, oauth: boolean): void => {
      const token = randomBytes(24).toString('base64url');
      // a user holds every right; an anonymous caller gets a token that grants nothing (the registry answers 401 insufficient_scope)
      this.tokens.set(token, { ...(user === undefined ? {} : { user }), scopes: user === undefined ? [] : scopes });
      let refresh: string | undefined;
      if (offline && user !== undefined) {
        refresh = randomBytes(24).toString('base64url');
        this.#refreshTokens.set(refresh, user);
      }
      const body = { ...(oauth ? {} : { token }), access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString(), ...(refresh === undefined ? {} : { refresh_token: refresh }), ...(oauth ? { scope: scopes.join(' ') } : {}) };
      sendJson(req, res, 200, body);
    };
    if (req.method === 'GET') {
      const hasCredentials = req.headers.authorization !== undefined;
      const user = this.basicUser(req);
      if (hasCredentials && user === undefined) return sendOciError(req, res, 401, 'UNAUTHORIZED', 'invalid username or password');
      return issue(user, url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s !== ''), url.searchParams.get('offline_token') === 'true', false);
    }
    if (req.method === 'POST') {
      const form = new URLSearchParams(new TextDecoder().decode(await readBody(req)));
      const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s !== '');
      const offline = form.get('access_type') === 'offline';
      const grantType = form.get('grant_type');
      if (grantType === 'refresh_token') {
        const user = this.#refreshTokens.get(form.get('refresh_token') ?? '');
        if (user === undefined) return sendJson(req, res, 401, { error: 'invalid_grant', error_description: 'unknown refresh token' });
        return issue(user, scopes, offline, true);
      }
      if (grantType === 'password') {
        const user = form.get('username') ?? '';
        if (!Object.hasOwn(config.users, user) || config.users[user] !== form.get('password')) return sendJson(req, res, 401, { error: 'invalid_grant', error_description: 'invalid username or password' });
        return issue(user, scopes, offline, true);
      }
      return sendJson(req, res, 400, { error: 'unsupported_grant_type', error_description: `grant_type ${grantType ?? '(none)'}` });
    }
    res.writeHead(405, { allow: 'GET, POST', 'content-length': '0' }).end();
  }

  /** Makes a refresh token for `user` directly (what `docker login` would have stored as identitytoken; `refresh` picks its value). */
  issueRefreshToken(user: string, refresh = randomBytes(24).toString('base64url')): string {
    this.#refreshTokens.set(refresh, user);
    return refresh;
  }

  #challenge(req: IncomingMessage, res: ServerResponse, header: string, scope: RequiredScope): void {
    const detail = scope === undefined ? undefined : scopeDetail(scope);
    sendOciError(req, res, 401, 'UNAUTHORIZED', 'authentication required', { ...(detail === undefined ? {} : { detail }), headers: { 'www-authenticate': header, 'docker-distribution-api-version': 'registry/2.0' } });
  }
}

/** Splits `type:name:actions` on the first and last colon. */
function parseScope(text: string): { type: string; name: string; actions: string[] } | undefined {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  return { type: text.slice(0, first), name: text.slice(first + 1, last), actions: text.slice(last + 1).split(',') };
}

/** True when the held scopes include every action `wanted` asks for (`*` grants all). */
function grants(held: readonly string[], wanted: string): boolean {
  const want = parseScope(wanted);
  if (want === undefined) return false;
  const actions = new Set(held.map(parseScope).filter((s) => s !== undefined && s.type === want.type && s.name === want.name).flatMap((s) => s?.actions ?? []));
  return actions.has('*') || want.actions.every((a) => actions.has(a));
}

function scopeDetail(scope: string): unknown {
  const parsed = parseScope(scope);
  return parsed === undefined ? undefined : parsed.actions.map((action) => ({ Type: parsed.type, Name: parsed.name, Action: action }));
}
