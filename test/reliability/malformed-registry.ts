/**
 * A malformed registry on loopback for issue 9's hostile-input tests: a tiny /v2/ server holding real test
 * images, whose answers a test can make hostile one route at a time (tag names that are paths, bodies cut short,
 * a 600 MB tags list or manifest generated on the fly). Huge bodies are streamed with backpressure and never
 * held in memory, so the server stays small and any memory growth is the client's. Every request is recorded
 * exactly as sent (req.url), so a test can prove a hostile name never reached a URL and count DELETEs.
 */
import * as http from 'node:http';
import { startLoopbackServer } from '../support/loopback-server.ts';
import { buildTestImage, type BuiltImage } from '../harness/layout.ts';

/** A request as received. */
export interface SeenRequest {
  method: string;
  /** The request target exactly as the client sent it. */
  url: string;
}

/** How the fake answers a route; undefined = the normal, well-formed answer. */
export type Misbehaviour =
  | { kind: 'tags'; tags: readonly string[] }
  | { kind: 'truncate' }
  | { kind: 'huge'; bytes: number };

/** What to make hostile. */
export interface MalformedOptions {
  repo: string;
  /** Well-formed images: tag -> days after 2025-01-01. Tags sharing a number get one image each. */
  images: Record<string, number>;
  /** Images the registry holds but does not list: a request for one proves a name was turned into a path. */
  hidden?: Record<string, number>;
  tagsList?: Misbehaviour;
  /** Applies to GET of this tag's manifest (and of its digest). */
  manifest?: { tag: string; misbehaviour: Misbehaviour };
  /** Applies to every blob GET. */
  blobs?: Misbehaviour;
}

/** A running fake. */
export interface MalformedRegistry {
  host: string;
  requests: SeenRequest[];
  /** Manifest digest of each tag (listed and hidden). */
  digests: Map<string, string>;
  /** Every digest the fake can serve (manifests, configs, layers). */
  blobDigests: Set<string>;
  /** Bytes of huge bodies actually written to sockets. */
  streamedBytes(): number;
  close(): Promise<void>;
}

const TAG_FILLER = (i: number): string => `"t${String(i).padStart(10, '0')}"`;

