/**
 * JFrog Artifactory (`*.jfrog.io`, or set explicitly; reference §3.9). Reads and pushes go through the Registry API;
 * cleanup through Artifactory's REST API, where each tag of a Docker image is its own folder
 * `<repo-key>/<image>/<tag>/` (holding `manifest.json`, or `list.manifest.json` for a multi-arch tag):
 * - which repository (JFrog "Docker Repository URL Formats"): with the repository path method (`<host>/<repo-key>/
 *   <image>`, the default) the first path segment of a repo's name is the repo key. With the subdomain
 *   (`<repo-key>.<instance>`), port or repo-key method the host serves one repository: set `registries.<host>.api`
 *   to `https://<instance>/artifactory/api/docker/<repo-key>`, and the whole name is the image path.
 * - REST base: the part of such an `api` before `/api/docker/`, else `registries.<host>.api` (a bare origin gets
 *   `/artifactory`), else `https://<host>/artifactory` (http for loopback or `insecure`).
 * - listing: tags from tags/list (Link pages, `n`/`last`), each tag's digest from a HEAD (a few at a time), push
 *   times from one Storage API file list of the image folder (`GET /api/storage/<repo-key>/<image>?list&deep=1`,
 *   the `lastModified` of `<tag>/manifest.json`; the time the tag's folder was last written, parsed here and judged
 *   by inventory). A listing the Storage API does not know (404) is an error naming the URL, never an empty repo.
 * - untag: `DELETE /artifactory/<repo-key>/<image>/<tag>` removes just that tag's folder; other tags of the same
 *   manifest keep theirs, and layers no tag uses any more are cleaned by Artifactory (JFrog "Deletion and cleanup
 *   of Docker tags and repositories"). A 404 is "already gone" only when a HEAD of the tag agrees.
 * - delete: a manifest is gone once no tag folder holds it, so deleting one removes the folders of the tags the last
 *   listing showed on it (apply re-lists right before deleting and has checked each is planned), each re-resolved
 *   first: a listed tag moved to another manifest since is left alone, and when none is left to remove, the tag
 *   apply just found on the digest is one the listing did not show (pushed since): a StalePlanError, nothing removed.
 * Credentials (reference §3.9): REGPLAN_REPO_ARTIFACTORY_TOKEN (an access token, `Authorization: Bearer`), else
 * REGPLAN_REPO_ARTIFACTORY_API_KEY (a legacy API key, `X-JFrog-Art-Api`), else the Docker login for the host as Basic
 * (Artifactory takes the same user and password or identity token on both APIs).
 */
import pLimit from 'p-limit';
import { RegplanError, StalePlanError } from '../errors.ts';
import type { TagRecord } from '../model/inventory.ts';
import { isValidTag } from '../model/names.ts';
import { parseTime } from '../model/time.ts';
import { createUntaggingRegistryApiDriver } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, Untagger } from './driver.ts';
import { basicAuthorization, confirmGone, NativeApi, nativeApiBase, SingleFlight, tagSegment } from './native-api.ts';

const TOKEN_ENV = 'REGPLAN_REPO_ARTIFACTORY_TOKEN';
const API_KEY_ENV = 'REGPLAN_REPO_ARTIFACTORY_API_KEY';
/** HEADs in flight while listing. */
const RESOLVE_CONCURRENCY = 4;
/** `…/artifactory/api/docker/<repo-key>`: an `api` naming the one repository the host serves. */
const DOCKER_API = /^(.*)\/api\/docker\/([^/]+)\/?$/;

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath:
    'Artifactory REST: DELETE /artifactory/<repo-key>/<image>/<tag> removes that tag\'s folder (the manifest stays for its other tags, ' +
    'and goes with its last tag); push times from GET /api/storage/<repo-key>/<image>?list&deep=1',
  untag: true,
  listUntagged: false,
  nativeCredentials: [
    { description: 'Artifactory access token, sent as Bearer (else the API key, else the Docker login as Basic)', flag: '--repo-artifactory-token', env: TOKEN_ENV, configKey: 'token', optional: true },
    { description: 'Artifactory API key, sent as X-JFrog-Art-Api (legacy)', flag: '--repo-artifactory-api-key', env: API_KEY_ENV, optional: true },
  ],
  notes:
    'repository path method: the first path segment is the repo key; subdomain, port or repo-key method: set registries.<host>.api to ' +
    'https://<instance>/artifactory/api/docker/<repo-key>; the Storage API needs a non-anonymous user; its challenge is Basic realm="Artifactory Realm"',
};

