/**
 * A small Docker/OCI token server for tests (distribution's `auth.token` protocol): checks Basic or OAuth2
 * credentials, grants the intersection of the requested scopes and what the user may do, and signs RS256 JWTs
 * that distribution 2.8 accepts (certificate in the header's `x5c`). It listens on 127.0.0.1 only and records
 * every request (without secrets) so tests can assert token caching.
 */
import { execFile } from 'node:child_process';
import { createSign, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What one test account may do: the actions it holds on repositories whose name matches `repos`. */
export interface TokenUser {
  password: string;
  /** Repository actions this user holds, e.g. `['pull']` or `['pull', 'push', 'delete', '*']`. */
  actions: readonly string[];
  /** Repositories the actions apply to (default: all). */
  repos?: RegExp;
  /** Whether `registry:catalog:*` is granted. */
  catalog?: boolean;
}

/** How to start a token server; every field has a test-friendly default. */
export interface TokenServerOptions {
  service?: string;
  issuer?: string;
  /** Accounts by username (default: one full-access user and one read-only user with fresh random passwords). */
  users?: Record<string, TokenUser>;
  /** `expires_in` and JWT lifetime in seconds (default 300). */
  lifetimeSeconds?: number;
  /** Directory for the key and certificate (default: a fresh temp dir, removed by stop()). */
  workDir?: string;
}

/** One request the token server saw, without credentials or tokens. */
export interface TokenRequestRecord {
  method: 'GET' | 'POST';
  /** The authenticated user, or undefined for an anonymous request. */
  account: string | undefined;
  grantType: string | undefined;
  scopes: string[];
  status: number;
}

/** A running token server: what the registry config needs, the accounts, and the request log. */
export interface TokenServer {
  /** Token endpoint URL (`auth.token.realm`). */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate file for `auth.token.rootcertbundle`. */
  certFile: string;
  users: Readonly<Record<string, TokenUser>>;
  /** Every request so far, oldest first. */
  requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

/** Username of the default full-access account. */
export const FULL_ACCESS_USER = 'regplan-test';
/** Username of the default read-only account. */
export const READ_ONLY_USER = 'regplan-reader';

/** A random password unlikely to appear in any text by chance, so leak checks are meaningful. */
export const randomPassword = (): string => `pw-${randomBytes(12).toString('base64url')}`;

/** The default accounts: a full-access user (pull, push, delete, catalog) and a pull-only user. */
export function defaultTokenUsers(): Record<string, TokenUser> {
  return {
    [FULL_ACCESS_USER]: { password: randomPassword(), actions: ['pull', 'push', 'delete', '*'], catalog: true },
    [READ_ONLY_USER]: { password: randomPassword(), actions: ['pull'] },
  };
}

interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

/** Parses `type[(class)]:name:actions`; the name may contain colons (host:port), so split on the first and last. */
function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  return { type, name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

function grant(user: TokenUser | undefined, requested: AccessEntry): AccessEntry {
  if (!user) return { ...requested, actions: [] };
  if (requested.type === 'registry') {
    return { ...requested, actions: requested.name === 'catalog' && user.catalog ? requested.actions.filter((a) => a === '*') : [] };
  }
  if (requested.type !== 'repository' || (user.repos && !user.repos.test(requested.name))) return { ...requested, actions: [] };
  return { ...requested, actions: requested.actions.filter((a) => user.actions.includes(a)) };
}

const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Makes a key and a self-signed certificate with openssl, as an operator would for distribution. */
async function makeSigningKey(dir: string): Promise<{ keyPem: string; certFile: string; certDer: string }> {
  const keyFile = path.join(dir, 'token.key');
  const certFile = path.join(dir, 'token.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=regplan-test-token-issuer']);
  const certPem = await readFile(certFile, 'utf8');
  return { keyPem: await readFile(keyFile, 'utf8'), certFile, certDer: new X509Certificate(certPem).raw.toString('base64') };
}

/** Starts the token server on a free 127.0.0.1 port. */
export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const service = options.service ?? 'regplan-test-registry';
  const issuer = options.issuer ?? 'regplan-test-issuer';
  const users = options.users ?? defaultTokenUsers();
  const lifetime = options.lifetimeSeconds ?? 300;
  const ownDir = options.workDir === undefined;
  const dir = options.workDir ?? (await mkdtemp(path.join(tmpdir(), 'regplan-token-')));
  const removeDir = async (): Promise<void> => {
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };
  const key = await makeSigningKey(dir).catch(async (e: unknown) => {
    await removeDir();
    throw e;
  });
  const refreshTokens = new Map<string, string>();
  const requests: TokenRequestRecord[] = [];

  const sign = (account: string | undefined, access: AccessEntry[]): { token: string; issuedAt: string } => {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [key.certDer] };
    const claims = { iss: issuer, aud: service, sub: account ?? '', exp: now + lifetime, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(key.keyPem);
    return { token: `${input}.${base64url(signature)}`, issuedAt: new Date(now * 1000).toISOString() };
  };
  const authenticate = (username: string, password: string): TokenUser | undefined => {
    const user = Object.hasOwn(users, username) ? users[username] : undefined;
    return user && user.password === password ? user : undefined;
  };
  const grantAll = (user: TokenUser | undefined, scopes: string[]): AccessEntry[] =>
    scopes.flatMap((s) => {
      const parsed = parseScope(s);
      return parsed ? [grant(user, parsed)] : [];
    });

  const handleGet = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const record: TokenRequestRecord = { method: 'GET', account: undefined, grantType: undefined, scopes, status: 200 };
    requests.push(record);
    const requestedService = url.searchParams.get('service');
    if (requestedService !== null && requestedService !== service) {
      record.status = 400;
      return sendJson(res, 400, { errors: [{ code: 'UNSUPPORTED', message: `unknown service "${requestedService}"` }] });
    }
    const basic = parseBasic(req.headers.authorization);
    let user: TokenUser | undefined;
    if (basic) {
      user = authenticate(basic.username, basic.password);
      if (!user) {
        record.status = 401;
        return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication failed' }] }, { 'www-authenticate': `Basic realm="${service}"` });
      }
      record.account = basic.username;
    }
    const { token, issuedAt } = sign(record.account, grantAll(user, scopes));
    const body: Record<string, unknown> = { token, access_token: token, expires_in: lifetime, issued_at: issuedAt };
    if (user && url.searchParams.get('offline_token') === 'true') {
      const refresh = randomBytes(24).toString('base64url');
      refreshTokens.set(refresh, record.account ?? '');
      body['refresh_token'] = refresh;
    }
    sendJson(res, 200, body);
  };

  const handlePost = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const form = new URLSearchParams(await readBody(req));
    const grantType = form.get('grant_type') ?? undefined;
    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const record: TokenRequestRecord = { method: 'POST', account: undefined, grantType, scopes, status: 200 };
    requests.push(record);
    const fail = (status: number, error: string, description: string): void => {
      record.status = status;
      sendJson(res, status, { error, error_description: description });
    };
    if (form.get('service') !== service) return fail(400, 'invalid_request', 'missing or unknown service');
    if (!form.get('client_id')) return fail(400, 'invalid_request', 'missing client_id');
    let account: string | undefined;
    if (grantType === 'password') {
      const username = form.get('username') ?? '';
      if (!authenticate(username, form.get('password') ?? '')) return fail(401, 'invalid_grant', 'authentication failed');
      account = username;
    } else if (grantType === 'refresh_token') {
      account = refreshTokens.get(form.get('refresh_token') ?? '');
      if (account === undefined) return fail(401, 'invalid_grant', 'unknown refresh token');
    } else {
      return fail(400, 'unsupported_grant_type', `grant_type "${grantType ?? ''}" is not supported`);
    }
    record.account = account;
    const access = grantAll(users[account], scopes);
    const { token, issuedAt } = sign(account, access);
    const body: Record<string, unknown> = {
      access_token: token,
      expires_in: lifetime,
      issued_at: issuedAt,
      scope: access.filter((a) => a.actions.length).map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`).join(' '),
    };
    if (form.get('access_type') === 'offline') {
      const refresh = grantType === 'refresh_token' ? (form.get('refresh_token') ?? '') : randomBytes(24).toString('base64url');
      refreshTokens.set(refresh, account);
      body['refresh_token'] = refresh;
    }
    sendJson(res, 200, body);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') return sendJson(res, 404, { error: 'not_found' });
    if (req.method === 'GET') return handleGet(req, res, url);
    if (req.method === 'POST') {
      handlePost(req, res).catch(() => sendJson(res, 500, { error: 'server_error' }));
      return;
    }
    sendJson(res, 405, { error: 'method_not_allowed' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile: key.certFile,
    users,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await removeDir();
    },
  };
}
