/**
 * Yandex Container Registry (`cr.yandex`, reference §3.11). Reads and pushes go through the Registry API (Docker
 * login); cleanup goes through the Yandex Cloud images API, which lists every image (manifest) of a repository with
 * its id, digest, tags and `createdAt`, tagged and untagged alike, and deletes an image by id — with every tag on it:
 * the API has no untag call. A repo `cr.yandex/<registry-id>/<image>` is the API's repository `<registry-id>/<image>`.
 *
 * Auth: an IAM token as `Authorization: Bearer`, from the sources yandex-iam.ts reads (the IAM token flag, an OAuth
 * token or a service account key exchanged for one, or Yandex's Docker logins `iam`/`oauth`/`json_key`). The API base is `registries.<host>.api`
 * (`/container-registry/v1` added to a bare origin), else `https://container-registry.api.cloud.yandex.net`.
 * Quirks, as data: JSON in the proto3 mapping — int64 as strings (`compressedSize`), fields at their default left
 * out (no `images` on an empty page, no `tags` on an untagged image, no `nextPageToken` on the last page, no
 * `done` while an operation runs); paging by `nextPageToken` sent back as `pageToken`; DELETE answers an
 * Operation, polled at `GET <operation>/operations/{id}` until `done`: the delete counts only when the operation
 * ends without `error`.
 */
import { AuthError, CredentialsError, isRegistryError, RegistryError, RegplanError } from '../errors.ts';
import type { TagRecord } from '../model/inventory.ts';
import { parseTime } from '../model/time.ts';
import type { RetryOptions } from '../registry/http.ts';
import { createRegistryApiDriver } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, UntaggedLister } from './driver.ts';
import { awaitOperation, OperationTimeout, type PollOptions } from './long-running-operation.ts';
import { bodyTokenNext, confirmGone, NativeApi, nativeApiBase, SingleFlight } from './native-api.ts';
import { YANDEX_ENV, YANDEX_IAM_URL, yandexIamToken } from './yandex-iam.ts';

/** Where Yandex Cloud serves its APIs unless configured otherwise. */
export const YANDEX_ENDPOINTS = {
  containerRegistry: 'https://container-registry.api.cloud.yandex.net/container-registry/v1',
  operation: 'https://operation.api.cloud.yandex.net',
  iam: YANDEX_IAM_URL,
} as const;

const ENV = YANDEX_ENV;

/** Images asked for per page (the API's maximum, reference §3.11). */
const PAGE_SIZE = 1000;

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'Yandex images API: GET /container-registry/v1/images?repositoryName= (digests, tags, createdAt), DELETE /container-registry/v1/images/<id> (an Operation, polled until done)',
  untag: false,
  listUntagged: true,
  nativeCredentials: [
    { description: 'Yandex Cloud IAM token (else the OAuth token, the service account key, or the Docker login as iam/oauth/json_key)', flag: '--repo-yandex-iam-token', env: ENV.iamToken, configKey: 'token', optional: true },
    { description: 'Yandex OAuth token, exchanged for an IAM token', flag: '--repo-yandex-oauth-token', env: ENV.oauthToken, optional: true },
    { description: 'Yandex service account authorized key (the key file\'s JSON), exchanged for an IAM token', flag: '--repo-yandex-private-key', env: ENV.serviceAccountKey, optional: true },
    { description: `Operation API endpoint (default ${YANDEX_ENDPOINTS.operation})`, flag: '--repo-yandex-operation-url', env: ENV.operationUrl, optional: true },
    { description: `IAM API endpoint for token exchanges (default ${YANDEX_ENDPOINTS.iam})`, flag: '--repo-yandex-iam-url', env: ENV.iamUrl, optional: true },
  ],
  notes:
    'a delete removes the image (digest) with all its tags (the images API has no untag), so a tag sharing its manifest with a kept tag is skipped; ' +
    'each delete is an Operation regplan polls until done',
};

/** Tuning for tests: retries of the HTTP transport and the operation polling. */
export interface YandexDriverOptions {
  retry?: RetryOptions;
  poll?: PollOptions;
}

/** An image as the images API lists it (proto3 JSON: empty fields absent, int64 as strings). */
interface YandexImage {
  id: string;
  name?: string;
  digest: string;
  compressedSize?: string;
  tags?: string[];
  createdAt?: string;
}

interface ImagePage {
  images?: YandexImage[];
  nextPageToken?: string;
}

