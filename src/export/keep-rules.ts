/**
 * The keep rules of a policy as the export compilers see them: each with its label (`keep[2] semver`) and, for
 * the rules no registry lifecycle language can express, the reason in words. Those rules keep a set that is only
 * known at plan time (a file, a cluster, git, version order, per-group ranks, pull records), so a server-side rule
 * running between regplan runs cannot know what they keep.
 */
import type { KeepRule, Policy } from '../config/types.ts';
import { formatDuration } from '../plan/durations.ts';
import { ruleLabel } from './types.ts';

/** A keep rule with its position and label. */
export interface LabelledRule<K extends KeepRule['kind'] = KeepRule['kind']> {
  index: number;
  label: string;
  rule: Extract<KeepRule, { kind: K }>;
}

/** Every keep rule of a policy, labelled. */
export const labelledRules = (policy: Policy): LabelledRule[] =>
  policy.keep.map((rule, index) => ({ index, label: ruleLabel(index, rule.kind), rule }) as LabelledRule);

/**
 * Why no lifecycle language can express this keep rule, or undefined when some can (tags, newest and
 * pushedWithin without groupBy). Registry-specific limits (pattern syntax, counts) are the compilers' business.
 */
export function dynamicRuleReason(rule: KeepRule): string | undefined {
  switch (rule.kind) {
    case 'semver':
      return 'keeps the newest versions per major/minor in semantic-version order, which no lifecycle rule compares';
    case 'gitRefs':
      return `keeps tags naming live branches, tags and the last ${rule.commits} commits of ${rule.repo}, read from git at plan time`;
    case 'listed':
      return `keeps the tags listed in ${rule.file}, read at plan time`;
    case 'inUse':
      return 'keeps images that running workloads use (by tag and by digest), read at plan time';
    case 'pulledWithin':
      return `keeps tags pulled within ${rule.text} and every tag whose pull time is unknown (never recorded), which no server-side pull rule keeps`;
    case 'newest':
    case 'pushedWithin':
      return rule.groupBy === undefined ? undefined : `counts per group captured by ${JSON.stringify(rule.groupBy)}, which no lifecycle rule can group by`;
    case 'tags':
      return undefined;
  }
}

/** The grace window as a rule label and its text. */
export const graceLabel = (graceMs: number): string => `settings.grace ${formatDuration(graceMs)}`;

/** The shared reason an untagged-manifest rule cannot be exported where the registry counts referrers and index children as images. */
export const UNTAGGED_REFERRERS_REASON =
  'regplan keeps untagged signatures, attestations and SBOMs of kept images and the children of kept multi-arch indexes; ' +
  'the registry counts them as plain untagged images and would remove them';
