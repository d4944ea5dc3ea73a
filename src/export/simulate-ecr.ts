/**
 * Runs an installed ECR lifecycle policy against a repo's inventory: which images would ECR expire, and by which
 * rule. The semantics are ECR's (lifecycle_policy_parameters.html, LifecyclePolicies.html "How lifecycle policies
 * work"): rules in rulePriority order; a tagged rule selects images having, for EVERY entry of tagPatternList
 * (wildcard `*`) or tagPrefixList, some tag that matches it; untagged selects images without tags; any selects
 * all; imageCountMoreThan N expires the selected images beyond the N most recently pushed, sinceImagePushed N days
 * those pushed more than N days ago; an image a higher-priority rule selected is never expired by a later rule.
 *
 * Where the documentation leaves room, the simulation errs towards expiring (drift must not be missed): a count
 * ranks every image its selection matches, including those an earlier rule already claimed; a rule with a count
 * type or action this module does not model (sinceImagePulled, transition to archive) is reported as expiring
 * everything it selects, unless its action is not `expire`.
 */
import { RegplanError } from '../errors.ts';

/** One image as the server sees it. */
export interface ServerImage {
  digest: string;
  tags: string[];
  /** Push time; undefined = unknown (treated as new: never expired by age, ranked newest). */
  pushedAt?: Date;
}

/** An image the policy would expire, and the rule that would. */
export interface Expiry {
  image: ServerImage;
  /** e.g. `rule 2 (priority 20, "keep 5 newest": tagged [*], imageCountMoreThan 5)`. */
  rule: string;
}

interface Rule {
  rulePriority: number;
  description?: string;
  selection: { tagStatus: string; tagPatternList?: string[]; tagPrefixList?: string[]; countType: string; countUnit?: string; countNumber: number };
  action: { type: string };
}

const DAY = 86_400_000;

/** Reads and checks the policy document; a malformed one is an error naming what is wrong. */
export function readEcrRules(document: unknown, subject: string): Rule[] {
  const rules = (document as { rules?: unknown } | null)?.rules;
  const bad = (what: string) => new RegplanError(`the ECR lifecycle policy of "${subject}" ${what}`, { hint: 'check it with "aws ecr get-lifecycle-policy" or regplan export-policy' });
  if (!Array.isArray(rules)) throw bad('has no "rules" list');
  return rules.map((raw, i) => {
    const rule = raw as Partial<Rule>;
    const s = rule.selection;
    if (typeof rule.rulePriority !== 'number' || s === undefined || typeof s.tagStatus !== 'string' || typeof s.countType !== 'string' || typeof s.countNumber !== 'number' || typeof rule.action?.type !== 'string') {
      throw bad(`has a malformed rule at rules[${i}] (rulePriority, selection.tagStatus/countType/countNumber and action.type are required)`);
    }
    return rule as Rule;
  }).sort((a, b) => a.rulePriority - b.rulePriority);
}

const wildcard = (pattern: string): RegExp => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

function selects(rule: Rule, image: ServerImage): boolean {
  const { tagStatus, tagPatternList, tagPrefixList } = rule.selection;
  if (tagStatus === 'any') return true;
  if (tagStatus === 'untagged') return image.tags.length === 0;
  if (image.tags.length === 0) return false;
  if (tagPatternList !== undefined) return tagPatternList.every((p) => image.tags.some((t) => wildcard(p).test(t)));
  if (tagPrefixList !== undefined) return tagPrefixList.every((p) => image.tags.some((t) => t.startsWith(p)));
  return true;
}

const describe = (rule: Rule, index: number): string => {
  const s = rule.selection;
  const which = s.tagPatternList ? ` [${s.tagPatternList.join(', ')}]` : s.tagPrefixList ? ` prefixes [${s.tagPrefixList.join(', ')}]` : '';
  const count = s.countType === 'sinceImagePushed' ? `sinceImagePushed ${s.countNumber} ${s.countUnit ?? 'days'}` : `${s.countType} ${s.countNumber}`;
  return `rule ${index + 1} (priority ${rule.rulePriority}${rule.description ? `, ${JSON.stringify(rule.description)}` : ''}: ${s.tagStatus}${which}, ${count})`;
};

/** The images `rules` would expire at `now`. */
export function simulateEcr(rules: readonly Rule[], images: readonly ServerImage[], now: Date): Expiry[] {
  const claimed = new Set<string>();
  const expiries: Expiry[] = [];
  rules.forEach((rule, index) => {
    const selected = images.filter((image) => selects(rule, image));
    const label = describe(rule, index);
    const { countType, countNumber } = rule.selection;
    let expiring: ServerImage[] = [];
    if (rule.action.type !== 'expire') expiring = [];
    else if (countType === 'imageCountMoreThan') {
      const newestFirst = [...selected].sort((a, b) => (b.pushedAt?.getTime() ?? Infinity) - (a.pushedAt?.getTime() ?? Infinity) || (a.digest < b.digest ? -1 : 1));
      expiring = newestFirst.slice(countNumber);
    } else if (countType === 'sinceImagePushed') {
      expiring = selected.filter((image) => image.pushedAt !== undefined && now.getTime() - image.pushedAt.getTime() > countNumber * DAY);
    } else {
      expiring = selected; // not modelled: assume the worst
    }
    for (const image of expiring) if (!claimed.has(image.digest)) expiries.push({ image, rule: countType === 'imageCountMoreThan' || countType === 'sinceImagePushed' ? label : `${label} [not simulated, assumed to expire what it selects]` });
    for (const image of selected) claimed.add(image.digest);
  });
  return expiries;
}
