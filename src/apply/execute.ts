/**
 * Apply: carries out exactly the actions of a plan (design §6). Pushes first (compare-and-push, see push.ts),
 * then deletions, a few at a time per repo (many where the driver writes them together, see BatchedDeleter). Before
 * each delete the tag is re-resolved (compare-and-delete): gone = done, moved = stale and left alone. A digest
 * delete whose tag the guards below just read with a verified GET uses that reading instead of a second lookup (one
 * request per tag, issue 11): the DELETE names the planned digest, so a tag that moves after the reading keeps its
 * new manifest. An untag names the tag, so it always looks again.
 * Before an action that removes content (a digest delete; an untag where the last tag takes the manifest) the
 * repo's other tags are checked too, so a tag moved onto that manifest since the plan (a rollback re-tag, say)
 * protects it — the plan's digest is not enough when a digest delete removes all its tags. A placeholder untag
 * (registries without tag delete) re-checks its own tag around the push and deletes only its placeholder.
 * Names are hostile until checked (model/names.ts): an action whose tag or digest fails the grammar fails without a
 * request, and a listed tag that fails it is neither resolved nor counted as a guard (the plan skipped it too).
 */
import pLimit from 'p-limit';
import { batchesDeletes, canReadManifests, canUntag, collectsGarbage, hasDetailedListing, type Driver } from '../drivers/driver.ts';
import type { OpenedRepo } from '../drivers/open.ts';
import { isNotFound, isRegplanError, StalePlanError } from '../errors.ts';
import { isValidDigest, isValidTag, quoteName } from '../model/names.ts';
import type { Config } from '../config/types.ts';
import type { Action, DeleteAction, Plan } from '../plan/types.ts';
import { type Journal, type Outcome } from './journal.ts';
import { untagByPlaceholder } from './placeholder-untag.ts';
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
      await report(action, outcomeOfError(error), messageOf(error));
    }
  }

  const deletesByRepo = new Map<string, DeleteAction[]>();
  for (const action of plan.actions) {
    if (action.type !== 'delete' || options.journal.isFinished(action)) continue;
    const repoDeletes = deletesByRepo.get(action.repo);
    if (repoDeletes === undefined) deletesByRepo.set(action.repo, [action]);
    else repoDeletes.push(action); // not a copy per action: 100,000 deletions grouped in linear time
  }
  for (const [repo, deletes] of deletesByRepo) {
    let opened: OpenedRepo;
    try {
      opened = options.open(repo);
    } catch (error) {
      for (const action of deletes) await report(action, 'failed', messageOf(error));
      continue;
    }
    const inFlight = batchesDeletes(opened.driver) ? BATCHED_DELETES_IN_FLIGHT : (options.concurrency ?? 4);
    await applyRepoDeletes(opened, deletes, { report, limit: pLimit(inFlight) });
  }
  return reports;
}

/**
 * Deletions in flight per repo on a driver that writes them together (the OCI layout): enough that a 100,000-tag
 * cleanup takes a handful of index.json writes, few enough to bound the memory of the waiting actions.
 */
const BATCHED_DELETES_IN_FLIGHT = 10_000;

async function applyRepoDeletes(
  opened: OpenedRepo,
  deletes: readonly DeleteAction[],
  options: { report: (action: Action, outcome: Outcome, message?: string) => Promise<void>; limit: ReturnType<typeof pLimit> },
): Promise<void> {
  const { driver, name } = opened;
  const { report, limit } = options;
  const guards = deletes.some((action) => needsGuard(driver, action)) ? await readGuards(driver, name, deletes, limit) : NO_GUARDS;
  let deletedSomething = false;
  await Promise.all(
    deletes.map((action) =>
      limit(async () => {
        try {
          const outcome = await applyDelete(driver, name, action, guards);
          if (outcome.outcome === 'deleted' || outcome.outcome === 'untagged') deletedSomething = true;
          await report(action, outcome.outcome, outcome.message);
        } catch (error) {
          await report(action, outcomeOfError(error), messageOf(error));
        }
      }),
    ),
  );
  if (deletedSomething && collectsGarbage(driver)) await driver.collectGarbage(name);
}

/**
 * What the repo's tags say right before deleting: each tag's digest now, the tags this apply removes, and the
 * tags that could not be re-checked. Built once per repo; an unreadable tag costs only the actions it could
 * protect, and an unreadable listing only the actions that need it.
 */
