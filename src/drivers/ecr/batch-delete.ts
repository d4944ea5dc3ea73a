/**
 * BatchDeleteImage with its real semantics (reference §3.1): deletes asked for within a few milliseconds for one repo go
 * out together, at most 100 image ids per call (ECR's limit), and each caller learns its own item's outcome —
 * ECR answers HTTP 200 and lists per-item `failures`. An item is done when ECR lists it among the deleted
 * `imageIds`. ImageNotFound (or an item ECR neither deleted nor failed) is done only when a fresh DescribeImages
 * of that one image id agrees (`confirmGone`): a "not found" is not proof of deletion.
 * ImageReferencedByManifestList and every other failure code reject that item only. A repository that does
 * not exist means everything in it is already gone.
 */
import type { ImageFailure, ImageIdentifier } from '@aws-sdk/client-ecr';
import { isNotFound, RegistryError } from '../../errors.ts';
import { confirmGone } from '../native-api.ts';
import type { EcrApi } from './api.ts';

/** One image id as BatchDeleteImage takes it: by tag (removes that tag) or by digest (removes the image). */
export type EcrImageId = { imageTag: string } | { imageDigest: string };

/** ECR's limit on image ids per BatchDeleteImage call. */
export const BATCH_DELETE_LIMIT = 100;

/** How long deletes for one repo are collected before they are sent (apply asks a few at a time, per HEAD). */
const COLLECT_MS = 10;

interface Pending {
  id: EcrImageId;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

/** What to tell the user for a per-item failure code. */
const FAILURE_HINTS: Readonly<Record<string, string>> = {
  ImageReferencedByManifestList: 'an image index (multi-platform image) still lists this image; it can go once the index is deleted (re-plan after this apply)',
  ImageTagDoesNotMatchDigest: 'the tag moved since the plan; re-plan',
  KmsError: 'ECR could not use the repository\'s KMS key; check the key policy',
  ImageInaccessible: 'ECR could not read the image; retry later',
  UpstreamAccessDenied: 'a pull-through cache rule\'s upstream refused; check the rule\'s credentials',
  UpstreamTooManyRequests: 'the pull-through cache\'s upstream is rate limiting; retry later',
  UpstreamUnavailable: 'the pull-through cache\'s upstream is down; retry later',
};

/** Collects deletes per repo and sends them as BatchDeleteImage calls of at most 100 ids. */
export class BatchDeleter {
  readonly #api: EcrApi;
  readonly #display: (name: string) => string;
  readonly #queues = new Map<string, Map<string, Pending>>();

  /** `display` turns a repo path into the address used in messages (`<host>/<name>`). */
  constructor(api: EcrApi, display: (name: string) => string) {
    this.#api = api;
    this.#display = display;
  }

