/**
 * `newest: N` keeps the N most recently pushed tags, optionally only among tags matching `tags` (an RE2 regex, see
 * tags.ts). Order: push time, newest first; a tag whose push time is unknown counts as newer than any known one
 * (unknown is treated as new everywhere); ties are broken by tag name (ascending) so a plan is deterministic.
 * Tags named like referrers (`sha256-<hex>.sig`, …) are never counted: they are not images.
 * With `groupBy` (groups.ts) the N newest are kept in every group (per PR, per branch, per service); tags the
 * pattern does not match are not counted.
 */
import { isReferrerTagName } from '../referrers.ts';
import { compileTagPattern } from '../../config/pattern.ts';
import { groupTags, groupLabel, pushTime } from './groups.ts';
import type { RuleInput, RuleVerdicts } from './rule.ts';
import type { TagRecord } from '../../model/inventory.ts';

/** Keeps the `count` newest tags in scope; label `newest N`, `newest N (<regex>)`, or per group `newest N in group "12" of <regex>`. */
export function keepNewestTags(rule: { count: number; tags?: string; groupBy?: string }, input: RuleInput): RuleVerdicts {
  const scope = rule.tags === undefined ? undefined : compileTagPattern(rule.tags, 'a `newest` keep rule');
  const label = rule.tags === undefined ? `newest ${rule.count}` : `newest ${rule.count} (${rule.tags})`;
  const inScope = input.tags.filter((record) => !isReferrerTagName(record.tag) && (scope === undefined || scope.test(record.tag)));
  const kept: RuleVerdicts = new Map();
  if (rule.groupBy === undefined) {
    for (const tag of newestOf(inScope, rule.count)) kept.set(tag, label);
    return kept;
  }
  for (const [group, members] of groupTags(inScope, rule.groupBy, 'a `newest` keep rule')) {
    for (const tag of newestOf(members, rule.count)) kept.set(tag, groupLabel(label, group, rule.groupBy));
  }
  return kept;
}

/** The `count` newest tags of `records` (unknown push time first, ties by name). */
function newestOf(records: readonly TagRecord[], count: number): string[] {
  return records
    .map((record) => ({ tag: record.tag, time: pushTime(record.pushedAt) }))
    .sort((a, b) => {
      if (a.time !== b.time) return a.time > b.time ? -1 : 1;
      return a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0;
    })
    .slice(0, Math.max(0, count))
    .map((entry) => entry.tag);
}
