/**
 * Blob uploads of the memory registry (reference §1.12): sessions opened by POST (202 + Location with a `_state`
 * query the client must carry, like distribution's), monolithic POST `?digest=`, cross-repo mount
 * `?mount=&from=` (201 when `from` holds the blob, else a new session), PATCH chunks checked against
 * `Content-Range` (416 out of order), PUT `?digest=` closing with a digest check, GET status and DELETE cancel.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sha256Digest } from '../../harness/layout.ts';
import { readBody, sendEmpty, sendOciError } from './respond.ts';
import type { RegistryStore } from './store.ts';

/** An open upload session. */
export interface UploadSession {
  repo: string;
  state: string;
  chunks: Buffer[];
  size: number;
}

/** All open upload sessions of one registry and the routes that drive them. */
export class Uploads {
  /** Open sessions by UUID (tests may look at them). */
  readonly sessions = new Map<string, UploadSession>();
  readonly #store: RegistryStore;

  constructor(store: RegistryStore) {
    this.#store = store;
  }

  /** `POST /v2/<name>/blobs/uploads/`: monolithic, mount, or a new session. */
  async start(req: IncomingMessage, res: ServerResponse, name: string, url: URL): Promise<void> {
    const body = await readBody(req);
    const mount = url.searchParams.get('mount');
    const from = url.searchParams.get('from');
    if (mount !== null && from !== null && this.#store.hasBlob(mount, from)) {
      this.#store.linkBlob(name, mount);
      return sendEmpty(res, 201, { location: `/v2/${name}/blobs/${mount}`, 'docker-content-digest': mount });
    }
    const digest = url.searchParams.get('digest');
    if (digest !== null && mount === null) return this.#finish(req, res, name, digest, Buffer.from(body));
    const uuid = randomUUID();
    const session: UploadSession = { repo: name, state: randomUUID(), chunks: body.byteLength > 0 ? [Buffer.from(body)] : [], size: body.byteLength };
    this.sessions.set(uuid, session);
    sendEmpty(res, 202, { ...this.#sessionHeaders(name, uuid, session) });
  }

  /** `PATCH <upload-url>`: appends a chunk. */
  async patch(req: IncomingMessage, res: ServerResponse, name: string, uuid: string, url: URL): Promise<void> {
    const body = Buffer.from(await readBody(req));
    const session = this.#session(req, res, name, uuid, url);
    if (session === undefined) return;
    const range = req.headers['content-range'];
    if (range !== undefined) {
      const match = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(range.trim());
      if (match === null || Number(match[1]) !== session.size || Number(match[2]) - Number(match[1]) + 1 !== body.byteLength) {
        return sendOciError(req, res, 416, 'RANGE_INVALID', `Content-Range ${range} does not continue the upload at ${session.size}`, { headers: { ...this.#sessionHeaders(name, uuid, session) } });
      }
    }
    session.chunks.push(body);
    session.size += body.byteLength;
    sendEmpty(res, 202, this.#sessionHeaders(name, uuid, session));
  }

  /** `PUT <upload-url>?digest=`: closes the session with an optional last chunk. */
  async put(req: IncomingMessage, res: ServerResponse, name: string, uuid: string, url: URL): Promise<void> {
    const body = Buffer.from(await readBody(req));
    const session = this.#session(req, res, name, uuid, url);
    if (session === undefined) return;
    const digest = url.searchParams.get('digest');
    if (digest === null) return sendOciError(req, res, 400, 'DIGEST_INVALID', 'digest parameter is missing');
    this.sessions.delete(uuid);
    this.#finish(req, res, name, digest, Buffer.concat([...session.chunks, body]));
  }

  /** `GET <upload-url>`: 204 with the received range. */
  status(req: IncomingMessage, res: ServerResponse, name: string, uuid: string, url: URL): void {
    const session = this.#session(req, res, name, uuid, url);
    if (session !== undefined) sendEmpty(res, 204, this.#sessionHeaders(name, uuid, session));
  }

  /** `DELETE <upload-url>`: cancels the session. */
  cancel(req: IncomingMessage, res: ServerResponse, name: string, uuid: string, url: URL): void {
    const session = this.#session(req, res, name, uuid, url);
    if (session === undefined) return;
    this.sessions.delete(uuid);
    sendEmpty(res, 204);
  }

  #finish(req: IncomingMessage, res: ServerResponse, name: string, digest: string, bytes: Buffer): void {
    const actual = sha256Digest(bytes);
    if (actual !== digest) return sendOciError(req, res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', { detail: { expected: digest, actual } });
    this.#store.putBlob(bytes, name);
    sendEmpty(res, 201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest });
  }

  /** The session, when it exists in this repo and the `_state` query matches; else answers 404/400 and returns undefined. */
  #session(req: IncomingMessage, res: ServerResponse, name: string, uuid: string, url: URL): UploadSession | undefined {
    const session = this.sessions.get(uuid);
    if (session === undefined || session.repo !== name) {
      sendOciError(req, res, 404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { detail: { uuid } });
      return undefined;
    }
    if (url.searchParams.get('_state') !== session.state) {
      sendOciError(req, res, 400, 'BLOB_UPLOAD_INVALID', 'blob upload invalid: the _state parameter of the Location was not sent back');
      return undefined;
    }
    return session;
  }

  #sessionHeaders(name: string, uuid: string, session: UploadSession): Record<string, string> {
    return {
      location: `/v2/${name}/blobs/uploads/${uuid}?_state=${session.state}`,
      'docker-upload-uuid': uuid,
      range: `0-${Math.max(session.size - 1, 0)}`,
    };
  }
}