interface Guards {
  /** digest -> tags on it now. */
  byDigest: Map<string, string[]>;
  /** tag -> its digest now (undefined: gone), for tags read one by one with a verified GET just now. */
  readTags: Map<string, string | undefined>;
  /** `tag@digest` of every tag this apply removes. */
  leaving: Set<string>;
  /** Tags whose digest could not be read now, with why (named in the failure). */
  unreadable: { tag: string; why: string }[];
  /** Set when the listing itself failed. */
  failure?: string;
}

const NO_GUARDS: Guards = { byDigest: new Map(), readTags: new Map(), leaving: new Set(), unreadable: [] };

/**
 * True when an action removes content if some other tag is not looked at first: a digest delete (every tag on
 * it goes) and, where removing the last tag deletes the manifest (ECR, GitLab), an untag.
 */
const needsGuard = (driver: Driver, action: DeleteAction): boolean =>
  action.mode === 'manifest' || driver.capabilities.untagLastDeletesManifest === true;

async function readGuards(driver: Driver, name: string, deletes: readonly DeleteAction[], limit: ReturnType<typeof pLimit>): Promise<Guards> {
  const leaving = new Set(deletes.filter((a) => a.tag !== undefined).map((a) => `${a.tag}@${a.digest}`));
  const byDigest = new Map<string, string[]>();
  const readTags = new Map<string, string | undefined>();
  const add = (tag: string, digest: string): void => {
    const tags = byDigest.get(digest);
    if (tags === undefined) byDigest.set(digest, [tag]);
    else tags.push(tag);
  };
  const unreadable = new Map<string, string>();
  const read = async (tag: string): Promise<void> => {
    try {
      const digest = await verifiedDigest(driver, name, tag);
      if (digest !== undefined) add(tag, digest);
      if (canReadManifests(driver)) readTags.set(tag, digest);
      unreadable.delete(tag);
    } catch (error) {
      unreadable.set(tag, messageOf(error));
    }
  };
  try {
    if (hasDetailedListing(driver)) {
      for (const record of await driver.listTagRecords(name)) if (isValidTag(record.tag) && isValidDigest(record.digest)) add(record.tag, record.digest);
    } else {
      await Promise.all((await driver.listTags(name)).filter(isValidTag).map((tag) => limit(() => read(tag))));
      // One more try for what failed (after the transport's own retries): a tag left unread blocks digest deletes.
      for (const tag of [...unreadable.keys()]) await read(tag);
    }
  } catch (error) {
    return { byDigest, readTags: new Map(), leaving, unreadable: [], failure: messageOf(error) };
  }
  return { byDigest, readTags, leaving, unreadable: [...unreadable].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([tag, why]) => ({ tag, why })) };
}

/**
 * The digest a tag points at now, from content where the driver can read it: a GET whose body is hashed and
 * checked against the registry's stated digest. A HEAD's Docker-Content-Digest has no body to check it by, and a
 * registry or proxy that misstates it for a kept tag would hide that tag from the guard and let a digest delete
 * take it (the fault suite's "lying HEAD"). Undefined when the tag is gone.
 */
