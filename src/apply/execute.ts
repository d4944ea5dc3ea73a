/**
 * Apply: carries out exactly the actions of a plan (design §6). Pushes first (compare-and-push, see push.ts),
 * then deletions, a few at a time per repo. Before each delete the tag is re-resolved (compare-and-delete): gone = done, moved = stale and left alone. Before deleting a
 * manifest, every other tag of the repo is checked too, so a tag moved onto that manifest since the plan
 * (a rollback re-tag, say) protects it — the plan's digest is not enough when a digest delete removes all its tags.
 * Names are hostile until checked (model/names.ts): an action whose tag or digest fails the grammar fails without a
 * request, and a listed tag that fails it is neither resolved nor counted as a guard (the plan skipped it too).
 */
import pLimit from 'p-limit';
import { canUntag, collectsGarbage, hasDetailedListing, type Driver } from '../drivers/driver.ts';
import type { OpenedRepo } from '../drivers/open.ts';
import { isNotFound, isRegplanError } from '../errors.ts';
import { isValidDigest, isValidTag, quoteName } from '../model/names.ts';
import type { Config } from '../config/types.ts';
import type { Action, DeleteAction, Plan } from '../plan/types.ts';
import { type Journal, type Outcome } from './journal.ts';
import { applyPush, BlobHolders } from './push.ts';

/** The result of one action. */
export interface ActionReport {
  action: Action;
  outcome: Outcome;
  message?: string;
}

/** What apply needs: how to open a plan's repo address, where to journal, whom to tell. */
export interface ApplyOptions {
  open: (planRepo: string) => OpenedRepo;
  journal: Journal;
  /** Called after each action (for a live report). */
  onOutcome?: (report: ActionReport) => void;
  /** The config the plan was made from: push actions package their bundle again from it (and fail without it). */
  config?: Config;
  /** Requests in flight per repo while re-checking and deleting (`settings.concurrency`); default 4. */
  concurrency?: number;
}

/** Runs the plan's actions; never throws for a single action's failure (it is reported and journaled). */
export async function applyPlan(plan: Plan, options: ApplyOptions): Promise<ActionReport[]> {
  const reports: ActionReport[] = [];
  const report = async (action: Action, outcome: Outcome, message?: string) => {
    await options.journal.record(action, outcome, message);
    const entry: ActionReport = { action, outcome, ...(message === undefined ? {} : { message }) };
    reports.push(entry);
    options.onOutcome?.(entry);
  };

  const holders = new BlobHolders();
  for (const action of plan.actions) {
    if (action.type !== 'push' || options.journal.isFinished(action)) continue;
    try {
      const done = await applyPush(action, { open: options.open, config: options.config, holders });
      await report(action, done.outcome, done.message);
    } catch (error) {
      await report(action, 'failed', messageOf(error));
    }
  }

  const deletesByRepo = new Map<string, DeleteAction[]>();
  for (const action of plan.actions) {
    if (action.type !== 'delete' || options.journal.isFinished(action)) continue;
    deletesByRepo.set(action.repo, [...(deletesByRepo.get(action.repo) ?? []), action]);
  }
  for (const [repo, deletes] of deletesByRepo) {
    let opened: OpenedRepo;
    try {
      opened = options.open(repo);
    } catch (error) {
      for (const action of deletes) await report(action, 'failed', messageOf(error));
      continue;
    }
    await applyRepoDeletes(opened, deletes, { report, limit: pLimit(options.concurrency ?? 4) });
  }
  return reports;
}

