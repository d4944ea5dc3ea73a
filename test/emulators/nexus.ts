/**
 * Sonatype Nexus Repository 3 emulator on top of the memory registry (the Docker connector), from Nexus's REST API
 * documentation (reference §3.10): `GET /service/rest/v1/search?repository=&format=docker&name=&version=` and
 * `GET|DELETE /service/rest/v1/components/{id}` with Basic auth. Quirks reproduced, each from its documentation:
 * - one Docker component per (image, tag), its manifest asset at `v2/<image>/manifests/<tag>` with
 *   `checksum.sha256` (the manifest digest's hex), `blobCreated` and `lastModified` (REST API "Search" and
 *   "Components" pages); deleting a component removes that tag only — the manifest stays for its other tags and,
 *   untagged, until the "Docker - Delete unused manifests and images" task;
 * - paging by `continuationToken` with a page size the server fixes (50 for search; the emulator can lower it),
 *   `continuationToken: null` on the last page; the token names the last component served, so deletes between
 *   pages never make a page skip one;
 * - `search?name=` matches loosely (a keyword search): components of other images whose name starts with it are
 *   served too;
 * - a hosted repository whose deployment policy is "Disable redeploy" refuses Registry-API deletes with 400
 *   "Repository does not allow updating assets" (GoogleContainerTools/jib#2395);
 * - REST errors come as plain text or an empty body with the status.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type MemoryRegistry, type RegistryStore, type RouteHelpers, startMemoryRegistry } from './memory-registry.ts';

/** How the emulator behaves. */
export interface NexusEmulatorOptions {
  user: { username: string; password: string };
  /** The Docker hosted repository's name (default `docker-hosted`). */
  repository?: string;
  /** Components per search page (default 50, as Nexus). */
  pageSize?: number;
  /** Deployment policy "Allow redeploy" (default true); false refuses Registry-API deletes with 400. */
  allowRedeploy?: boolean;
  /** The REST API answers 404 (an old or locked-down Nexus, or a proxy that does not forward it). */
  restDisabled?: boolean;
  /** DELETE of a component answers 404 and deletes nothing. */
  deleteAnswers404?: boolean;
}

/** A running emulator. */
export interface NexusEmulator {
  registry: MemoryRegistry;
  host: string;
  store: RegistryStore;
  /** The Nexus repository URL (`http://127.0.0.1:PORT/repository/<name>`): `api:` in the config. */
  api: string;
  repository: string;
  /** Components deleted so far (by id). */
  deleted: string[];
  stop(): Promise<void>;
}

const REST = '/service/rest/v1/';

/** Starts the emulator on a free loopback port; always stop it. */
export async function startNexusEmulator(options: NexusEmulatorOptions): Promise<NexusEmulator> {
  const repository = options.repository ?? 'docker-hosted';
  const pageSize = options.pageSize ?? 50;
  const deleted: string[] = [];
  const componentId = (image: string, tag: string) => Buffer.from(`${repository}:${createHash('md5').update(`${image}:${tag}`).digest('hex')}`).toString('base64url');
  const expected = `Basic ${Buffer.from(`${options.user.username}:${options.user.password}`).toString('base64')}`;

  /** Every component of the repository (one per image and tag), sorted by id. */
  function components(store: RegistryStore): { id: string; image: string; tag: string; json: Record<string, unknown> }[] {
    const all: { id: string; image: string; tag: string; json: Record<string, unknown> }[] = [];
    for (const image of store.repos()) {
      for (const t of store.tags(image)) {
        const id = componentId(image, t.tag);
        const manifest = store.manifest(image, t.digest);
        const hex = t.digest.slice('sha256:'.length);
        all.push({
          id,
          image,
          tag: t.tag,
          json: {
            id,
            repository,
            format: 'docker',
            group: null,
            name: image,
            version: t.tag,
            assets: [
              {
                downloadUrl: `http://nexus.invalid/repository/${repository}/v2/${image}/manifests/${t.tag}`,
                path: `v2/${image}/manifests/${t.tag}`,
                id: Buffer.from(`${repository}:asset-${id}`).toString('base64url'),
                repository,
                format: 'docker',
                checksum: { sha1: createHash('sha1').update(manifest?.bytes ?? new Uint8Array()).digest('hex'), sha256: hex },
                contentType: manifest?.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
                lastModified: t.pushedAt.toISOString().replace('Z', '+00:00'),
                lastDownloaded: store.lastPull(image, t.tag)?.toISOString().replace('Z', '+00:00') ?? null, // null until downloaded by this path
                uploader: options.user.username,
                uploaderIp: '127.0.0.1',
                fileSize: manifest?.bytes.byteLength ?? 0,
                blobCreated: t.pushedAt.toISOString().replace('Z', '+00:00'),
              },
            ],
          },
        });
      }
    }
    return all.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  const routes = (req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): boolean => {
    if (options.allowRedeploy === false && req.method === 'DELETE' && /^\/v2\/.+\/manifests\//.test(url.pathname)) {
      helpers.sendOciError(req, res, 400, 'UNSUPPORTED', `Repository does not allow updating assets: ${repository}`);
      return true;
    }
    if (!url.pathname.startsWith(REST)) return false;
    const text = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    };
    if (options.restDisabled === true) return text(404, ''), true;
    if (req.headers['authorization'] !== expected) return text(401, ''), true;
    const rest = url.pathname.slice(REST.length);
    if (rest === 'search' && req.method === 'GET') {
      if (url.searchParams.get('repository') !== repository) return helpers.sendJson(req, res, 200, { items: [], continuationToken: null }), true;
      const name = url.searchParams.get('name') ?? '';
      const version = url.searchParams.get('version');
      const token = url.searchParams.get('continuationToken');
      const after = token === null ? '' : Buffer.from(token, 'hex').toString('utf8');
      const matching = components(store).filter((c) => c.image.startsWith(name) && (version === null || c.tag === version) && c.id > after);
      const page = matching.slice(0, pageSize);
      const last = page.at(-1);
      helpers.sendJson(req, res, 200, { items: page.map((c) => c.json), continuationToken: matching.length > page.length && last !== undefined ? Buffer.from(last.id).toString('hex') : null });
      return true;
    }
    const match = /^components\/([^/]+)$/.exec(rest);
    if (match === null) return text(404, ''), true;
    const id = decodeURIComponent(match[1] ?? '');
    const found = components(store).find((c) => c.id === id);
    if (found === undefined) return text(404, 'Component not found'), true;
    if (req.method === 'GET') return helpers.sendJson(req, res, 200, found.json), true;
    if (req.method !== 'DELETE') return text(405, ''), true;
    if (options.deleteAnswers404 === true) return text(404, 'Component not found'), true;
    store.untag(found.image, found.tag); // the tag's manifest asset goes; the manifest stays for other tags
    deleted.push(id);
    helpers.sendEmpty(res, 204);
    return true;
  };

  const registry = await startMemoryRegistry({ routes });
  return { registry, host: registry.host, store: registry.store, api: `${registry.url}/repository/${repository}`, repository, deleted, stop: () => registry.stop() };
}
