/**
 * `pushedWithin: 14d` keeps tags pushed within the window before `now` (inclusive; a push time in the future,
 * from clock skew, counts as within). A tag with an unknown push time is not kept by this rule: the evaluator
 * already keeps every such tag as "push time unknown".
 * With `groupBy` (groups.ts) a group is judged as a whole: every tag of a group whose newest tag was pushed within
 * the window is kept ("keep every build of a PR that saw a push this week"); a member with an unknown push time
 * makes its group count as recent (the safer reading: it keeps more).
 */
import { ageMs } from '../durations.ts';
import { groupLabel, groupTags } from './groups.ts';
import type { RuleInput, RuleVerdicts } from './rule.ts';

/** Keeps tags pushed at most `durationMs` ago; label `pushedWithin <text>` (per group: `… in group "12" of <regex>`). */
export function keepRecentlyPushed(rule: { durationMs: number; text: string; groupBy?: string }, input: RuleInput): RuleVerdicts {
  const label = `pushedWithin ${rule.text}`;
  const kept: RuleVerdicts = new Map();
  const recent = (pushedAt: string | undefined): boolean => {
    const age = ageMs(pushedAt, input.now);
    return age !== undefined && age <= rule.durationMs;
  };
  if (rule.groupBy === undefined) {
    for (const record of input.tags) if (recent(record.pushedAt)) kept.set(record.tag, label);
    return kept;
  }
  for (const [group, members] of groupTags(input.tags, rule.groupBy, 'a `pushedWithin` keep rule')) {
    if (!members.some((m) => ageMs(m.pushedAt, input.now) === undefined || recent(m.pushedAt))) continue;
    for (const member of members) kept.set(member.tag, groupLabel(label, group, rule.groupBy));
  }
  return kept;
}