async function applyRepoDeletes(
  opened: OpenedRepo,
  deletes: readonly DeleteAction[],
  options: { report: (action: Action, outcome: Outcome, message?: string) => Promise<void>; limit: ReturnType<typeof pLimit> },
): Promise<void> {
  const { driver, name } = opened;
  const { report, limit } = options;
  let guards: Map<string, string>;
  try {
    guards = await tagsGuardingManifests(driver, name, deletes, limit);
  } catch (error) {
    for (const action of deletes) await report(action, 'failed', `could not re-check the repo's tags before deleting: ${messageOf(error)}`);
    return;
  }
  let deletedSomething = false;
  await Promise.all(
    deletes.map((action) =>
      limit(async () => {
        try {
          const outcome = await applyDelete(driver, name, action, guards);
          if (outcome.outcome === 'deleted' || outcome.outcome === 'untagged') deletedSomething = true;
          await report(action, outcome.outcome, outcome.message);
        } catch (error) {
          await report(action, 'failed', messageOf(error));
        }
      }),
    ),
  );
  if (deletedSomething && collectsGarbage(driver)) await driver.collectGarbage(name);
}

/**
 * Tags not being removed by this apply that now point at a manifest it would delete: digest -> such a tag.
 * Only manifest-mode deletes need this; an untag never removes content.
 */
async function tagsGuardingManifests(
  driver: Driver,
  name: string,
  deletes: readonly DeleteAction[],
  limit: ReturnType<typeof pLimit>,
): Promise<Map<string, string>> {
  const doomed = new Set(deletes.filter((a) => a.mode === 'manifest').map((a) => a.digest));
  const guards = new Map<string, string>();
  if (doomed.size === 0) return guards;
  const leaving = new Set(deletes.filter((a) => a.mode === 'manifest' && a.tag !== undefined).map((a) => `${a.tag}@${a.digest}`));
  const current = hasDetailedListing(driver)
    ? (await driver.listTagRecords(name)).filter((r) => isValidTag(r.tag) && isValidDigest(r.digest)).map((r) => ({ tag: r.tag, digest: r.digest }))
    : await Promise.all(
        (await driver.listTags(name)).filter(isValidTag).map((tag) => limit(async () => ({ tag, digest: (await driver.resolveTag(name, tag))?.digest }))),
      );
  for (const { tag, digest } of current) {
    if (digest === undefined || !doomed.has(digest) || leaving.has(`${tag}@${digest}`)) continue;
    if (!guards.has(digest)) guards.set(digest, tag);
  }
  return guards;
}

async function applyDelete(driver: Driver, name: string, action: DeleteAction, guards: Map<string, string>): Promise<{ outcome: Outcome; message?: string }> {
  if ((action.tag !== undefined && !isValidTag(action.tag)) || !isValidDigest(action.digest)) {
    const what = action.tag !== undefined && !isValidTag(action.tag) ? `tag ${quoteName(action.tag)}` : `digest ${quoteName(action.digest)}`;
    return { outcome: 'failed', message: `refusing to act on invalid ${what}: it fails the distribution grammar (make a fresh plan)` };
  }
  if (action.tag !== undefined) {
    const now = await driver.resolveTag(name, action.tag);
    if (!now) return { outcome: 'already-gone' };
    if (now.digest !== action.digest) {
      return { outcome: 'stale', message: `tag now points at ${now.digest}, not ${action.digest} as planned; left alone (re-plan to reconsider)` };
    }
  }
  if (action.mode === 'untag') {
    if (!canUntag(driver) || action.tag === undefined) return { outcome: 'failed', message: `the ${driver.type} driver cannot remove a single tag` };
    await driver.untag(name, action.tag);
    return { outcome: 'untagged' };
  }
  const guard = guards.get(action.digest);
  if (guard !== undefined) {
    return { outcome: 'stale', message: `manifest ${action.digest} is now also tagged "${guard}"; left alone (re-plan to reconsider)` };
  }
  try {
    await driver.deleteManifest(name, action.digest);
  } catch (error) {
    if (isNotFound(error)) return { outcome: 'already-gone' };
    throw error;
  }
  return { outcome: 'deleted' };
}

function messageOf(error: unknown): string {
  if (isRegplanError(error)) return error.hint ? `${error.message} (hint: ${error.hint})` : error.message;
  return error instanceof Error ? error.message : String(error);
}
