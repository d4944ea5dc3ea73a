/**
 * Runs a policy's keep rules: each rule kind lives in its own file; this maps a KeepRule to its function and
 * collects, per tag, the labels of every rule that kept it (in the policy's rule order).
 */
import type { KeepRule } from '../../config/types.ts';
import { keepGitRefTags } from './git-refs.ts';
import { keepInUseTags } from './in-use.ts';
import { keepListedTags } from './listed.ts';
import { keepNewestTags } from './newest.ts';
import { keepRecentlyPulled } from './pulled-within.ts';
import { keepRecentlyPushed } from './pushed-within.ts';
import { keepSemverTags } from './semver.ts';
import { keepMatchingTags } from './tags.ts';
import type { RuleInput, RuleVerdicts } from './rule.ts';

/** The tags one keep rule keeps, with its label. */
export function applyKeepRule(rule: KeepRule, input: RuleInput): RuleVerdicts {
  switch (rule.kind) {
    case 'tags':
      return keepMatchingTags(rule, input);
    case 'newest':
      return keepNewestTags(rule, input);
    case 'pushedWithin':
      return keepRecentlyPushed(rule, input);
    case 'pulledWithin':
      return keepRecentlyPulled(rule, input);
    case 'semver':
      return keepSemverTags(rule, input);
    case 'gitRefs':
      return keepGitRefTags(rule, input);
    case 'listed':
      return keepListedTags(rule, input);
    case 'inUse':
      return keepInUseTags(rule, input);
  }
}

/** Tag -> labels of every rule that keeps it (tags no rule keeps are absent). */
export function keepRuleLabels(rules: readonly KeepRule[], input: RuleInput): Map<string, string[]> {
  const labels = new Map<string, string[]>();
  for (const rule of rules) {
    for (const [tag, label] of applyKeepRule(rule, input)) labels.set(tag, [...(labels.get(tag) ?? []), label]);
  }
  return labels;
}