  /** Deletes one image id in repo `name`; resolves when it is gone or was already gone. */
  delete(name: string, id: EcrImageId): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let queue = this.#queues.get(name);
      if (queue === undefined) {
        queue = new Map();
        this.#queues.set(name, queue);
        setTimeout(() => void this.#flush(name), COLLECT_MS);
      }
      const key = 'imageTag' in id ? `tag:${id.imageTag}` : `digest:${id.imageDigest}`;
      const pending = queue.get(key) ?? { id, waiters: [] };
      pending.waiters.push({ resolve, reject });
      queue.set(key, pending);
    });
  }

  async #flush(name: string): Promise<void> {
    const queue = this.#queues.get(name);
    this.#queues.delete(name);
    const items = [...(queue?.values() ?? [])];
    const chunks: Pending[][] = [];
    for (let i = 0; i < items.length; i += BATCH_DELETE_LIMIT) chunks.push(items.slice(i, i + BATCH_DELETE_LIMIT));
    await Promise.all(chunks.map((chunk) => this.#send(name, chunk)));
  }

  async #send(name: string, chunk: Pending[]): Promise<void> {
    const subject = this.#display(name);
    const settle = (pending: Pending, error?: unknown) => {
      for (const waiter of pending.waiters) if (error === undefined) waiter.resolve(); else waiter.reject(error);
    };
    let failures: ImageFailure[];
    let deleted: ImageIdentifier[];
    try {
      const answer = await this.#api.run('BatchDeleteImage', subject, (sdk, client) =>
        client.send(new sdk.BatchDeleteImageCommand({ ...this.#api.registryId, repositoryName: name, imageIds: chunk.map((p) => p.id) })),
      );
      failures = answer.failures ?? [];
      deleted = answer.imageIds ?? [];
    } catch (error) {
      for (const pending of chunk) settle(pending, isNotFound(error) ? undefined : error); // no repository: all gone
      return;
    }
    const confirmations: Promise<void>[] = [];
    for (const pending of chunk) {
      const failure = failures.find((f) => sameId(f.imageId, pending.id));
      const what = 'imageTag' in pending.id ? `tag "${pending.id.imageTag}"` : pending.id.imageDigest;
      if (failure === undefined && deleted.some((d) => wasDeleted(d, pending.id))) {
        settle(pending);
        continue;
      }
      if (failure === undefined || failure.failureCode === 'ImageNotFound') {
        const answered = failure === undefined ? 'did not list it as deleted or failed' : `answered ImageNotFound ${JSON.stringify(failure.failureReason ?? '')}`;
        const confirmed = confirmGone({
          stillThere: () => this.#stillThere(name, pending.id),
          refused: () =>
            new RegistryError(`AWS ECR could not delete ${what} in "${subject}": BatchDeleteImage ${answered}, but DescribeImages still finds it`, {
              status: 200,
              errors: [{ code: failure?.failureCode ?? 'UNCONFIRMED', message: failure?.failureReason ?? '' }],
              repo: subject,
              hint: 'nothing was counted as done; run the same apply again, and check the IAM policy and repository policy allow ecr:BatchDeleteImage if it persists',
            }),
        });
        confirmations.push(confirmed.then(() => settle(pending), (error: unknown) => settle(pending, error)));
        continue;
      }
      const code = failure.failureCode ?? 'UNKNOWN';
      settle(
        pending,
        new RegistryError(`AWS ECR could not delete ${what} in "${subject}": ${code} ${JSON.stringify(failure.failureReason ?? '')}`, {
          status: 200,
          errors: [{ code, message: failure.failureReason ?? '' }],
          repo: subject,
          hint: FAILURE_HINTS[code] ?? "see ECR's failure reason above",
        }),
      );
    }
    await Promise.all(confirmations);
  }

  /** True when a fresh DescribeImages of that one image id finds it (ImageNotFoundException: it is gone). */
  async #stillThere(name: string, id: EcrImageId): Promise<boolean> {
    const answer = await this.#api.run('DescribeImages', this.#display(name), (sdk, client) =>
      client.send(new sdk.DescribeImagesCommand({ ...this.#api.registryId, repositoryName: name, imageIds: [id] })),
    );
    const details = answer.imageDetails ?? [];
    return 'imageTag' in id ? details.some((d) => (d.imageTags ?? []).includes(id.imageTag)) : details.some((d) => d.imageDigest === id.imageDigest);
  }
}

/** True when an entry of the deleted `imageIds` is (or carries) the id we sent. */
function wasDeleted(entry: ImageIdentifier, sent: EcrImageId): boolean {
  return 'imageTag' in sent ? entry.imageTag === sent.imageTag : entry.imageDigest === sent.imageDigest;
}

/** True when a failure's image id is the one we sent (ECR echoes it as sent). */
function sameId(echoed: ImageIdentifier | undefined, sent: EcrImageId): boolean {
  if (echoed === undefined) return false;
  return 'imageTag' in sent ? echoed.imageTag === sent.imageTag && echoed.imageDigest === undefined : echoed.imageDigest === sent.imageDigest && echoed.imageTag === undefined;
}
