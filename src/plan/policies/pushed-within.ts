/**
 * `pushedWithin: 14d` keeps tags pushed within the window before `now` (inclusive; a push time in the future,
 * from clock skew, counts as within). A tag with an unknown push time is not kept by this rule: the evaluator
 * already keeps every such tag as "push time unknown".
 */
import { ageMs } from '../durations.ts';
import type { RuleInput, RuleVerdicts } from './rule.ts';

/** Keeps tags pushed at most `durationMs` ago; label `pushedWithin <text>`. */
export function keepRecentlyPushed(rule: { durationMs: number; text: string }, input: RuleInput): RuleVerdicts {
  const label = `pushedWithin ${rule.text}`;
  const kept: RuleVerdicts = new Map();
  for (const record of input.tags) {
    const age = ageMs(record.pushedAt, input.now);
    if (age !== undefined && age <= rule.durationMs) kept.set(record.tag, label);
  }
  return kept;
}
