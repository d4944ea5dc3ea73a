/**
 * Puts a plan file together from what the evaluators decided (cleanup now, bundle pushes later) and the facts
 * apply re-checks: format version, regplan version, config digest. Pure: the creation time comes in as data.
 */
import { REGPLAN_VERSION } from '../version.ts';
import type { Action, Kept, Plan, PlanNote, PlanShard, PlanSkippedEntry, PlanSummary, ReclaimEstimate, RepoExpansion } from './types.ts';

/** Counts for the closing `Plan: …` line. */
export function summarizePlan(parts: { actions: readonly Action[]; kept: readonly Kept[]; skipped: readonly PlanSkippedEntry[] }): PlanSummary {
  return {
    push: parts.actions.filter((action) => action.type === 'push').length,
    delete: parts.actions.filter((action) => action.type === 'delete').length,
    kept: parts.kept.length,
    skipped: parts.skipped.length,
  };
}

/** Builds the Plan; pushes are ordered before deletions (apply runs them first), each group keeping its order. */
export function assemblePlan(
  parts: { actions: readonly Action[]; kept: readonly Kept[]; skipped: readonly PlanSkippedEntry[]; notes?: readonly PlanNote[]; expansions?: readonly RepoExpansion[]; reclaimable?: readonly ReclaimEstimate[] },
  meta: { createdAt: Date; configDigest: string; regplanVersion?: string; shard?: PlanShard },
): Plan {
  const actions = [...parts.actions.filter((a) => a.type === 'push'), ...parts.actions.filter((a) => a.type === 'delete')];
  return {
    formatVersion: 1,
    regplanVersion: meta.regplanVersion ?? REGPLAN_VERSION,
    createdAt: meta.createdAt.toISOString(),
    configDigest: meta.configDigest,
    ...(meta.shard === undefined ? {} : { shard: meta.shard }),
    actions,
    kept: [...parts.kept],
    skipped: [...parts.skipped],
    ...(parts.notes === undefined || parts.notes.length === 0 ? {} : { notes: [...parts.notes] }),
    ...(parts.expansions === undefined ? {} : { expansions: [...parts.expansions] }),
    ...(parts.reclaimable === undefined || parts.reclaimable.length === 0 ? {} : { reclaimable: [...parts.reclaimable] }),
    summary: summarizePlan(parts),
  };
}
