/**
 * `tags: <regex>` keeps every tag the regex matches. The regex uses RE2 syntax (config/pattern.ts: linear-time
 * matching, no backreferences or lookaround), exactly as written, without flags and without implicit anchors:
 * `^v\d+` matches `v1` and `v1-rc`, `main` matches `main-1` and `not-main`. Write `^…$` to match whole tags.
 * The same applies to `newest.tags` and `delete.tags`.
 */
import { compileTagPattern } from '../../config/pattern.ts';
import type { RuleInput, RuleVerdicts } from './rule.ts';

/** Keeps the tags matching `pattern`; label `tags <pattern>`. */
export function keepMatchingTags(rule: { pattern: string }, input: RuleInput): RuleVerdicts {
  const regex = compileTagPattern(rule.pattern, 'a `tags` keep rule');
  const label = `tags ${rule.pattern}`;
  const kept: RuleVerdicts = new Map();
  for (const record of input.tags) if (regex.test(record.tag)) kept.set(record.tag, label);
  return kept;
}
