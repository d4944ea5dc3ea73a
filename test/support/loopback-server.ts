/**
 * A test HTTP server on 127.0.0.1 (port 0) that survives hostile handling: a handler that throws destroys its
 * socket, client errors destroy theirs, and `close` destroys every open socket before closing, so a test that
 * stalls or half-writes answers still shuts down at once. The fault proxy and the malformed registry both run on it.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A running loopback server. */
export interface LoopbackServer {
  server: http.Server;
  port: number;
  /** `127.0.0.1:PORT`. */
  host: string;
  /** Destroys every open connection, then closes the server. */
  close(): Promise<void>;
}

/** Starts `handle` on a free loopback port. */
export async function startLoopbackServer(handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    res.on('error', () => undefined);
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
