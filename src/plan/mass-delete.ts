/**
 * The circuit breaker (settings.maxDeletions): counts what a plan deletes — tag deletions, untags and untagged
 * manifests, each one — per repo and in total, against the config's limits. A count is compared as it is; a
 * percentage against the repo's size as the plan saw it (its tags, kept, skipped or deleted, plus the untagged
 * manifests it deletes), or the whole plan's. Pure: plan and apply both ask it, apply on the saved plan, so a plan
 * made with --allow-mass-delete still needs the flag to be applied.
 */
import type { DeletionLimit, Settings } from '../config/types.ts';
import { RegplanError } from '../errors.ts';
import type { Plan } from './types.ts';

/** One limit a plan goes over. */
export interface MassDeletion {
  /** The repo, or undefined for the whole plan. */
  repo?: string;
  deletions: number;
  size: number;
  limit: DeletionLimit;
}

/** Every limit the plan goes over: repos sorted by address, the whole plan last; empty when within limits. */
export function massDeletions(plan: Pick<Plan, 'actions' | 'kept' | 'skipped'>, limits: Settings['maxDeletions']): MassDeletion[] {
  if (limits === undefined) return [];
  const repos = new Map<string, { deletions: number; size: number }>();
  const count = (repo: string) => {
    let entry = repos.get(repo);
    if (entry === undefined) repos.set(repo, (entry = { deletions: 0, size: 0 }));
    return entry;
  };
  for (const action of plan.actions) {
    if (action.type !== 'delete') continue;
    const entry = count(action.repo);
    entry.deletions++;
    entry.size++;
  }
  for (const entry of plan.kept) count(entry.repo).size++;
  // skipped tags count (shared manifests, invalid names); a refused bundle push (no digest) is not a registry tag
  for (const entry of plan.skipped) if (entry.digest !== undefined || ('kind' in entry && entry.kind === 'tag')) count(entry.repo).size++;
  const over: MassDeletion[] = [];
  if (limits.repo !== undefined) {
    for (const [repo, { deletions, size }] of [...repos].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (exceeds(deletions, size, limits.repo)) over.push({ repo, deletions, size, limit: limits.repo });
    }
  }
  if (limits.total !== undefined) {
    const deletions = [...repos.values()].reduce((sum, r) => sum + r.deletions, 0);
    const size = [...repos.values()].reduce((sum, r) => sum + r.size, 0);
    if (exceeds(deletions, size, limits.total)) over.push({ deletions, size, limit: limits.total });
  }
  return over;
}

function exceeds(deletions: number, size: number, limit: DeletionLimit): boolean {
  if ('count' in limit) return deletions > limit.count;
  return size > 0 && (deletions / size) * 100 > limit.percent;
}

/** `acme/api: 140 of 150 (93%) > maxDeletions 30%` — one line per limit gone over. */
export function describeMassDeletion(entry: MassDeletion): string {
  const share = entry.size === 0 ? '' : ` (${Math.round((entry.deletions / entry.size) * 100)}%)`;
  const limit = 'count' in entry.limit ? String(entry.limit.count) : `${entry.limit.percent}%`;
  return `${entry.repo ?? 'whole plan'}: ${entry.deletions} deletion${entry.deletions === 1 ? '' : 's'} of ${entry.size}${share}, over maxDeletions ${entry.repo === undefined ? 'total' : 'per repo'} ${limit}`;
}

/** A plan over settings.maxDeletions without --allow-mass-delete; carries the plan so `plan` can still show it. */
export class MassDeletionError extends RegplanError {
  readonly plan: Plan;
  constructor(plan: Plan, over: readonly MassDeletion[], when: 'plan' | 'apply') {
    super(`the plan deletes more than settings.maxDeletions allows (${over.map(describeMassDeletion).join('; ')})`, {
      hint: when === 'plan'
        ? 'review the plan above; if it is right, run again with --allow-mass-delete (or raise settings.maxDeletions)'
        : 'review the plan; if it is right, run apply with --allow-mass-delete (or raise settings.maxDeletions and make a fresh plan)',
    });
    this.plan = plan;
  }
}

/**
 * The breaker: throws MassDeletionError when the plan goes over a limit and the user did not allow it; when they
 * did, returns the warning lines to show.
 */
export function guardMassDeletion(plan: Plan, limits: Settings['maxDeletions'], options: { allowed: boolean; when: 'plan' | 'apply' }): string[] {
  const over = massDeletions(plan, limits);
  if (over.length === 0) return [];
  if (!options.allowed) throw new MassDeletionError(plan, over, options.when);
  return over.map((entry) => `--allow-mass-delete: ${describeMassDeletion(entry)}`);
}
