/**
 * `tags: <regex>` keeps every tag the regex matches. The regex is a JavaScript RegExp used exactly as written,
 * without flags and without implicit anchors: `^v\d+` matches `v1` and `v1-rc`, `main` matches `main-1` and
 * `not-main`. Write `^…$` to match whole tags. The same applies to `newest.tags` and `delete.tags`.
 */
import { RegplanError } from '../../errors.ts';
import type { RuleInput, RuleVerdicts } from './rule.ts';

/** Compiles a tag regex from the config; a bad one refuses the plan (config validation normally catches it first). */
export function compileTagPattern(pattern: string, where: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new RegplanError(`invalid regex ${JSON.stringify(pattern)} in ${where}`, {
      hint: 'fix the pattern in registry.config.yaml; it is a JavaScript regular expression, e.g. ^v\\d+\\.\\d+\\.\\d+$',
      cause: error,
    });
  }
}

/** Keeps the tags matching `pattern`; label `tags <pattern>`. */
export function keepMatchingTags(rule: { pattern: string }, input: RuleInput): RuleVerdicts {
  const regex = compileTagPattern(rule.pattern, 'a `tags` keep rule');
  const label = `tags ${rule.pattern}`;
  const kept: RuleVerdicts = new Map();
  for (const record of input.tags) if (regex.test(record.tag)) kept.set(record.tag, label);
  return kept;
}
