/**
 * A fast in-memory registry for measuring regplan itself (issue 11): a tiny node:http server answering
 * tags/list (Link-paged), HEAD/GET of manifests by tag or digest, config blobs and DELETE of manifests, for N
 * synthetic single-image tags. Nothing else: no auth, no uploads. It answers in microseconds, so a plan against
 * it shows regplan's own cost per request. The bench helper may replace it with a fuller one.
 * Run alone: node bench/probe-registry.ts --tags 100000  (prints `127.0.0.1:PORT`; stops on SIGTERM).
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A running probe registry. */
export interface ProbeRegistry {
  host: string;
  repo: string;
  tags: number;
  stop(): Promise<void>;
}

/** The synthetic tag names, in listing order: every 20th a release, else main-/pr- alternately. */
export const probeTag = (i: number): string => (i % 20 === 0 ? `v1.${i}.0` : i % 2 === 0 ? `main-${i}` : `pr-${i}`);

/** Starts a registry with `tags` tags in repo `bench/app`, each its own manifest and config (pushed an hour apart). */
export async function startProbeRegistry(options: { tags: number; pageSize?: number }): Promise<ProbeRegistry> {
  const repo = 'bench/app';
  const pageSize = options.pageSize ?? 1000;
  const names: string[] = [];
  const byTag = new Map<string, { digest: string; bytes: Buffer }>();
  const manifests = new Map<string, Buffer>();
  const configs = new Map<string, Buffer>();
  const layer = sha('probe layer');
  for (let i = 0; i < options.tags; i++) {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString(), rootfs: { type: 'layers', diff_ids: [layer] } }));
    const configDigest = sha(config);
    configs.set(configDigest, config);
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.byteLength }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: 11 }] }));
    const digest = sha(bytes);
    manifests.set(digest, bytes);
    const tag = probeTag(i);
    names.push(tag);
    byTag.set(tag, { digest, bytes });
  }
  const prefix = `/v2/${repo}/`;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://probe');
    const path = url.pathname;
    const notFound = () => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    };
    if (path === '/v2/' || path === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      res.end('{}');
      return;
    }
    if (!path.startsWith(prefix)) return notFound();
    const rest = path.slice(prefix.length);
    if (rest === 'tags/list') {
      const n = Number(url.searchParams.get('n') ?? pageSize) || pageSize;
      const last = url.searchParams.get('last');
      const start = last === null ? 0 : names.indexOf(last) + 1;
      const page = names.slice(start, start + n);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (start + n < names.length) headers['link'] = `<${prefix}tags/list?n=${n}&last=${encodeURIComponent(page.at(-1) ?? '')}>; rel="next"`;
      res.writeHead(200, headers);
      res.end(JSON.stringify({ name: repo, tags: page }));
      return;
    }
    if (rest.startsWith('manifests/')) {
      const ref = decodeURIComponent(rest.slice('manifests/'.length));
      const found = ref.startsWith('sha256:') ? (manifests.has(ref) ? { digest: ref, bytes: manifests.get(ref) as Buffer } : undefined) : byTag.get(ref);
      if (req.method === 'DELETE') {
        if (found === undefined || !ref.startsWith('sha256:')) return notFound();
        manifests.delete(ref);
        for (const [tag, entry] of byTag) if (entry.digest === ref) byTag.delete(tag);
        res.writeHead(202, { 'content-length': '0' });
        res.end();
        return;
      }
      if (found === undefined) return notFound();
      res.writeHead(200, { 'content-type': MANIFEST, 'docker-content-digest': found.digest, 'content-length': String(found.bytes.byteLength) });
      res.end(req.method === 'HEAD' ? undefined : found.bytes);
      return;
    }
    if (rest.startsWith('blobs/')) {
      const blob = configs.get(decodeURIComponent(rest.slice('blobs/'.length)));
      if (blob === undefined) return notFound();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'docker-content-digest': decodeURIComponent(rest.slice('blobs/'.length)), 'content-length': String(blob.byteLength) });
      res.end(req.method === 'HEAD' ? undefined : blob);
      return;
    }
    notFound();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    repo,
    tags: options.tags,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { tags: { type: 'string', default: '1000' } } });
  const registry = await startProbeRegistry({ tags: Number(values.tags) });
  process.stdout.write(`${registry.host}\n`);
  process.on('SIGTERM', () => void registry.stop().then(() => process.exit(0)));
}