async function verifiedDigest(driver: Driver, name: string, tag: string): Promise<string | undefined> {
  if (!canReadManifests(driver)) return (await driver.resolveTag(name, tag))?.digest;
  try {
    return (await driver.readManifest(name, tag)).descriptor.digest;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Why an action that needs the guards must not go ahead now; undefined when it may. */
function guardVerdict(driver: Driver, action: DeleteAction, guards: Guards): { outcome: Outcome; message: string } | undefined {
  if (!needsGuard(driver, action)) return undefined;
  if (guards.failure !== undefined) return { outcome: 'failed', message: `could not re-check the repo's tags before deleting: ${guards.failure}` };
  const others = (guards.byDigest.get(action.digest) ?? []).filter((tag) => !guards.leaving.has(`${tag}@${action.digest}`));
  const unreadable = guards.unreadable.filter((entry) => entry.tag !== action.tag);
  const named = unreadable.map((entry) => JSON.stringify(entry.tag)).join(', ');
  const why = unreadable[0] === undefined ? '' : `: ${unreadable[0].why}`;
  if (action.mode === 'manifest') {
    const guard = others[0];
    if (guard !== undefined) return { outcome: 'stale', message: `manifest ${action.digest} is now also tagged "${guard}"; left alone (re-plan to reconsider)` };
    if (unreadable.length > 0) return { outcome: 'failed', message: `could not re-check tag ${named} before deleting manifest ${action.digest} (it could point at it now)${why}; re-run apply` };
    return undefined;
  }
  if (others.length > 0) return undefined;
  if (unreadable.length > 0) return { outcome: 'failed', message: `could not re-check tag ${named} before removing the last planned tag of ${action.digest}${why}; re-run apply` };
  return {
    outcome: 'stale',
    message: `"${action.tag ?? ''}" is now the last tag on ${action.digest}, and removing the last tag on ${driver.type} deletes the manifest; left alone (re-plan to reconsider)`,
  };
}

async function applyDelete(driver: Driver, name: string, action: DeleteAction, guards: Guards): Promise<{ outcome: Outcome; message?: string }> {
  if ((action.tag !== undefined && !isValidTag(action.tag)) || !isValidDigest(action.digest)) {
    const what = action.tag !== undefined && !isValidTag(action.tag) ? `tag ${quoteName(action.tag)}` : `digest ${quoteName(action.digest)}`;
    return { outcome: 'failed', message: `refusing to act on invalid ${what}: it fails the distribution grammar (make a fresh plan)` };
  }
  if (action.tag !== undefined) {
    const read = action.mode === 'manifest' && guards.readTags.has(action.tag);
    const now = read ? guards.readTags.get(action.tag) : (await driver.resolveTag(name, action.tag))?.digest;
    if (now === undefined) return { outcome: 'already-gone' };
    if (now !== action.digest) {
      return { outcome: 'stale', message: `tag now points at ${now}, not ${action.digest} as planned; left alone (re-plan to reconsider)` };
    }
  }
  const verdict = guardVerdict(driver, action, guards);
  if (verdict !== undefined) return verdict;
  if (action.mode === 'untag' && action.via === 'placeholder') {
    // Never removes the shared manifest: only a placeholder made for this tag is deleted (placeholder-untag.ts).
    if (action.tag === undefined) return { outcome: 'failed', message: 'a placeholder untag needs a tag (make a fresh plan)' };
    return untagByPlaceholder(driver, name, { tag: action.tag, digest: action.digest, ...(action.pushedAt === undefined ? {} : { pushedAt: action.pushedAt }) });
  }
  if (action.mode === 'untag') {
    if (!canUntag(driver) || action.tag === undefined) return { outcome: 'failed', message: `the ${driver.type} driver cannot remove a single tag` };
    try {
      await driver.untag(name, action.tag);
    } catch (error) {
      if (isNotFound(error) && (await confirmedAbsent(driver, name, action))) return { outcome: 'already-gone' };
      throw error;
    }
    return { outcome: 'untagged' };
  }
  try {
    await driver.deleteManifest(name, action.digest);
  } catch (error) {
    // A 404 is not proof of deletion: "gone" only when a fresh lookup of that one tag or manifest finds nothing.
    if (isNotFound(error) && (await confirmedAbsent(driver, name, action))) return { outcome: 'already-gone' };
    throw error;
  }
  return { outcome: 'deleted' };
}

/** True when a fresh lookup shows the action's tag (or, untagged, its manifest) no longer there. */
async function confirmedAbsent(driver: Driver, name: string, action: DeleteAction): Promise<boolean> {
  if (action.tag !== undefined) return (await driver.resolveTag(name, action.tag))?.digest !== action.digest;
  if (!canReadManifests(driver)) return false;
  try {
    await driver.readManifest(name, action.digest);
    return false;
  } catch (error) {
    if (isNotFound(error)) return true;
    throw error;
  }
}

/**
 * The outcome of an action that threw: a driver's StalePlanError (the registry changed since the plan, e.g.
 * ECR's "now the only tag") is `stale` — reported, never a failure of the run — anything else `failed`.
 */
function outcomeOfError(error: unknown): Outcome {
  return error instanceof StalePlanError ? 'stale' : 'failed';
}

function messageOf(error: unknown): string {
  if (isRegplanError(error)) return error.hint ? `${error.message} (hint: ${error.hint})` : error.message;
  return error instanceof Error ? error.message : String(error);
}
