/**
 * A loopback reverse proxy in front of any emulator that turns it into a server echoing credentials back (issue 9,
 * the canary suite). Every credential a request carries — the raw `Authorization` header, the decoded Basic
 * `user:password`, `X-Auth-Token` / `PRIVATE-TOKEN` / `JOB-TOKEN` / `X-Amz-Security-Token`, and the secret fields
 * of a token request's body (JSON or form) — is recorded and written back:
 *
 * - in the answers the proxy makes up: the requests a phase picks (every credentialed one, those after the login,
 *   or the deletes) get 401/403/404/500 with the echo in a JSON body (every field a vendor's error parser reads),
 *   or in plain text (alternately), and always in `WWW-Authenticate` (500s carry `Retry-After: 0`, so retries
 *   cost no time);
 * - in the emulator's own errors to credentialed requests (404 of a gone manifest, a 401 challenge, Hub's 403):
 *   the echo is appended to every message field or to the text, and to `WWW-Authenticate`, status kept.
 *
 * The echo repeats the credentials at shifting offsets, so a message cut at a fixed length cuts through one.
 * Absolute URLs the emulator writes (Link, Location, token realms, `next`, API bases) are rewritten to the proxy,
 * and the proxy's host in a request (ACR's `service`) to the emulator's, so the proxy is otherwise transparent.
 */
import { Buffer } from 'node:buffer';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Which requests the proxy answers itself with an echoing error; all others go to the emulator (echo appended to its errors). */
export type EchoTargets = 'none' | 'credentialed' | 'after-login' | 'deletes';

/** One CLI run's behaviour: the requests answered with an echo, and the statuses used in turn. */
export interface EchoPhase {
  targets: EchoTargets;
  statuses?: readonly number[];
}

/** A running echo proxy. */
export interface EchoProxy {
  /** `127.0.0.1:PORT`, what repo addresses and `api` URLs name instead of the emulator. */
  host: string;
  /** `url` with the emulator's origin replaced by the proxy's. */
  via(url: string): string;
  /** Every credential value a request carried, as sent (tokens, passwords, Basic header values). */
  received: Set<string>;
  /** How credentials came: `authorization`, `basic`, a token header's name, `body`. */
  carriers: Set<string>;
  /** Answers that carried an echo (made up or appended), this phase and in all. */
  echoes: { phase: number; total: number };
  setPhase(phase: EchoPhase): void;
  stop(): Promise<void>;
}

/** Token and login endpoints: Registry API realms, ACR/AAD, Docker Hub login, Keystone, ECR's registry login. */
const LOGIN_PATH = /(?:\/token|\/oauth2\/(?:token|exchange)|\/oauth2\/v2\.0\/token|\/v2\/auth\/token|\/v2\/users\/login\/?|\/auth\/tokens)$/;
/** Headers that carry a credential besides Authorization. */
const TOKEN_HEADERS = ['x-auth-token', 'private-token', 'job-token', 'x-amz-security-token'] as const;
/** Body fields (JSON or form, at any depth) that carry a credential. */
const SECRET_FIELD = /pass|secret|token|assertion/i;
const NOT_SECRET_FIELD = /^(?:nextToken|token_type|grant_type|requested_token_type)$/i;
const TEXT_TYPE = /json|text|x-www-form-urlencoded/i;
const MANIFEST_TYPE = /vnd\.(?:oci|docker)\./i;

