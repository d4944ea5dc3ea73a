/**
 * JFrog Artifactory emulator (reference §3.9) on top of the memory registry: one Artifactory instance whose Docker
 * registry and REST API share a host. Quirks, each from its source:
 * - Access methods (JFrog "Docker Repository URL Formats"): with the repository path method (default) the first
 *   path segment of a Registry API name is the repo key (`/v2/<repo-key>/<image>/…`; the store holds
 *   `<repo-key>/<image>`); with `repoKey` set the host serves that one repository (the subdomain or port method,
 *   `/v2/<image>/…`; the store holds `<image>`), and the REST API still names it `/artifactory/<repo-key>/…`.
 * - tags/list pages with `n`/`last` and a Link (JFrog "List Docker Images": "Artifactory also supports pagination";
 *   reference §3.9, since 5.4.6), `pageSize` tags a page.
 * - Each tag is its own folder `<repo-key>/<image>/<tag>/` holding `manifest.json` (`list.manifest.json` for a
 *   multi-arch tag) and the layers (JFrog RTFACT-20795). `DELETE /artifactory/<repo-key>/<image>/<tag>` removes
 *   that folder: the tag goes, other tags of the same manifest keep their own folders, and a manifest no folder
 *   holds any more is gone with its orphan layers (JFrog "Deletion and cleanup of Docker tags and repositories").
 *   204; a missing path answers 404 (JFrog "Delete Item").
 * - Storage API file list `GET /artifactory/api/storage/<repo-key>/<folder>?list&deep=1` (JFrog "File List") →
 *   `{uri, created, files: [{uri: "/<tag>/manifest.json", size: "<string>", lastModified, folder: false, sha1}]}`,
 *   times ISO 8601 with the server's offset (`+02:00` here, as a server outside UTC answers); it "requires a
 *   non-anonymous privileged user" (401 without credentials); an unknown folder answers 404.
 * - REST credentials (reference §3.9): Basic user:password, `Authorization: Bearer <access token>`, or the legacy
 *   `X-JFrog-Art-Api: <api key>`; a wrong one answers 401 `{"errors":[{"status":401,"message":"Bad credentials"}]}`.
 *   Errors carry a numeric `status`, not a `code` string.
 * Test hook: `beforeTagDelete` runs before a REST tag delete is answered (another writer acting mid-apply).
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type MemoryAuth, type MemoryRegistry, type RegistryStore, type RouteHelpers, startMemoryRegistry } from './memory-registry.ts';

/** How the emulator behaves. */
export interface ArtifactoryEmulatorOptions {
  /** Accepted REST credentials; the Registry API takes `registryAuth`. */
  users?: Record<string, string>;
  accessTokens?: readonly string[];
  apiKeys?: readonly string[];
  /** Auth of the Registry API (/v2), default none. */
  registryAuth?: MemoryAuth;
  /** Serve one repository per host (subdomain / port method): this repo key, and names without it. */
  repoKey?: string;
  /** Tags per tags/list page (default: everything at once). */
  pageSize?: number;
  clock?: () => Date;
  beforeTagDelete?: (info: { repo: string; tag: string; store: RegistryStore }) => void;
}

/** A running emulator. */
export interface ArtifactoryEmulator {
  registry: MemoryRegistry;
  host: string;
  store: RegistryStore;
  /** `http://127.0.0.1:PORT/artifactory` */
  base: string;
  stop(): Promise<void>;
}

const OFFSET_MS = 2 * 3_600_000;

/** An ISO 8601 time with a +02:00 offset, as Artifactory renders times in its server's zone. */
export function artifactoryTime(date: Date): string {
  return `${new Date(date.getTime() + OFFSET_MS).toISOString().replace('Z', '')}+02:00`;
}

