/**
 * Small HTTP answers shared by the memory registry's routes and by vendor emulators built on it: JSON bodies,
 * OCI error bodies (`{"errors":[{code,message,detail}]}`), raw bytes, and reading a request body whole.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Headers as node's writeHead takes them. */
export type Headers = Record<string, string | string[]>;

/** Reads a request body whole (uploads in tests are small). */
export async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** Sends bytes (no body on HEAD, but the Content-Length of the body a GET would carry). */
export function sendBytes(req: IncomingMessage, res: ServerResponse, status: number, bytes: Uint8Array, headers: Headers = {}): void {
  res.writeHead(status, { 'content-length': String(bytes.byteLength), ...headers });
  res.end(req.method === 'HEAD' ? undefined : Buffer.from(bytes));
}

/** Sends a JSON body with `application/json` (unless `headers` says otherwise). */
export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  sendBytes(req, res, status, Buffer.from(JSON.stringify(body)), { 'content-type': 'application/json', ...headers });
}

/** Sends an empty answer (202/204 and friends). */
export function sendEmpty(res: ServerResponse, status: number, headers: Headers = {}): void {
  res.writeHead(status, { 'content-length': '0', ...headers });
  res.end();
}

/** Sends an OCI error body with one error. */
export function sendOciError(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, options: { detail?: unknown; headers?: Headers } = {}): void {
  sendJson(req, res, status, { errors: [{ code, message, ...(options.detail === undefined ? {} : { detail: options.detail }) }] }, options.headers ?? {});
}
