/**
 * An in-memory registry for benchmarks: the subset of the Distribution API regplan uses, served from maps by a
 * bare `node:http` server with no auth and no disk, so it answers in microseconds and a plan's wall time shows
 * regplan's own CPU per request rather than the registry's. Serves synthetic repos (bench/synthetic-repo.ts):
 *   GET  /v2/                                   200 {}
 *   GET  /v2/_catalog?n=&last=                  repositories, Link-paged
 *   GET  /v2/<name>/tags/list?n=&last=          tags in lexical order, Link-paged (all of them without `n`,
 *                                               as distribution 2.8 does)
 *   HEAD/GET /v2/<name>/manifests/<tag|digest>  with Content-Type, Content-Length and Docker-Content-Digest
 *   GET  /v2/<name>/blobs/<digest>              configs and layers
 *   DELETE /v2/<name>/manifests/<digest|tag>    202; a digest takes every tag pointing at it
 * Every request is recorded (method + path) like the counting proxy does, for requests per tag and the ceiling.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MediaType } from '../src/registry/oci.ts';
import type { ProxiedRequest } from '../test/support/counting-proxy.ts';
import { syntheticTags } from './synthetic-repo.ts';

/** A running in-memory registry. */
export interface MemoryRegistry {
  /** `127.0.0.1:PORT`, plain http. */
  host: string;
  requests: ProxiedRequest[];
  reset(): void;
  stop(): Promise<void>;
}

interface MemoryRepo {
  tags: string[];
  tagDigest: Map<string, string>;
  manifests: Map<string, Buffer>;
  blobs: Map<string, Buffer>;
}

function buildRepo(name: string, tagCount: number): MemoryRepo {
  const repo: MemoryRepo = { tags: [], tagDigest: new Map(), manifests: new Map(), blobs: new Map() };
  for (const entry of syntheticTags(name, tagCount)) {
    repo.tagDigest.set(entry.tag, entry.manifestDigest);
    if (!entry.image) continue;
    repo.manifests.set(entry.manifestDigest, entry.image.manifest.bytes);
    repo.blobs.set(entry.image.config.digest, entry.image.config.bytes);
    for (const layer of entry.image.layers) repo.blobs.set(layer.digest, layer.bytes);
  }
  repo.tags = [...repo.tagDigest.keys()].sort();
  return repo;
}

/** One page of a lexically sorted list after `last`, at most `n` (all without `n`), and the next page's link. */
function page(all: string[], url: URL): { items: string[]; next?: string } {
  const last = url.searchParams.get('last');
  const n = url.searchParams.has('n') ? Number(url.searchParams.get('n')) : Infinity;
  let start = 0;
  if (last !== null) {
    // Binary search for the first entry after `last`.
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((all[mid] as string) <= last) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const items = all.slice(start, start + n);
  if (start + items.length >= all.length || items.length === 0) return { items };
  return { items, next: `<${url.pathname}?n=${n}&last=${encodeURIComponent(items.at(-1) as string)}>; rel="next"` };
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** Starts a registry holding `repos` (name → tag count) on a free loopback port. */
export async function startMemoryRegistry(repos: Record<string, number>): Promise<MemoryRegistry> {
  const store = new Map(Object.entries(repos).map(([name, count]) => [name, buildRepo(name, count)]));
  const names = [...store.keys()].sort();
  const requests: ProxiedRequest[] = [];
  const error = (res: http.ServerResponse, status: number, code: string): void => {
    res.writeHead(status, JSON_TYPE).end(JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] }));
  };
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const rawPath = req.url ?? '/';
    requests.push({ method, path: rawPath });
    req.resume();
    const url = new URL(rawPath, 'http://memory');
    const pathname = url.pathname;
    if (pathname === '/v2/' || pathname === '/v2') return void res.writeHead(200, JSON_TYPE).end('{}');
    if (pathname === '/v2/_catalog') {
      const { items, next } = page(names, url);
      return void res.writeHead(200, { ...JSON_TYPE, ...(next ? { link: next } : {}) }).end(JSON.stringify({ repositories: items }));
    }
    const tagsMatch = /^\/v2\/(.+)\/tags\/list$/.exec(pathname);
    if (tagsMatch) {
      const repo = store.get(tagsMatch[1] as string);
      if (!repo) return error(res, 404, 'NAME_UNKNOWN');
      const { items, next } = page(repo.tags, url);
      return void res.writeHead(200, { ...JSON_TYPE, ...(next ? { link: next } : {}) }).end(JSON.stringify({ name: tagsMatch[1], tags: items }));
    }
    const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(pathname);
    const repo = match ? store.get(match[1] as string) : undefined;
    if (!match || !repo) return error(res, 404, 'NAME_UNKNOWN');
    const reference = decodeURIComponent(match[3] as string);
    if (match[2] === 'blobs') {
      const blob = repo.blobs.get(reference);
      if (!blob || (method !== 'GET' && method !== 'HEAD')) return error(res, 404, 'BLOB_UNKNOWN');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length, 'docker-content-digest': reference });
      return void res.end(method === 'HEAD' ? undefined : blob);
    }
    const digest = reference.startsWith('sha256:') ? reference : repo.tagDigest.get(reference);
    const manifest = digest === undefined ? undefined : repo.manifests.get(digest);
    if (digest === undefined || manifest === undefined) return error(res, 404, 'MANIFEST_UNKNOWN');
    if (method === 'DELETE') {
      if (reference.startsWith('sha256:')) {
        repo.manifests.delete(digest);
        for (const [tag, d] of repo.tagDigest) if (d === digest) repo.tagDigest.delete(tag);
      } else {
        repo.tagDigest.delete(reference);
      }
      repo.tags = [...repo.tagDigest.keys()].sort();
      return void res.writeHead(202, { 'content-length': 0 }).end();
    }
    res.writeHead(200, { 'content-type': MediaType.ociManifest, 'content-length': manifest.length, 'docker-content-digest': digest });
    res.end(method === 'HEAD' ? undefined : manifest);
  });
  server.keepAliveTimeout = 60_000;
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
