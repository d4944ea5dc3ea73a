/**
 * Quay (`quay.io`, `quay.*.com`; reference §3.7, werf-behaviour §2.8). Reads, pushes and manifest deletes go
 * through the Registry API (DELETE by digest removes every tag on it). With a Quay OAuth application token
 * (REGPLAN_REPO_QUAY_TOKEN, or `registries.<host>.credentials.token`) the Quay API v1 adds what the Registry API
 * lacks: `GET /repository/<ns>/<repo>/tag/?onlyActiveTags=true` lists tags with digests and push times
 * (`start_ts`) a page of 100 per request, and `DELETE .../tag/<tag>` untags (the tag stays restorable for the
 * namespace's time-machine window). Without a token, regplan lists through the Registry API (tags/list plus a
 * HEAD per tag; push times then come from image configs) and untags with `DELETE /v2/<name>/manifests/<tag>`,
 * which Quay also answers by removing just that tag. The API base is `registries.<host>.api` (a bare origin gets
 * `/api/v1`), else `https://<host>/api/v1` (http for loopback or `insecure`). A repo the Quay API cannot list
 * (404) is an error naming the URL, never an empty repository; a 404 on a tag DELETE is "already gone" only when
 * a lookup of that tag agrees. Quirk: Quay answers a dead (deleted or expired) tag with `TAG_EXPIRED`, which
 * counts as a missing tag.
 * Discovery (`listRepositories`, token required): `GET /repository?namespace=<ns>` following the opaque `next_page`
 * token (reference §3.7), names `<ns>/<name>`. Quay lists nothing for an unknown namespace, so an empty listing is
 * checked with `GET /organization/<ns>` and `GET /users/<ns>`: 404 on both is an error naming the namespace.
 */
import { isValidTag } from '../model/names.ts';
import pLimit from 'p-limit';
import { isNotFound, isRegistryError, RegplanError } from '../errors.ts';
import { parseTime } from '../model/time.ts';
import type { RetryOptions } from '../registry/http.ts';
import { createUntaggingRegistryApiDriver } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, RepositoryLister, Untagger } from './driver.ts';
import { bodyTokenNext, confirmGone, NativeApi, nativeApiBase, pageNumberNext, tagSegment } from './native-api.ts';
import { namespaceNotFound, namespaceRequired, namesWithPrefix, prefixOwner } from './repository-prefix.ts';
import type { TagRecord } from '../model/inventory.ts';

const TOKEN_ENV = 'REGPLAN_REPO_QUAY_TOKEN';
/** Tags per Quay API page (the API's maximum). */
const PAGE_LIMIT = 100;
/** HEADs in flight while listing without a token. */
const RESOLVE_CONCURRENCY = 4;

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath:
    'Quay API: tags with digests and times from /api/v1/repository/<ns>/<repo>/tag/, DELETE .../tag/<tag> (untag); ' +
    'or the Registry API (DELETE by tag untags, by digest removes every tag on it)',
  untag: true,
  listUntagged: false,
  repositoryListing: 'Quay API: GET /repository?namespace=<ns> (a namespace and REGPLAN_REPO_QUAY_TOKEN are required)',
  nativeCredentials: [
    { description: 'Quay OAuth application token with repo:read and repo:write (optional: without it the Registry API lists and deletes with the Docker login)', flag: '--repo-quay-token', env: TOKEN_ENV, configKey: 'token', optional: true },
  ],
  notes: 'TAG_EXPIRED counts as a missing tag; immutable tags are refused; deleted tags stay restorable for the time-machine window',
};

/** Tuning for tests: retries of the HTTP transport. */
export interface QuayDriverOptions {
  retry?: RetryOptions;
}

interface QuayTag {
  name?: string;
  manifest_digest?: string;
  start_ts?: number;
  /** Set on live tags with an expiration too, so it is no filter: `onlyActiveTags=true` leaves out dead tags. */
  end_ts?: number;
}

interface QuayTagPage {
  tags?: QuayTag[];
  page?: number;
  has_additional?: boolean;
}

/**
 * Where the Quay API lives: `registries.<host>.api` (a bare origin gets `/api/v1`), else `<host>/api/v1` over
 * https (http for a loopback or `insecure` registry).
 */
