/**
 * A fault-injecting loopback reverse proxy between regplan and a real registry (issue 9). regplan is pointed at
 * the proxy's host:port; the proxy forwards to the registry and, for a seeded share of requests (default 10%),
 * answers with a fault instead: 429 with Retry-After in seconds and in HTTP-date form, 500/502/503/504, a
 * connection reset mid-body, a stall, a truncated body (Content-Length larger than the bytes sent, then close),
 * or a wrong Docker-Content-Digest header on a manifest GET/HEAD.
 *
 * Deterministic per seed whatever the interleaving of concurrent requests: the decision for a request is drawn
 * from a PRNG seeded by (seed, phase, method, path, how many times this method+path was seen before in the
 * phase), not from one shared stream. A test names a phase per CLI run (`setPhase('attempt-1 plan')`), so what a
 * run that failed half-way did or did not send never shifts the faults of the next run. Every DELETE is logged with its path, its fault and whether the registry received it.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { startLoopbackServer } from '../support/loopback-server.ts';

/** Every fault the proxy can inject. */
export const FAULT_KINDS = [
  '429-seconds',
  '429-date',
  '500',
  '502',
  '503',
  '504',
  'reset-mid-body',
  'stall',
  'truncated-body',
  'wrong-digest',
] as const;

/** One kind of fault. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A request as the proxy saw it. */
export interface ProxyRequest {
  method: string;
  /** Path and query, e.g. `/v2/rel/s1/tags/list`. */
  path: string;
}

/** One injected fault. */
export interface InjectedFault extends ProxyRequest {
  kind: FaultKind;
  /** The registry received the request (and may have acted on it) before the client saw the fault. */
  forwarded: boolean;
}

/** One DELETE the proxy received. */
export interface DeleteRecord {
  path: string;
  /** The fault injected on it, if any. */
  fault?: FaultKind;
  /** The registry received it: the delete may have happened. */
  forwarded: boolean;
  /** The registry's status, when forwarded. */
  upstreamStatus?: number;
}

/** Options of `startFaultProxy`. */
export interface FaultProxyOptions {
  /** The registry, `127.0.0.1:PORT` (plain http). */
  target: string;
  /** Seeds every decision; the same seed and requests give the same faults. */
  seed: number;
  /** Share of requests that get a fault, 0..1 (default 0.1). */
  rate?: number;
  /** The faults to choose from (default all of FAULT_KINDS). */
  kinds?: readonly FaultKind[];
  /** How long a stalled response is held back (default 1500 ms); set it past the client's timeout once it has one. */
  stallMs?: number;
  /** The wait a 429 asks for (default 1 s; the HTTP-date form asks for this many seconds from now, rounded up). */
  retryAfterSeconds?: number;
  /** Overrides the PRNG for chosen requests (proxy self-tests): a kind, 'none' for no fault, undefined to draw. */
  force?: (request: ProxyRequest) => FaultKind | 'none' | undefined;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** `127.0.0.1:PORT`: the registry host regplan is configured with. */
  host: string;
  /** Requests received, in arrival order. */
  requests: ProxyRequest[];
  /** Faults injected, in order. */
  faults: InjectedFault[];
  /** Every DELETE received, faulted or not. */
  deletes: DeleteRecord[];
  /** Faults injected so far, by kind (every kind present, 0 when none). */
  faultCounts(): Record<FaultKind, number>;
  /** Starts a new phase: occurrence counts restart, and decisions depend on the phase name. */
  setPhase(name: string): void;
  stop(): Promise<void>;
}

const MANIFEST_PATH = /^\/v2\/.+\/manifests\/[^/?]+(?:\?.*)?$/;

/** mulberry32: a small, well-mixed 32-bit PRNG; enough for choosing faults. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A PRNG seeded by a string key (sha256 of it), so decisions do not depend on the order requests arrive in. */
export function keyedRandom(key: string): () => number {
  return mulberry32(createHash('sha256').update(key).digest().readUInt32LE(0));
}

/** The kinds that make sense for a request: no body faults on HEAD, digest lies only on manifest reads. */
export function applicableKinds(request: ProxyRequest, kinds: readonly FaultKind[]): FaultKind[] {
  const manifestRead = (request.method === 'GET' || request.method === 'HEAD') && MANIFEST_PATH.test(request.path);
  return kinds.filter((kind) => {
    if (kind === 'truncated-body') return request.method !== 'HEAD';
    if (kind === 'wrong-digest') return manifestRead;
    return true;
  });
}

/** A digest that is well-formed but not the one given (last 8 hex digits inverted). */
export function alteredDigest(digest: string): string {
  const flip = (c: string): string => (15 - Number.parseInt(c, 16)).toString(16);
  const head = digest.slice(0, -8);
  const tail = digest.slice(-8);
  return /^[0-9a-f]{8}$/.test(tail) ? head + [...tail].map(flip).join('') : `sha256:${'0'.repeat(64)}`;
}

const STATUS_BODIES: Record<string, { type: string; body: string }> = {
  '429': { type: 'application/json', body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"fault-proxy: slow down"}]}' },
  '500': { type: 'application/json', body: '{"errors":[{"code":"UNKNOWN","message":"fault-proxy: internal server error"}]}' },
  '502': { type: 'text/html', body: '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n' },
  '503': { type: 'text/plain', body: 'fault-proxy: service unavailable\n' },
  '504': { type: 'text/html', body: '<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body></html>\n' },
};