/** Starts the emulator on a free loopback port; always stop it. */
export async function startArtifactoryEmulator(options: ArtifactoryEmulatorOptions = {}): Promise<ArtifactoryEmulator> {
  /** The store repository of a repo key and an image path, or undefined when this host does not serve the key. */
  const storeRepo = (key: string, image: string): string | undefined => {
    if (options.repoKey !== undefined) return key === options.repoKey ? image : undefined;
    return `${key}/${image}`;
  };

  const fail = (req: IncomingMessage, res: ServerResponse, helpers: RouteHelpers, status: number, message: string) =>
    helpers.sendJson(req, res, status, { errors: [{ status, message }] });

  const authenticated = (req: IncomingMessage): 'ok' | 'anonymous' | 'bad' => {
    const key = req.headers['x-jfrog-art-api'];
    if (typeof key === 'string') return (options.apiKeys ?? []).includes(key) ? 'ok' : 'bad';
    const header = req.headers.authorization;
    if (header === undefined) return 'anonymous';
    const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (bearer !== undefined) return (options.accessTokens ?? []).includes(bearer) ? 'ok' : 'bad';
    const basic = /^Basic\s+(\S+)$/i.exec(header)?.[1];
    if (basic === undefined) return 'bad';
    const [user = '', ...rest] = Buffer.from(basic, 'base64').toString('utf8').split(':');
    return options.users?.[user] !== undefined && options.users[user] === rest.join(':') ? 'ok' : 'bad';
  };

  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL, store: RegistryStore, helpers: RouteHelpers): Promise<boolean> => {
    if (!url.pathname.startsWith('/artifactory/')) return false;
    const who = authenticated(req);
    if (who === 'bad') return fail(req, res, helpers, 401, 'Bad credentials'), true;

    const storage = /^\/artifactory\/api\/storage\/([^/]+)\/(.+?)\/?$/.exec(url.pathname);
    if (storage !== null && req.method === 'GET') {
      if (who === 'anonymous') return fail(req, res, helpers, 401, 'Unauthorized'), true;
      const [, key = '', folder = ''] = storage;
      const repo = storeRepo(key, decodeURIComponent(folder));
      if (repo === undefined || store.tags(repo).length === 0) return fail(req, res, helpers, 404, 'Unable to find item'), true;
      if (!url.searchParams.has('list')) return fail(req, res, helpers, 400, 'only the file list (?list) is emulated'), true;
      const files = store.tags(repo).flatMap(({ tag, digest, pushedAt }) => {
        const manifest = store.manifest(repo, digest);
        const file = (manifest?.children.length ?? 0) > 0 ? 'list.manifest.json' : 'manifest.json';
        const bytes = manifest?.bytes ?? new Uint8Array();
        return [
          { uri: `/${tag}/${file}`, size: String(bytes.byteLength), lastModified: artifactoryTime(pushedAt), folder: false, sha1: createHash('sha1').update(bytes).digest('hex') },
          ...(manifest?.blobs ?? []).map((blob) => ({ uri: `/${tag}/${blob.replace(':', '__')}`, size: String(store.blob(blob)?.byteLength ?? 0), lastModified: artifactoryTime(pushedAt), folder: false, sha1: '' })),
        ];
      });
      helpers.sendJson(req, res, 200, { uri: `${helpers.url}${url.pathname}`, created: artifactoryTime(new Date(0)), files });
      return true;
    }

    const item = /^\/artifactory\/([^/]+)\/(.+)\/([^/]+)$/.exec(url.pathname);
    if (item !== null && req.method === 'DELETE' && !url.pathname.startsWith('/artifactory/api/')) {
      if (who === 'anonymous') return fail(req, res, helpers, 401, 'Unauthorized'), true;
      let key: string;
      let image: string;
      let tag: string;
      try {
        [key, image, tag] = [decodeURIComponent(item[1] ?? ''), decodeURIComponent(item[2] ?? ''), decodeURIComponent(item[3] ?? '')];
      } catch {
        return fail(req, res, helpers, 400, 'Malformed path'), true;
      }
      const repo = storeRepo(key, image);
      if (repo === undefined) return fail(req, res, helpers, 404, `Could not locate artifact '${key}:${image}/${tag}'`), true;
      options.beforeTagDelete?.({ repo, tag, store });
      const digest = store.resolve(repo, tag)?.digest;
      if (digest === undefined || !store.untag(repo, tag)) return fail(req, res, helpers, 404, `Could not locate artifact '${key}:${image}/${tag}'`), true;
      if (store.tagsOf(repo, digest).length === 0) store.deleteManifest(repo, digest); // no folder holds it any more
      helpers.sendEmpty(res, 204);
      return true;
    }
    return fail(req, res, helpers, 404, 'Not Found'), true;
  };

  const registry = await startMemoryRegistry({
    routes,
    digestDelete: 'delete',
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    ...(options.registryAuth === undefined ? {} : { auth: options.registryAuth }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return { registry, host: registry.host, store: registry.store, base: `${registry.url}/artifactory`, stop: () => registry.stop() };
}
