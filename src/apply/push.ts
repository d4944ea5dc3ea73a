/**
 * Apply's side of a bundle push (design §6): compare-and-push. The tag is resolved again — already on the planned
 * digest means done ("unchanged"), moved since the plan means "stale" (left alone) — then the bundle is packaged
 * again from the config and pushed only when it still has the planned digest; inputs that changed since the plan
 * fail the action with the two digests. Blobs another repo of the same registry received earlier in this apply
 * are mounted from there instead of uploaded again.
 */
import { pushBundle } from '../bundles/push.ts';
import { prepareBundle } from '../bundles/prepare.ts';
import type { PreparedBundle } from '../bundles/types.ts';
import type { BundleConfig, Config } from '../config/types.ts';
import { canPush } from '../drivers/driver.ts';
import type { OpenedRepo } from '../drivers/open.ts';
import { displayAddress } from '../config/display.ts';
import type { PushAction } from '../plan/types.ts';
import { shortDigest } from '../registry/digest.ts';
import type { Outcome } from './journal.ts';

/** Which repos of each registry hold which blobs, learnt from this apply's pushes (for cross-repo mounts). */
export class BlobHolders {
  readonly #byHost = new Map<string, Map<string, Set<string>>>();

  /** Repos of `hostKey` known to hold `digest`. */
  holders(hostKey: string, digest: string): string[] {
    return [...(this.#byHost.get(hostKey)?.get(digest) ?? [])];
  }

  /** Records that repo `name` of `hostKey` now holds every blob of `bundle`. */
  learn(hostKey: string, name: string, bundle: PreparedBundle): void {
    let byDigest = this.#byHost.get(hostKey);
    if (!byDigest) this.#byHost.set(hostKey, (byDigest = new Map()));
    for (const blob of bundle.blobs) {
      const names = byDigest.get(blob.digest) ?? new Set<string>();
      names.add(name);
      byDigest.set(blob.digest, names);
    }
  }
}

/** What pushing one action needs. */
export interface PushContext {
  open: (planRepo: string) => OpenedRepo;
  config: Config | undefined;
  holders: BlobHolders;
}

/** Carries out one push action and says how it ended; throws only for errors the caller reports as failed. */
export async function applyPush(action: PushAction, context: PushContext): Promise<{ outcome: Outcome; message?: string }> {
  const bundle = bundleOf(action, context.config);
  if (typeof bundle === 'string') return { outcome: 'failed', message: bundle };
  const opened = context.open(action.repo);
  const { driver, name, hostKey } = opened;
  if (!canPush(driver)) return { outcome: 'failed', message: `the ${driver.type} driver cannot push content` };
  const current = await driver.resolveTag(name, action.tag);
  if (current?.digest === action.digest) return { outcome: 'unchanged', message: `the tag already points at ${shortDigest(action.digest)}` };
  if (current?.digest !== action.previous) {
    const now = current === undefined ? 'no longer exists' : `now points at ${current.digest}`;
    const then = action.previous === undefined ? 'did not exist' : `pointed at ${action.previous}`;
    return { outcome: 'stale', message: `the tag ${now}; at plan time it ${then}. Left alone (re-plan to push)` };
  }
  const prepared = await prepareBundle(bundle);
  if (prepared.manifest.digest !== action.digest) {
    return {
      outcome: 'failed',
      message: `the bundle now packages to ${prepared.manifest.digest}, not ${action.digest} as planned: its inputs changed since the plan. Nothing was pushed; make a fresh plan`,
    };
  }
  const report = await pushBundle(driver, name, prepared, {
    tag: action.tag,
    mountFrom: (digest) => context.holders.holders(hostKey, digest),
    display: action.repo,
  });
  context.holders.learn(hostKey, name, prepared);
  const parts = [`${report.uploaded} blob${report.uploaded === 1 ? '' : 's'} uploaded`];
  if (report.mounted > 0) parts.push(`${report.mounted} mounted`);
  if (report.existing > 0) parts.push(`${report.existing} already there`);
  return { outcome: 'pushed', message: parts.join(', ') };
}

/** The configured bundle a push action came from, or the reason it cannot be found. */
function bundleOf(action: PushAction, config: Config | undefined): BundleConfig | string {
  if (config === undefined) return 'apply was not given the config, so it cannot package the bundle again';
  const repo = config.repos.find((entry) => displayAddress(entry) === action.repo);
  const bundle = repo?.bundles.find((entry) => entry.tag === action.tag);
  return bundle ?? `the config has no bundle for ${action.repo}:${action.tag} any more; make a fresh plan`;
}