/** Where a repo lives in Artifactory. */
export interface ArtifactoryLocation {
  key: string;
  image: string;
}

/** The REST base and, for a host serving one repository, its repo key (file header). */
export function artifactoryApi(context: Pick<DriverContext, 'host' | 'registry'>): { base: string; repoKey?: string } {
  const configured = context.registry?.api;
  const docker = configured === undefined ? null : DOCKER_API.exec(new URL(configured).pathname);
  if (configured !== undefined && docker !== null) {
    const url = new URL(configured);
    return { base: `${url.origin}${docker[1] ?? ''}`, repoKey: decodeURIComponent(docker[2] ?? '') };
  }
  return { base: nativeApiBase({ host: context.host, configured, insecure: context.registry?.insecure, path: '/artifactory' }) };
}

/** Builds the Artifactory driver for one host. */
export function createArtifactoryDriver(context: DriverContext): Driver & DetailedLister & Untagger & ManifestReader & ContentPusher {
  const base = createUntaggingRegistryApiDriver(context, { type: 'artifactory', capabilities });
  const { base: restBase, repoKey } = artifactoryApi(context);
  let client: Promise<NativeApi> | undefined;
  /** The REST client, built once the credentials are read (the API key goes in a header of its own). */
  const restApi = (): Promise<NativeApi> =>
    (client ??= artifactoryCredentials(context).then((credentials) => {
      const api = new NativeApi({
        base: restBase,
        title: 'Artifactory API',
        ...(credentials.headers === undefined ? {} : { headers: credentials.headers }),
        authorization: async () => credentials.authorization,
        authHint: `set ${TOKEN_ENV} to an access token (or ${API_KEY_ENV}, or "docker login ${context.host}") of a user with read and delete permission on the repository; the Storage API refuses anonymous users`,
        insecure: context.registry?.insecure ?? false,
        ...(context.debug === undefined ? {} : { debug: context.debug }),
      });
      for (const secret of credentials.secrets) api.addSecret(secret);
      return api;
    }));
  /** Digest -> tags of each repo's last listing (apply's re-check right before deleting): what deleteManifest removes. */
  const listed = new Map<string, Map<string, string[]>>();
  const deletes = new SingleFlight<void>();

  /** The repo key and image path of a repo name (file header); a name without an image under the key is an error. */
  function locate(name: string): ArtifactoryLocation {
    if (repoKey !== undefined) return { key: repoKey, image: name };
    const [key = '', ...image] = name.split('/');
    if (image.length === 0) {
      throw new RegplanError(`cannot clean up "${context.host}/${name}" through the Artifactory API: with the repository path method the name must be <repo-key>/<image>`, {
        hint: `write the repo as ${context.host}/<repo-key>/${name}, or for the subdomain, port or repo-key method set registries."${context.host}".api to https://<instance>/artifactory/api/docker/<repo-key>`,
        context: { registry: context.host, repo: name },
      });
    }
    return { key, image: image.join('/') };
  }

  const folder = (at: ArtifactoryLocation): string => [at.key, ...at.image.split('/')].map(encodeURIComponent).join('/');

  /** Tag -> when its folder's manifest was last written, from one Storage API file list of the image folder. */
  async function pushTimes(name: string): Promise<Map<string, string>> {
    const at = locate(name);
    const subject = `${context.host}/${name}`;
    const api = await restApi();
    const answer = await api.request<{ files?: { uri?: unknown; lastModified?: unknown }[] }>('GET', `api/storage/${folder(at)}`, {
      query: { list: '', deep: 1 },
      expect: [200, 404],
      subject,
    });
    if (answer.status === 404) {
      throw new RegplanError(`the Artifactory API has no folder for "${subject}" (GET ${api.url(`api/storage/${folder(at)}`).href} answered 404), though the registry lists its tags`, {
        hint: `check the access method: repo key "${at.key}" and image "${at.image}" were assumed; for the subdomain, port or repo-key method set registries."${context.host}".api to https://<instance>/artifactory/api/docker/<repo-key>`,
        context: { registry: context.host, repo: name },
      });
    }
    const times = new Map<string, string>();
    for (const file of answer.data?.files ?? []) {
      const match = typeof file.uri === 'string' ? /^\/([^/]+)\/(?:list\.)?manifest\.json$/.exec(file.uri) : null;
      const time = parseTime(file.lastModified);
      if (match?.[1] !== undefined && time !== undefined) times.set(match[1], time);
    }
    return times;
  }

  async function listTagRecords(name: string): Promise<TagRecord[]> {
    const tags = (await base.listTags(name)).filter(isValidTag); // a name outside the grammar is never resolved
    if (tags.length === 0) {
      listed.set(name, new Map());
      return [];
    }
    const limit = pLimit(RESOLVE_CONCURRENCY);
    const [times, resolved] = await Promise.all([
      pushTimes(name),
      Promise.all(tags.map((tag) => limit(async () => ({ tag, descriptor: await base.resolveTag(name, tag) })))),
    ]);
    const records = resolved.flatMap(({ tag, descriptor }): TagRecord[] => {
      if (descriptor === undefined) return []; // deleted since tags/list
      const pushedAt = times.get(tag);
      return [{ tag, digest: descriptor.digest, mediaType: descriptor.mediaType, ...(pushedAt === undefined ? {} : { pushedAt }) }];
    });
    const byDigest = new Map<string, string[]>();
    for (const record of records) byDigest.set(record.digest, [...(byDigest.get(record.digest) ?? []), record.tag]);
    listed.set(name, byDigest);
    return records.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  /** Removes a tag's folder; a 404 is "already gone" only when a HEAD of the tag finds nothing (design §6). */
  async function untag(name: string, tag: string): Promise<void> {
    const at = locate(name);
    const subject = `${context.host}/${name}:${tag}`;
    const path = `${folder(at)}/${tagSegment(tag, `untag of "${subject}"`)}`;
    const answer = await (await restApi()).request('DELETE', path, { expect: [200, 202, 204, 404], subject });
    if (answer.status !== 404) return;
    await confirmGone({
      stillThere: async () => (await base.resolveTag(name, tag)) !== undefined,
      refused: () =>
        new RegplanError(`Artifactory answered 404 to DELETE "${subject}", yet the tag is still there`, {
          hint: `check the access method (repo key "${at.key}", image "${at.image}") and that the user may delete in the repository`,
          context: { registry: context.host, repo: name, ref: tag },
        }),
    });
  }

  /** File header: remove the folders of the tags the last listing showed on the digest, each re-resolved first. */
  async function deleteManifest(name: string, digest: string): Promise<void> {
    if (!listed.has(name)) await listTagRecords(name);
    let removed = 0;
    for (const tag of listed.get(name)?.get(digest) ?? []) {
      if ((await base.resolveTag(name, tag))?.digest !== digest) continue; // moved to another manifest (or gone) since
      await untag(name, tag);
      removed++;
    }
    if (removed > 0) return;
    // apply found a tag on the digest just now, yet none the listing showed is there: a tag pushed since holds it
    throw new StalePlanError(`manifest ${digest} in "${context.host}/${name}" is held by a tag the listing did not show; left alone`, {
      hint: 'a tag was pushed onto it since the listing; run regplan plan again',
      context: { registry: context.host, repo: name, ref: digest },
    });
  }

  return {
    ...base,
    capabilities,
    listTagRecords,
    untag,
    deleteManifest: (name, digest) => deletes.run(`${name}@${digest}`, () => deleteManifest(name, digest)),
  };
}

/**
 * The REST credentials (file header): an access token as Bearer, else an API key in `X-JFrog-Art-Api`, else the
 * Docker login as Basic; nothing (anonymous) when there is none. `secrets` are masked in every message.
 */
async function artifactoryCredentials(context: DriverContext): Promise<{ authorization?: string; headers?: Record<string, string>; secrets: string[] }> {
  const token = (await context.nativeSecret(TOKEN_ENV))?.trim();
  if (token) return { authorization: `Bearer ${token}`, secrets: [token] };
  const key = (await context.nativeSecret(API_KEY_ENV))?.trim();
  if (key) return { headers: { 'x-jfrog-art-api': key }, secrets: [key] };
  const docker = await context.credentials();
  if (docker?.username && docker.password) return { authorization: basicAuthorization(docker.username, docker.password), secrets: [docker.password] };
  return { secrets: [] };
}

/** The Artifactory registry type. */
export const artifactoryDriver = {
  type: 'artifactory',
  title: 'JFrog Artifactory',
  status: 'ready',
  capabilities,
  create: createArtifactoryDriver,
} satisfies DriverFactory;
