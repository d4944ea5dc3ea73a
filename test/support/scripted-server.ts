/**
 * A scripted HTTP server on 127.0.0.1 for protocol tests: the test supplies a handler that answers each request
 * (or drops the connection), and the server records every request it saw (method, path, query, headers, body)
 * so tests assert on what the client really sent. Port 0, so every test gets a free port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as the server received it. */
export interface RecordedRequest {
  method: string;
  /** Path and query as sent, e.g. `/v2/app/tags/list?n=2`. */
  url: string;
  path: string;
  query: URLSearchParams;
  /** Header names lowercased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Uint8Array;
  bodyText: string;
}

/** A scripted answer; `body` objects are sent as JSON (Content-Type application/json unless given). */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array | object;
  /** Sends the full Content-Length but only this many body bytes, then drops the connection (a truncated body). */
  truncateAfter?: number;
}

/** The handler answers a request, or returns 'drop' to destroy the connection without an answer. */
export type ScriptHandler = (request: RecordedRequest, server: ScriptedServer) => ScriptedResponse | 'drop' | Promise<ScriptedResponse | 'drop'>;

/** A running scripted server. */
export interface ScriptedServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>` (what a repo address would hold). */
  host: string;
  port: number;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Replaces the handler (for multi-phase tests). */
  setHandler(handler: ScriptHandler): void;
  /** Requests whose path starts with `prefix` (and method, when given). */
  requestsTo(prefix: string, method?: string): RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a scripted server on a free loopback port. Always close it (try/finally or an after hook). */
export async function startScriptedServer(handler: ScriptHandler): Promise<ScriptedServer> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => void handle(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const scripted: ScriptedServer = {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    requests,
    setHandler: (next) => void (current = next),
    requestsTo: (prefix, method) => requests.filter((r) => r.path.startsWith(prefix) && (method === undefined || r.method === method)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = new Uint8Array(Buffer.concat(chunks));
    const parsed = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      path: parsed.pathname,
      query: parsed.searchParams,
      headers,
      body,
      bodyText: new TextDecoder().decode(body),
    };
    requests.push(recorded);
    let answer: ScriptedResponse | 'drop';
    try {
      answer = await current(recorded, scripted);
    } catch (error) {
      answer = { status: 500, body: `scripted handler threw: ${String(error)}` };
    }
    if (answer === 'drop') {
      req.socket.destroy();
      return;
    }
    const outHeaders: Record<string, string | string[]> = { ...answer.headers };
    let payload: Uint8Array | string = '';
    if (answer.body instanceof Uint8Array || typeof answer.body === 'string') payload = answer.body;
    else if (answer.body !== undefined) {
      payload = JSON.stringify(answer.body);
      if (!Object.keys(outHeaders).some((k) => k.toLowerCase() === 'content-type')) outHeaders['content-type'] = 'application/json';
    }
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
    if (!Object.keys(outHeaders).some((k) => k.toLowerCase() === 'content-length')) outHeaders['content-length'] = String(bytes.byteLength);
    res.writeHead(answer.status, outHeaders);
    if (answer.truncateAfter !== undefined && recorded.method !== 'HEAD') {
      res.write(bytes.subarray(0, answer.truncateAfter), () => req.socket.destroy());
      return;
    }
    res.end(recorded.method === 'HEAD' ? undefined : bytes);
  }

  return scripted;
}

/** An OCI error body, as registries send it. */
export const ociError = (code: string, message: string, detail?: unknown): object => ({ errors: [{ code, message, ...(detail === undefined ? {} : { detail }) }] });