/** What one request carries: the parts to echo and the secret values among them. */
export function credentialsOf(headers: http.IncomingHttpHeaders, body: Buffer): { parts: string[]; secrets: string[]; carriers: string[] } {
  const parts: string[] = [];
  const secrets: string[] = [];
  const carriers: string[] = [];
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    parts.push(`Authorization: ${authorization}`);
    carriers.push('authorization');
    const [scheme = '', value = ''] = authorization.split(/\s+/, 2);
    if (/^basic$/i.test(scheme)) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      parts.push(`basic ${decoded}`, `password ${decoded.slice(decoded.indexOf(':') + 1)}`);
      carriers.push('basic');
      secrets.push(value, decoded.slice(decoded.indexOf(':') + 1)); // the header and the password; the username is no secret
    } else if (/^aws4-hmac-sha256$/i.test(scheme)) {
      const keyId = /Credential=([^/,\s]+)/.exec(authorization)?.[1];
      if (keyId !== undefined) secrets.push(keyId);
    } else secrets.push(value);
  }
  for (const name of TOKEN_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') parts.push(`${name}: ${value}`), secrets.push(value), carriers.push(name);
  }
  const text = body.length > 0 && body.length < 65_536 && TEXT_TYPE.test(String(headers['content-type'] ?? '')) ? body.toString('utf8') : '';
  const fields = text === '' ? [] : secretFields(text);
  if (fields.length > 0) parts.push(`body ${text}`), secrets.push(...fields), carriers.push('body');
  return { parts, secrets: secrets.filter((s) => s.length >= 4), carriers };
}