/** A Yandex Cloud Operation (`done` absent while it runs; `error` is a google.rpc.Status). */
interface Operation {
  id: string;
  done?: boolean;
  error?: { code?: number; message?: string };
  response?: unknown;
}

/** gRPC status codes the operation's error may carry that mean something here. */
const GRPC = { notFound: 5 } as const;

/** The HTTP status of a gRPC code, as Yandex's REST gateway maps them (reference §3.11; google.rpc.Code). */
const GRPC_HTTP: Record<number, number> = { 3: 400, 4: 504, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 13: 500, 14: 503, 16: 401 };

/** Builds the Yandex driver for one host (the factory's create, with tuning for tests). */
export function createYandexDriver(context: DriverContext, options: YandexDriverOptions = {}): Driver & DetailedLister & UntaggedLister & ManifestReader & ContentPusher {
  const base = createRegistryApiDriver(context, { type: 'yandex', capabilities });
  const common = {
    insecure: context.registry?.insecure ?? false,
    ...(context.debug === undefined ? {} : { debug: context.debug }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
  };
  const apiBase = nativeApiBase({ host: context.host, configured: context.registry?.api, path: '/container-registry/v1', fallback: YANDEX_ENDPOINTS.containerRegistry });
  const authHint = 'the IAM token needs a role on the registry that may list and delete images (container-registry.images.deleter, or editor); IAM tokens live 12 hours at most';
  let clients: Promise<{ images: NativeApi; operations: NativeApi }> | undefined;
  /** digest -> image id per repository, from the last listing (an id names one digest for good). */
  const imageIds = new Map<string, Map<string, string>>();
  const listings = new SingleFlight<YandexImage[]>();

  async function connect(subject: string): Promise<{ images: NativeApi; operations: NativeApi }> {
    const found = await yandexIamToken(context, common);
    if (found === undefined) {
      throw new CredentialsError(`cannot clean up "${subject}" as type yandex: the Yandex images API needs an IAM token, and none is set`, {
        hint: `set ${ENV.iamToken} (yc iam create-token), ${ENV.oauthToken} or ${ENV.serviceAccountKey} (an authorized key's JSON), or log in to ${context.host} as Yandex documents (docker login --username iam, oauth or json_key)`,
        context: { registry: context.host },
      });
    }
    const operationBase = (await context.nativeSecret(ENV.operationUrl))?.trim() || YANDEX_ENDPOINTS.operation;
    const make = (baseUrl: string, title: string) => {
      const api = new NativeApi({ ...common, base: baseUrl, title, authorization: async () => `Bearer ${found.token}`, authHint });
      for (const secret of found.secrets) api.addSecret(secret);
      return api;
    };
    return { images: make(apiBase, 'Yandex images API'), operations: make(operationBase, 'Yandex operation API') };
  }

  const client = (subject: string) => {
    clients ??= connect(subject).catch((error: unknown) => {
      clients = undefined; // a failed login may be retried by the next call
      throw error;
    });
    return clients;
  };

  /** The API's repository name for a repo path, which must hold a registry id and an image name. */
  function repositoryName(name: string): string {
    if (name.indexOf('/') <= 0) {
      throw new RegplanError(`cannot use "${context.host}/${name}" with Yandex Container Registry: the address needs a registry id and an image name (${context.host}/<registry-id>/<image>)`, {
        hint: 'the first path segment of a Yandex address is the registry id (yc container registry list)',
        context: { registry: context.host, repo: name },
      });
    }
    return name;
  }

  /** Every image of a repo across pages (concurrent callers share one listing); remembers each digest's image id. */
  function images(name: string): Promise<YandexImage[]> {
    return listings.run(name, async () => {
      const subject = `${context.host}/${name}`;
      const { images: api } = await client(subject);
      const all = await api.listAll<ImagePage, YandexImage>('images', {
        query: { repositoryName: repositoryName(name), pageSize: PAGE_SIZE },
        items: (page) => (typeof page === 'object' && page !== null ? (page.images ?? []) : undefined), // proto3: no `images` on an empty page
        next: bodyTokenNext<ImagePage>('nextPageToken', 'pageToken'),
        subject,
      });
      const listed = all.filter((image) => typeof image.digest === 'string' && typeof image.id === 'string');
      imageIds.set(name, new Map(listed.map((image) => [image.digest, image.id])));
      return listed;
    });
  }

  /** The image id of a digest: from the last listing, else a fresh one; undefined when the repo has no such image. */
  async function imageId(name: string, digest: string): Promise<string | undefined> {
    const known = imageIds.get(name)?.get(digest);
    if (known !== undefined) return known;
    return (await images(name)).find((image) => image.digest === digest)?.id;
  }

  const stillListed = async (name: string, digest: string): Promise<boolean> => (await images(name)).some((image) => image.digest === digest);

  /** Waits for a delete's operation; resolves when it ended without error, throws a clear error otherwise. */
  async function finish(name: string, digest: string, started: Operation, operations: NativeApi): Promise<void> {
    const subject = `${context.host}/${name}@${digest}`;
    const state = (operation: Operation) => ({ done: operation.done === true, value: operation });
    let ended: Operation;
    try {
      ended = await awaitOperation(state(started), async () => {
        const { data } = await operations.get<Operation>(`operations/${encodeURIComponent(started.id)}`);
        return state(data);
      }, options.poll);
    } catch (error) {
      if (!(error instanceof OperationTimeout)) throw error;
      throw new RegistryError(`cannot confirm the delete of "${subject}": Yandex operation ${started.id} was still running after ${Math.round(error.waitedMs / 1000)} s`, {
        status: 504,
        registry: context.host,
        repo: name,
        ref: digest,
        hint: 'run the same apply again later: a finished delete then counts as done',
      });
    }
    const failure = ended.error;
    if (failure === undefined) return;
    const vendor = JSON.stringify(failure.message ?? '');
    if (failure.code === GRPC.notFound) {
      return confirmGone({
        stillThere: () => stillListed(name, digest),
        refused: () => new RegistryError(`cannot delete "${subject}": Yandex operation ${started.id} ended with NOT_FOUND ${vendor}, but the image is still listed`, { status: 404, registry: context.host, repo: name, ref: digest, hint: authHint }),
      });
    }
    const what = `cannot delete "${subject}": Yandex operation ${started.id} ended with error ${failure.code ?? '?'} ${vendor}`;
    const status = GRPC_HTTP[failure.code ?? -1] ?? 500;
    if (status === 401 || status === 403) throw new AuthError(what, { status, registry: context.host, repo: name, hint: authHint });
    throw new RegistryError(what, { status, registry: context.host, repo: name, ref: digest, hint: 'see the operation\'s message above; deletions already done count as done when apply runs again' });
  }

  const records = (image: YandexImage): { pushedAt?: string } => {
    const pushedAt = parseTime(image.createdAt);
    return pushedAt === undefined ? {} : { pushedAt };
  };

  return {
    ...base,
    capabilities,
    async listTagRecords(name) {
      const found: TagRecord[] = [];
      for (const image of await images(name)) for (const tag of image.tags ?? []) found.push({ tag, digest: image.digest, ...records(image) });
      return found.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    },
    async listUntagged(name) {
      return (await images(name)).filter((image) => (image.tags ?? []).length === 0).map((image) => ({ digest: image.digest, ...records(image) }));
    },
    async deleteManifest(name, digest) {
      const subject = `${context.host}/${name}@${digest}`;
      const { images: api, operations } = await client(subject);
      const id = await imageId(name, digest);
      if (id === undefined) return; // a fresh listing has no image with this digest: it is gone
      let started: Operation;
      try {
        started = (await api.request<Operation>('DELETE', `images/${encodeURIComponent(id)}`, { expect: [200], subject })).data;
      } catch (error) {
        if (!isRegistryError(error) || error.status !== 404) throw error;
        // 404 is "already gone" only when a fresh listing agrees.
        imageIds.delete(name);
        return confirmGone({
          stillThere: () => stillListed(name, digest),
          refused: () => new RegistryError(`cannot delete "${subject}": the images API answered the DELETE with HTTP 404, but the image is still listed`, { status: 404, registry: context.host, repo: name, ref: digest, cause: error, hint: authHint }),
        });
      }
      if (typeof started?.id !== 'string') {
        throw new RegistryError(`the Yandex images API answered the DELETE of "${subject}" without an operation`, { status: 200, registry: context.host, repo: name, ref: digest, hint: 'check registries.<host>.api points at the Yandex images API' });
      }
      await finish(name, digest, started, operations);
    },
  };
}

/** The Yandex registry type. */
export const yandexDriver = {
  type: 'yandex',
  title: 'Yandex Container Registry',
  status: 'ready',
  capabilities,
  create: (context) => createYandexDriver(context),
} satisfies DriverFactory;
