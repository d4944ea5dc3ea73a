/**
 * `newest: N` keeps the N most recently pushed tags, optionally only among tags matching `tags` (an RE2 regex, see
 * tags.ts). Order: push time, newest first; a tag whose push time is unknown counts as newer than any known one
 * (unknown is treated as new everywhere); ties are broken by tag name (ascending) so a plan is deterministic.
 * Tags named like referrers (`sha256-<hex>.sig`, …) are never counted: they are not images.
 */
import { isReferrerTagName } from '../referrers.ts';
import { compileTagPattern } from '../../config/pattern.ts';
import type { RuleInput, RuleVerdicts } from './rule.ts';

/** Sort key for push times: unknown (or unparsable) sorts as +Infinity, i.e. newest. */
function pushTime(pushedAt: string | undefined): number {
  if (pushedAt === undefined) return Number.POSITIVE_INFINITY;
  const time = Date.parse(pushedAt);
  return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
}

/** Keeps the `count` newest tags in scope; label `newest N` or `newest N (<regex>)`. */
export function keepNewestTags(rule: { count: number; tags?: string }, input: RuleInput): RuleVerdicts {
  const scope = rule.tags === undefined ? undefined : compileTagPattern(rule.tags, 'a `newest` keep rule');
  const label = rule.tags === undefined ? `newest ${rule.count}` : `newest ${rule.count} (${rule.tags})`;
  const ranked = input.tags
    .filter((record) => !isReferrerTagName(record.tag) && (scope === undefined || scope.test(record.tag)))
    .map((record) => ({ tag: record.tag, time: pushTime(record.pushedAt) }))
    .sort((a, b) => {
      if (a.time !== b.time) return a.time > b.time ? -1 : 1;
      return a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0;
    });
  const kept: RuleVerdicts = new Map();
  for (const entry of ranked.slice(0, Math.max(0, rule.count))) kept.set(entry.tag, label);
  return kept;
}