/** Writes `total` bytes of a JSON document generated piece by piece, respecting backpressure; stops when the client goes. */
async function streamJson(res: http.ServerResponse, head: string, item: (i: number) => string, tail: string, total: number, count: (n: number) => void): Promise<void> {
  let sent = 0;
  const write = (text: string): Promise<void> | undefined => {
    sent += Buffer.byteLength(text);
    count(Buffer.byteLength(text));
    if (res.write(text)) return undefined;
    return new Promise((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  };
  await write(head);
  let i = 0;
  while (sent < total - tail.length - 64 && !res.destroyed) {
    const parts: string[] = [];
    for (let n = 0; n < 4096; n++) parts.push(`${i++ === 0 ? '' : ','}${item(i)}`);
    const waiting = write(parts.join(''));
    if (waiting) await waiting;
  }
  if (!res.destroyed) res.end(tail);
}

/** Starts the fake on a free loopback port. */
export async function startMalformedRegistry(options: MalformedOptions): Promise<MalformedRegistry> {
  const requests: SeenRequest[] = [];
  const images = new Map<string, BuiltImage>();
  const digests = new Map<string, string>();
  const blobs = new Map<string, Uint8Array>();
  for (const [tag, day] of Object.entries({ ...options.images, ...options.hidden })) {
    const image = buildTestImage({ content: `${options.repo}:${tag}`, created: new Date(Date.UTC(2025, 0, 1) + day * 86_400_000) });
    images.set(tag, image);
    digests.set(tag, image.descriptor.digest);
    for (const [digest, bytes] of image.blobs) blobs.set(digest, bytes);
  }
  const listed = Object.keys(options.images);
  let streamed = 0;
  const prefix = `/v2/${options.repo}/`;

  const send = (res: http.ServerResponse, method: string, status: number, headers: Record<string, string>, body: Uint8Array | string): void => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    res.writeHead(status, { ...headers, 'content-length': String(bytes.byteLength) });
    res.end(method === 'HEAD' ? undefined : bytes);
  };
  const notFound = (res: http.ServerResponse, method: string, code: string): void =>
    send(res, method, 404, { 'content-type': 'application/json' }, JSON.stringify({ errors: [{ code, message: 'not known to the fake' }] }));

  /** Serves `body` as its misbehaviour says; returns false when there is none (serve normally). */
  const misbehave = async (res: http.ServerResponse, method: string, how: Misbehaviour | undefined, body: Uint8Array, headers: Record<string, string>, huge: { head: string; item: (i: number) => string; tail: string }): Promise<boolean> => {
    if (how === undefined || how.kind === 'tags') return false;
    if (how.kind === 'truncate') {
      res.writeHead(200, { ...headers, 'content-length': String(body.byteLength + 100) });
      if (method === 'HEAD') {
        res.end();
        return true;
      }
      res.write(body.subarray(0, Math.floor(body.byteLength / 2)), () => res.socket?.end());
      return true;
    }
    res.writeHead(200, headers); // no Content-Length: chunked, so only counting what arrives can stop it
    if (method === 'HEAD') {
      res.end();
      return true;
    }
    await streamJson(res, huge.head, huge.item, huge.tail, how.bytes, (n) => (streamed += n));
    return true;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    requests.push({ method, url });
    for await (const _ of req) {
      // drain
    }
    const pathname = url.split('?')[0] ?? url;
    if (pathname === '/v2/' || pathname === '/v2') return send(res, method, 200, { 'content-type': 'application/json' }, '{}');
    if (!pathname.startsWith(prefix)) return notFound(res, method, 'NAME_UNKNOWN');
    const rest = pathname.slice(prefix.length);
    if (rest === 'tags/list' && method === 'GET') {
      const tags = options.tagsList?.kind === 'tags' ? options.tagsList.tags : listed;
      const body = Buffer.from(JSON.stringify({ name: options.repo, tags }));
      const handled = await misbehave(res, method, options.tagsList, body, { 'content-type': 'application/json' }, {
        head: `{"name":${JSON.stringify(options.repo)},"tags":[`,
        item: TAG_FILLER,
        tail: ']}',
      });
      if (!handled) send(res, method, 200, { 'content-type': 'application/json' }, body);
      return;
    }
    const manifest = /^manifests\/([^/]+)$/.exec(rest);
    if (manifest && (method === 'GET' || method === 'HEAD' || method === 'DELETE')) {
      const ref = decodeURIComponent(manifest[1] ?? '');
      const tag = [...digests].find(([t, d]) => t === ref || d === ref)?.[0];
      const image = tag === undefined ? undefined : images.get(tag);
      if (image === undefined || tag === undefined) return notFound(res, method, 'MANIFEST_UNKNOWN');
      if (method === 'DELETE') return send(res, method, 202, {}, '');
      const bytes = image.blobs.get(image.descriptor.digest) as Uint8Array;
      const headers = { 'content-type': image.descriptor.mediaType, 'docker-content-digest': image.descriptor.digest };
      if (options.manifest?.tag === tag) {
        const how = options.manifest.misbehaviour;
        const { 'docker-content-digest': _digest, ...withoutDigest } = headers; // a huge or cut body cannot match a digest anyway
        const handled = await misbehave(res, method, how, bytes, how.kind === 'huge' ? withoutDigest : headers, {
          head: `{"schemaVersion":2,"mediaType":"${image.descriptor.mediaType}","annotations":{"filler":[`,
          item: TAG_FILLER,
          tail: ']}}',
        });
        if (handled) return;
      }
      return send(res, method, 200, headers, bytes);
    }
    const blob = /^blobs\/(sha256:[0-9a-f]{64})$/.exec(rest);
    if (blob && (method === 'GET' || method === 'HEAD')) {
      const bytes = blobs.get(blob[1] ?? '');
      if (bytes === undefined) return notFound(res, method, 'BLOB_UNKNOWN');
      const handled = await misbehave(res, method, options.blobs, bytes, { 'content-type': 'application/octet-stream', 'docker-content-digest': blob[1] ?? '' }, {
        head: '{"filler":[',
        item: TAG_FILLER,
        tail: ']}',
      });
      if (!handled) send(res, method, 200, { 'content-type': 'application/octet-stream', 'docker-content-digest': blob[1] ?? '' }, bytes);
      return;
    }
    return notFound(res, method, 'UNSUPPORTED');
  };

  const listening = await startLoopbackServer(handle);
  const { port } = listening;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    digests,
    blobDigests: new Set(blobs.keys()),
    streamedBytes: () => streamed,
    close: () => listening.close(),
  };
}