export function quayApiBase(context: Pick<DriverContext, 'host' | 'registry'>): string {
  return nativeApiBase({ host: context.host, configured: context.registry?.api, insecure: context.registry?.insecure, path: '/api/v1' });
}

/** True when Quay says the tag is not there: 404, MANIFEST_UNKNOWN, or its TAG_EXPIRED for a dead tag. */
export const isQuayTagMissing = (error: unknown): boolean => isNotFound(error) || (isRegistryError(error) && error.errors.some((e) => e.code === 'TAG_EXPIRED'));

/** Builds the Quay driver for one host (the factory's create, with tuning for tests). */
export function createQuayDriver(context: DriverContext, options: QuayDriverOptions = {}): Driver & DetailedLister & Untagger & ManifestReader & ContentPusher & RepositoryLister {
  const base = createUntaggingRegistryApiDriver(context, { type: 'quay', capabilities });
  let api: Promise<NativeApi | undefined> | undefined;

  /** The Quay API client when a token is configured; undefined means the Registry API does the work. */
  const quayApi = (): Promise<NativeApi | undefined> =>
    (api ??= context.nativeSecret(TOKEN_ENV).then((raw) => {
      const token = raw?.trim();
      if (!token) {
        context.debug?.(`quay: ${TOKEN_ENV} not set; listing and untagging through the Registry API`);
        return undefined;
      }
      const client = new NativeApi({
        base: quayApiBase(context),
        title: 'Quay API',
        authorization: async () => `Bearer ${token}`,
        authHint: `${TOKEN_ENV} must be an OAuth application token with the repo:read and repo:write scopes (Organization > Applications > Generate Token), or unset it to clean up through the Registry API`,
        insecure: context.registry?.insecure ?? false,
        ...(context.debug === undefined ? {} : { debug: context.debug }),
        ...(options.retry === undefined ? {} : { retry: options.retry }),
      });
      client.addSecret(token);
      return client;
    }));

  /** `repository/<ns>/<repo...>`, each segment encoded (Quay repositories may nest: `ns/charts/web`). */
  const repositoryPath = (name: string): string => `repository/${name.split('/').map(encodeURIComponent).join('/')}`;

  /** Active tags through the Quay API, `page` after `page` while `has_additional`; a repo it cannot list is an error. */
  async function apiTagRecords(client: NativeApi, name: string): Promise<TagRecord[]> {
    const tags = await client.listAll<QuayTagPage, QuayTag>(`${repositoryPath(name)}/tag/`, {
      items: (data) => data.tags,
      next: pageNumberNext<QuayTagPage>('page', (data) => data.has_additional === true),
      subject: `${context.host}/${name}`,
      query: { onlyActiveTags: 'true', limit: PAGE_LIMIT, page: 1 },
      notFoundHint: `check the repository name and registries."${context.host}".api (the Quay API base, e.g. https://${context.host}/api/v1)`,
    });
    const records = new Map<string, TagRecord>();
    tags.forEach((tag) => {
      if (typeof tag.name !== 'string' || typeof tag.manifest_digest !== 'string') return;
      if (records.has(tag.name)) return; // a page shift between requests can repeat a tag
      const pushedAt = typeof tag.start_ts === 'number' ? parseTime({ epochSeconds: tag.start_ts }) : undefined;
      records.set(tag.name, { tag: tag.name, digest: tag.manifest_digest, ...(pushedAt === undefined ? {} : { pushedAt }) });
    });
    return [...records.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  /** Without a token: tags/list, then a HEAD per tag (a few at a time); tags gone or dead meanwhile are dropped. */
  async function registryTagRecords(name: string): Promise<TagRecord[]> {
    const limit = pLimit(RESOLVE_CONCURRENCY);
    const records = await Promise.all(
      // A name outside the tag grammar is never resolved (it would address another resource).
      (await base.listTags(name)).filter(isValidTag).map((tag) =>
        limit(async (): Promise<TagRecord | undefined> => {
          const descriptor = await resolveTag(name, tag);
          return descriptor === undefined ? undefined : { tag, digest: descriptor.digest, mediaType: descriptor.mediaType };
        }),
      ),
    );
    return records.filter((r): r is TagRecord => r !== undefined);
  }

  /**
   * Untags through the Quay API. A 404 (Quay's answer for a dead or missing tag) is "already gone" only when a
   * lookup of that one tag (`GET .../tag/?specificTag=<tag>&onlyActiveTags=true`, reference §3.7) lists nothing.
   */
  async function apiUntag(client: NativeApi, name: string, tag: string): Promise<void> {
    const subject = `${context.host}/${name}:${tag}`;
    const answer = await client.request('DELETE', `${repositoryPath(name)}/tag/${tagSegment(tag, `untag of "${subject}"`)}`, { expect: [200, 202, 204, 404], subject });
    if (answer.status !== 404) return;
    await confirmGone({
      stillThere: async () => {
        const found = await client.request<QuayTagPage>('GET', `${repositoryPath(name)}/tag/`, { query: { onlyActiveTags: 'true', specificTag: tag }, subject });
        return (found.data?.tags ?? []).some((t) => t.name === tag);
      },
      refused: () =>
        new RegplanError(`Quay answered 404 to DELETE "${subject}", yet the tag is still there`, {
          hint: `Quay did not remove it; ${TOKEN_ENV} needs the repo:write scope on the repository`,
          context: { registry: context.host, repo: name, ref: tag },
        }),
    });
  }

  /** The repositories of the prefix's namespace through the Quay API (file header); a token is required. */
  async function listRepositories(prefix: string): Promise<string[]> {
    const namespace = prefixOwner(prefix);
    if (namespace === '') throw namespaceRequired(context.host, 'namespace (organization or user)', `${context.host}/acme/*`);
    const client = await quayApi();
    if (client === undefined) {
      throw new RegplanError(`cannot list the repositories of "${context.host}/${namespace}/": listing repositories needs the Quay API, and ${TOKEN_ENV} is not set`, {
        hint: `set ${TOKEN_ENV} (or registries."${context.host}".credentials.token) to an OAuth application token with repo:read, or list the repos in the config one by one`,
        context: { registry: context.host, flag: '--repo-quay-token' },
      });
    }
    const repositories = await client.listAll<{ repositories?: { name?: unknown }[]; next_page?: string }, { name?: unknown }>('repository', {
      items: (data) => data.repositories,
      next: bodyTokenNext('next_page'),
      subject: `${context.host}/${namespace}/`,
      query: { namespace },
    });
    const names = repositories.map((r) => r.name).filter((n): n is string => typeof n === 'string').map((n) => `${namespace}/${n}`);
    if (names.length === 0) await requireNamespace(client, namespace);
    return namesWithPrefix(names, prefix);
  }

  /** Resolves when `namespace` is a Quay organization or user; 404 on both is an error naming it. */
  async function requireNamespace(client: NativeApi, namespace: string): Promise<void> {
    const tried: string[] = [];
    for (const path of [`organization/${encodeURIComponent(namespace)}`, `users/${encodeURIComponent(namespace)}`]) {
      const found = await client.request('GET', path, { expect: [200, 404], subject: `${context.host}/${namespace}/` });
      if (found.status === 200) return;
      tried.push(client.url(path).href);
    }
    throw namespaceNotFound({
      host: context.host, namespace, what: 'Quay namespace', tried, apiHost: client.base.host,
      hint: `check the namespace in the pattern (an organization or user on ${context.host})`,
    });
  }

  async function resolveTag(name: string, tag: string) {
    try {
      return await base.resolveTag(name, tag);
    } catch (error) {
      if (isQuayTagMissing(error)) return undefined;
      throw error;
    }
  }

  return {
    ...base,
    capabilities,
    resolveTag,
    listRepositories,
    async listTagRecords(name) {
      const client = await quayApi();
      return client === undefined ? registryTagRecords(name) : apiTagRecords(client, name);
    },
    async untag(name, tag) {
      const client = await quayApi();
      if (client !== undefined) return apiUntag(client, name, tag);
      try {
        await base.untag(name, tag);
      } catch (error) {
        if (isQuayTagMissing(error)) return; // already gone (or expired) counts as done (design §6)
        throw error;
      }
    },
  };
}

/** The Quay registry type. */
export const quayDriver = {
  type: 'quay',
  title: 'Quay',
  status: 'ready',
  capabilities,
  create: (context) => createQuayDriver(context),
} satisfies DriverFactory;