/** String values under credential-like keys of a JSON or form body. */
function secretFields(text: string): string[] {
  const found: string[] = [];
  const visit = (value: unknown, key: string): void => {
    if (typeof value === 'string' && SECRET_FIELD.test(key) && !NOT_SECRET_FIELD.test(key)) found.push(value);
    else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  try {
    visit(JSON.parse(text), '');
  } catch {
    for (const [key, value] of new URLSearchParams(text)) visit(value, key);
  }
  return found;
}

/** The echo: the credential parts repeated behind fillers of growing length, so a cut lands inside one of them. */
const echoText = (parts: readonly string[]): string => `ECHO{${[1, 5, 11, 17, 29].map((n) => `${'#'.repeat(n)} ${parts.join(' | ')}`).join(' ')}}`;
/** The echo as a header parameter value (no quotes, backslashes or line breaks). */
const headerSafe = (text: string): string => text.replace(/["\\\r\n]/g, "'");

const isDelete = (req: http.IncomingMessage): boolean => req.method === 'DELETE' || /\.BatchDeleteImage$/.test(String(req.headers['x-amz-target'] ?? ''));
const isLogin = (req: http.IncomingMessage, path: string): boolean => LOGIN_PATH.test(path) || /\.GetAuthorizationToken$/.test(String(req.headers['x-amz-target'] ?? ''));

/** Appends the echo to every message-like string of an error body (JSON), or to the text. */
function appendEcho(body: string, echo: string): string {
  try {
    const json = JSON.parse(body) as unknown;
    const visit = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(visit);
      if (typeof value !== 'object' || value === null) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' && /message|detail|error|title/i.test(k) ? `${v} ${echo}` : visit(v)]));
    };
    return JSON.stringify({ ...(visit(json) as object), echo });
  } catch {
    return `${body} ${echo}`;
  }
}

/** Starts the proxy in front of `target` (`127.0.0.1:PORT`, plain http). */
export async function startEchoProxy(target: string): Promise<EchoProxy> {
  const [targetHost = '127.0.0.1', targetPort = '80'] = target.split(':');
  const received = new Set<string>();
  const carriers = new Set<string>();
  const echoes = { phase: 0, total: 0 };
  let phase: EchoPhase = { targets: 'none' };
  let proxyHost = '';
  const sockets = new Set<Socket>();
  const rewrite = (text: string): string => text.split(target).join(proxyHost);
  const rewriteBack = (text: string): string => text.split(proxyHost).join(target).split(encodeURIComponent(proxyHost)).join(encodeURIComponent(target));
  const counted = (): number => (echoes.total++, echoes.phase++);

  const answer = (req: http.IncomingMessage, res: http.ServerResponse, echo: string): void => {
    const n = counted();
    const statuses = phase.statuses ?? [401];
    const status = statuses[n % statuses.length] ?? 401;
    const safe = headerSafe(echo);
    const challenge = n % 2 === 0 ? `Basic realm="${safe}"` : `Bearer realm="http://${proxyHost}/token",service="echo",error="invalid_token",error_description="${safe}"`;
    const message = `credentials refused: ${echo}`;
    const body =
      n % 2 === 0
        ? JSON.stringify({
            errors: [{ code: status === 404 ? 'NAME_UNKNOWN' : status >= 500 ? 'UNKNOWN' : 'DENIED', message, detail: echo }],
            message,
            detail: message,
            error: message,
            error_description: message,
            error_message: message,
            title: message,
            __type: status >= 500 ? 'ServerException' : status === 404 ? 'RepositoryNotFoundException' : 'AccessDeniedException',
          })
        : `${status} ${message}\n`;
    const headers: Record<string, string> = {
      'content-type': n % 2 === 0 ? 'application/json' : 'text/plain; charset=utf-8',
      'www-authenticate': challenge,
      ...(status >= 500 ? { 'retry-after': '0' } : {}),
    };
    res.writeHead(status, headers).end(req.method === 'HEAD' ? undefined : body);
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, sent: Buffer, echo: string | undefined): void => {
    // What names the proxy in the request (a token request's `service`) names the emulator, as if sent to it directly.
    let body = sent;
    const headers = { ...req.headers };
    if (TEXT_TYPE.test(String(req.headers['content-type'] ?? '')) && [proxyHost, encodeURIComponent(proxyHost)].some((h) => sent.includes(h))) {
      body = Buffer.from(rewriteBack(sent.toString('utf8')), 'utf8');
      headers['content-length'] = String(body.length);
    }
    const upstream = http.request({ host: targetHost, port: Number(targetPort), method: req.method, path: rewriteBack(req.url ?? '/'), headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (chunk: Buffer) => chunks.push(chunk));
      up.on('error', () => res.destroy());
      up.on('end', () => {
        const status = up.statusCode ?? 502;
        const headers: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(up.headers)) {
          if (value === undefined || name === 'transfer-encoding' || name === 'connection' || name === 'keep-alive') continue;
          headers[name] = Array.isArray(value) ? value.map(rewrite) : rewrite(value);
        }
        let bytes = Buffer.concat(chunks);
        const contentType = String(up.headers['content-type'] ?? '');
        const textual = TEXT_TYPE.test(contentType) && !MANIFEST_TYPE.test(contentType) && up.headers['docker-content-digest'] === undefined;
        let text = textual ? bytes.toString('utf8') : undefined;
        if (text !== undefined && text.includes(target)) text = rewrite(text);
        if (echo !== undefined && status >= 400) {
          counted();
          if (req.method !== 'HEAD') text = appendEcho(text ?? bytes.toString('utf8'), echo);
          const challenge = headers['www-authenticate'];
          if (typeof challenge === 'string') headers['www-authenticate'] = `${challenge},error_description="${headerSafe(echo)}"`;
        }
        if (text !== undefined && req.method !== 'HEAD') {
          bytes = Buffer.from(text, 'utf8');
          headers['content-length'] = String(bytes.length);
        }
        res.writeHead(status, headers).end(req.method === 'HEAD' ? undefined : bytes);
      });
    });
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const found = credentialsOf(req.headers, body);
      const { parts } = found;
      for (const secret of found.secrets) received.add(secret);
      for (const carrier of found.carriers) carriers.add(carrier);
      const echo = parts.length === 0 ? undefined : echoText(parts);
      const picked =
        echo !== undefined &&
        (phase.targets === 'credentialed' || (phase.targets === 'after-login' && !isLogin(req, path)) || (phase.targets === 'deletes' && isDelete(req)));
      if (picked) answer(req, res, echo);
      else forward(req, res, body, echo);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxyHost = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  let stopped: Promise<void> | undefined;
  return {
    host: proxyHost,
    via: rewrite,
    received,
    carriers,
    echoes,
    setPhase(next) {
      phase = next;
      echoes.phase = 0;
    },
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      })),
  };
}
