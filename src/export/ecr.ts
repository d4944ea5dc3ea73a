/**
 * Compiles a cleanup policy to an AWS ECR lifecycle policy (the JSON `PutLifecyclePolicy` takes as
 * `lifecyclePolicyText`).
 *
 * ECR's language (https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html and
 * lifecycle_policy_examples.html): rules with a unique `rulePriority` (lowest first; a `tagStatus: any` rule must
 * come last); `selection.tagStatus` tagged | untagged | any; for tagged, `tagPatternList` (wildcards `*`, at most
 * four per string) or `tagPrefixList` — several entries select only images that have ALL of them (AND, not OR);
 * `countType` imageCountMoreThan (countNumber) or sinceImagePushed (countUnit days, countNumber); `action.type`
 * expire, which deletes the image with every tag on it. "An image that matches the tagging requirements of a
 * higher priority rule cannot be expired by a rule with a lower priority" (LifecyclePolicies.html, "How lifecycle
 * policies work"): that is how regplan's keep rules become ECR rules — a protecting rule selects the kept tags and
 * never fires (sinceImagePushed 36500 days), so no later rule can expire those images.
 *
 * The compiled shape: protecting rules (one per wildcard of each `tags` keep rule, read as a superset, plus
 * `sha256-*` for signature tags), then one expiring rule over the rest: `sinceImagePushed D` with D = the longest
 * of pushedWithin and grace, rounded up to whole days.
 *
 * Safety choice for ECR: DROP. Rules stand alone, so a keep rule ECR cannot express drops the tagged expiring rules
 * (they would weaken it); when nothing safe is left the export is `unsafe`. Dropped always: untagged expiry (ECR
 * counts signatures and index children as untagged images, aws/containers-roadmap#2613), and every tagged rule when
 * `delete.tags` is set (ECR expires an image with all its tags, so a kept tag outside the scope on the same image
 * would go too), and every tagged rule when the policy has a `newest` rule (see COUNT_REASON).
 */
import type { Policy } from '../config/types.ts';
import { dynamicRuleReason, labelledRules, UNTAGGED_REFERRERS_REASON } from './keep-rules.ts';
import { wildcards } from './patterns.ts';
import { daysCovering, type Limitation, type PolicyExport } from './types.ts';

/** One ECR lifecycle rule. */
export interface EcrLifecycleRule {
  rulePriority: number;
  description: string;
  selection: {
    tagStatus: 'tagged' | 'untagged' | 'any';
    tagPatternList?: string[];
    tagPrefixList?: string[];
    countType: 'imageCountMoreThan' | 'sinceImagePushed';
    countUnit?: 'days';
    countNumber: number;
  };
  action: { type: 'expire' };
}

/** The lifecycle policy document. */
export interface EcrLifecyclePolicy {
  rules: EcrLifecycleRule[];
}

/** Days a protecting rule waits: no image is a hundred years old, so the rule never expires one. */
export const NEVER_DAYS = 36500;
/**
 * Why `newest` is never exported to ECR: a count rule ranks every image its selection matches, including images an
 * earlier rule protects (lifecycle_policy_examples.html, "Filtering on multiple rules", Example A: rule 2 marks
 * image B although rule 1 keeps it), so signature and attestation images (`sha256-…` tags) take places in the
 * count; regplan's newest counts neither those nor images the count would share with them.
 */
const COUNT_REASON = 'ECR\'s imageCountMoreThan ranks every tagged image it selects, signature and attestation images (sha256-… tags) and images protected by earlier rules included (lifecycle_policy_examples.html, Example A); regplan\'s newest does not count referrers, so ECR could keep fewer';
/** ECR's limit of wildcards per tagPatternList string. */
const MAX_STARS = 4;

/** Compiles `policy` for one ECR repository. */
export function compileEcr(policy: Policy, options: { repo: string; graceMs: number }): PolicyExport {
  const limitations: Limitation[] = [];
  const notes: string[] = [];
  const drop = (rule: string, reason: string) => limitations.push({ rule, reason, effect: 'tagged expiring rules dropped' });
  const protect: { patterns: string[]; why: string }[] = [{ patterns: ['sha256-*'], why: 'signature, attestation and SBOM tags follow their subject in regplan' }];
  let ageMs = 0;

  for (const { label, rule } of labelledRules(policy)) {
    const dynamic = dynamicRuleReason(rule);
    if (dynamic !== undefined) {
      drop(label, dynamic);
      continue;
    }
    if (rule.kind === 'tags') {
      const list = wildcards(rule.pattern, 'cover', MAX_STARS);
      if (list === undefined) drop(label, `${JSON.stringify(rule.pattern)} cannot be written as ECR wildcards (* only, at most ${MAX_STARS} per pattern)`);
      else {
        protect.push({ patterns: list, why: `${label} ${rule.pattern}` });
        const exact = wildcards(rule.pattern, 'exact', MAX_STARS);
        if (exact === undefined) notes.push(`${label}: ${JSON.stringify(rule.pattern)} is protected as ${list.join(', ')}, which keeps more tags than regplan does`);
      }
    } else if (rule.kind === 'newest') {
      if (rule.count === 0) notes.push(`${label}: newest 0 keeps nothing`);
      else drop(label, COUNT_REASON);
    } else if (rule.kind === 'pushedWithin') {
      ageMs = Math.max(ageMs, rule.durationMs);
    }
  }
  if (policy.deleteTags !== undefined) {
    drop('delete.tags', 'ECR expires an image with every tag on it: a tag outside delete.tags (which regplan keeps) on the same image would be deleted too, and a wildcard cannot select "images whose tags all match"');
  }
  if (policy.untagged === 'delete') limitations.push({ rule: 'untagged: delete', reason: UNTAGGED_REFERRERS_REASON, effect: 'untagged expiry not exported (ECR keeps untagged images)' });

  const rules: EcrLifecycleRule[] = [];
  const add = (description: string, selection: EcrLifecycleRule['selection']) =>
    rules.push({ rulePriority: rules.length + 1, description, selection, action: { type: 'expire' } });
  const tagged = limitations.every((l) => l.effect !== 'tagged expiring rules dropped');
  if (tagged) {
    for (const { patterns, why } of protect) {
      for (const pattern of patterns) add(`regplan keeps: ${why} (never expires)`, { tagStatus: 'tagged', tagPatternList: [pattern], countType: 'sinceImagePushed', countUnit: 'days', countNumber: NEVER_DAYS });
    }
    const days = daysCovering(Math.max(ageMs, options.graceMs));
    const why = ageMs > 0 ? `pushedWithin and grace, rounded up to ${days} days` : `older than the grace window (at least 1 day)`;
    add(`tags outside every keep rule, ${why}`, { tagStatus: 'tagged', tagPatternList: ['*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: days });
    notes.push('ECR ages images, not tags: an image stays while any of its tags is protected');
  }
  const expiring = rules.filter((r) => r.selection.countNumber !== NEVER_DAYS);
  if (expiring.length === 0) {
    return { repo: options.repo, registry: 'ecr', status: 'unsafe', format: 'ecr-lifecycle-policy', limitations, notes };
  }
  return {
    repo: options.repo,
    registry: 'ecr',
    status: 'exported',
    format: 'ecr-lifecycle-policy',
    policy: { rules } satisfies EcrLifecyclePolicy,
    install: 'aws ecr put-lifecycle-policy --repository-name NAME --lifecycle-policy-text file://policy.json',
    limitations,
    notes,
  };
}
