/**
 * A loopback reverse proxy in front of a test registry that counts requests (method + path) and can slow chosen
 * ones down or answer them itself (fault injection), so tests can assert "at most ~1.1 requests per tag" and kill an apply mid-way.
 * The Host header is passed through, so the registry's Location and Link URLs point back at the proxy.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One forwarded request. */
export interface ProxiedRequest {
  method: string;
  path: string;
}

/** A running proxy. */
export interface CountingProxy {
  /** `127.0.0.1:PORT`, to use as the registry host. */
  host: string;
  requests: ProxiedRequest[];
  reset(): void;
  stop(): Promise<void>;
}

/** What `intercept` answers instead of the registry. */
export interface InjectedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Options of `startCountingProxy`. */
export interface CountingProxyOptions {
  delayMs?: (request: ProxiedRequest) => number;
  /** Answers a request itself instead of forwarding it (fault injection: 429, 503, …). */
  intercept?: (request: ProxiedRequest) => InjectedAnswer | undefined;
}

/** Starts a proxy to `target` (`127.0.0.1:PORT`); `delayMs(request)` may hold a request before forwarding it. */
export async function startCountingProxy(target: string, options: CountingProxyOptions = {}): Promise<CountingProxy> {
  const [targetHost, targetPort] = target.split(':');
  const requests: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    const record = { method: req.method ?? 'GET', path: req.url ?? '/' };
    requests.push(record);
    const injected = options.intercept?.(record);
    if (injected) {
      req.resume();
      res.writeHead(injected.status, { 'content-type': 'application/json', ...injected.headers });
      res.end(injected.body ?? '');
      return;
    }
    const forward = () => {
      const upstream = http.request(
        { host: targetHost, port: Number(targetPort), method: record.method, path: record.path, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        res.destroy();
      });
      req.pipe(upstream);
    };
    const delay = options.delayMs?.(record) ?? 0;
    if (delay > 0) setTimeout(forward, delay);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    reset: () => void requests.splice(0),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