/** The headers with an explicit Content-Length (and no chunked encoding), for answers cut short on purpose. */
function withLength(headers: http.IncomingHttpHeaders, length: number): http.OutgoingHttpHeaders {
  const { 'transfer-encoding': _chunked, ...rest } = headers;
  return { ...rest, 'content-length': String(length) };
}

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Starts the proxy on a free loopback port. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const [targetHost, targetPort] = options.target.split(':');
  const rate = options.rate ?? 0.1;
  const kinds = options.kinds ?? FAULT_KINDS;
  const stallMs = options.stallMs ?? 1500;
  const retryAfter = options.retryAfterSeconds ?? 1;
  const requests: ProxyRequest[] = [];
  const faults: InjectedFault[] = [];
  const deletes: DeleteRecord[] = [];
  const seen = new Map<string, number>();
  let phase = '';
  const timers = new Set<NodeJS.Timeout>();

  const decide = (request: ProxyRequest): { kind?: FaultKind; forwardFirst: boolean } => {
    const key = `${request.method} ${request.path}`;
    const nth = seen.get(key) ?? 0;
    seen.set(key, nth + 1);
    const random = keyedRandom(`${options.seed}\u0000${phase}\u0000${key}\u0000${nth}`);
    const [draw, pick, forward] = [random(), random(), random()];
    const forwardFirst = request.method !== 'GET' && request.method !== 'HEAD' && forward < 0.5;
    const forced = options.force?.(request);
    if (forced === 'none') return { forwardFirst };
    if (forced !== undefined) return { kind: forced, forwardFirst };
    if (draw >= rate) return { forwardFirst };
    const choices = applicableKinds(request, kinds);
    const kind = choices[Math.floor(pick * choices.length)];
    return kind === undefined ? { forwardFirst } : { kind, forwardFirst };
  };

  /** Sends the request to the registry and reads the whole answer (registry answers here are small). */
  const forward = (req: http.IncomingMessage, body: Buffer, request: ProxyRequest): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const upstream = http.request(
        { host: targetHost, port: Number(targetPort), method: request.method, path: request.path, headers: req.headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });

  const later = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const request: ProxyRequest = { method: req.method ?? 'GET', path: req.url ?? '/' };
    requests.push(request);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const { kind, forwardFirst } = decide(request);
    const isDelete = request.method === 'DELETE';
    const statusFault = kind !== undefined && /^\d/.test(kind);

    let upstream: Upstream | undefined;
    if (kind === undefined || !statusFault || forwardFirst) {
      try {
        upstream = await forward(req, body, request);
      } catch {
        if (isDelete) deletes.push({ path: request.path, ...(kind === undefined ? {} : { fault: kind }), forwarded: true });
        res.destroy();
        return;
      }
    }
    let effective = kind;
    if (kind === 'wrong-digest' && upstream?.headers['docker-content-digest'] === undefined) effective = undefined; // nothing to lie about (a 401 or 404)
    if (isDelete) {
      deletes.push({
        path: request.path,
        ...(effective === undefined ? {} : { fault: effective }),
        forwarded: upstream !== undefined,
        ...(upstream === undefined ? {} : { upstreamStatus: upstream.status }),
      });
    }
    if (effective !== undefined) faults.push({ ...request, kind: effective, forwarded: upstream !== undefined });
    if (effective === undefined && upstream !== undefined) {
      res.writeHead(upstream.status, upstream.headers);
      res.end(request.method === 'HEAD' ? undefined : upstream.body);
      return;
    }
    await inject(res, request, effective, upstream);
  };

  const inject = async (res: http.ServerResponse, request: ProxyRequest, kind: FaultKind | undefined, upstream: Upstream | undefined): Promise<void> => {
    const head = request.method === 'HEAD';
    if (kind === undefined || /^\d/.test(kind)) {
      const status = kind === undefined ? 502 : Number(kind.slice(0, 3));
      const { type, body } = STATUS_BODIES[String(status)] ?? { type: 'text/plain', body: '' };
      const headers: Record<string, string> = { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) };
      if (kind === '429-seconds') headers['retry-after'] = String(retryAfter);
      if (kind === '429-date') headers['retry-after'] = new Date(Math.ceil((Date.now() + retryAfter * 1000) / 1000) * 1000 + 1000).toUTCString();
      res.writeHead(status, headers);
      res.end(head ? undefined : body);
      return;
    }
    const answer = upstream as Upstream;
    switch (kind) {
      case 'stall':
        await later(stallMs);
        if (res.destroyed) return;
        res.writeHead(answer.status, answer.headers);
        res.end(head ? undefined : answer.body);
        return;
      case 'wrong-digest': {
        const stated = String(answer.headers['docker-content-digest']);
        res.writeHead(answer.status, { ...answer.headers, 'docker-content-digest': alteredDigest(stated) });
        res.end(head ? undefined : answer.body);
        return;
      }
      case 'reset-mid-body': {
        if (head || answer.body.byteLength === 0) {
          res.socket?.resetAndDestroy();
          return;
        }
        res.writeHead(answer.status, withLength(answer.headers, answer.body.byteLength));
        res.write(answer.body.subarray(0, Math.floor(answer.body.byteLength / 2)), () => res.socket?.resetAndDestroy());
        return;
      }
      case 'truncated-body': {
        res.writeHead(answer.status, withLength(answer.headers, answer.body.byteLength + 64));
        res.write(answer.body.subarray(0, Math.floor(answer.body.byteLength / 2)), () => res.socket?.end());
        return;
      }
    }
  };

  const listening = await startLoopbackServer(handle);
  const { port } = listening;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    faults,
    deletes,
    setPhase: (name) => {
      phase = name;
      seen.clear();
    },
    faultCounts: () => Object.fromEntries(FAULT_KINDS.map((k) => [k, faults.filter((f) => f.kind === k).length])) as Record<FaultKind, number>,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        void listening.close().then(resolve);
      }),
  };
}
