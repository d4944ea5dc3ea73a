/**
 * Compiles a cleanup policy to Quay repository auto-prune policies (`POST /api/v1/repository/{repository}/autoprunepolicy/`
 * with {method, value, tagPattern, tagPatternMatches}).
 *
 * Quay's language (https://docs.redhat.com/en/documentation/red_hat_quay/3.15/html/manage_red_hat_quay/red-hat-quay-namespace-auto-pruning-overview
 * and the API reference, createRepositoryAutoPrunePolicy): `number_of_tags` keeps the N newest tags (by creation)
 * and deletes the rest; `creation_date` deletes tags older than a time delta (`7d`); `tagPattern` (a regex) with
 * `tagPatternMatches` true prunes only matching tags, false only the others. Several policies per repository each
 * prune on their own (their deletions add up). Quay deletes tags (they go to the time machine), not manifests.
 *
 * Mapping: one policy. Its filter: delete.tags (matches; it must rule out signature tags `sha256-…`, which follow
 * their subject in regplan) or the union of `tags` keeps and `^sha256-` (not matches) — not both, which one
 * pattern cannot say without lookaround. Its method: number_of_tags for a single newest (grace 0; the
 * count runs among the filtered tags, so it ranks every tag at least as high as regplan), else creation_date with
 * the longest of pushedWithin and grace, rounded up to days.
 *
 * Safety choice for Quay: UNSAFE. Extra policies only delete more, so a keep rule Quay cannot express cannot be
 * made up for: the export prints no policy.
 */
import type { Policy } from '../config/types.ts';
import { dynamicRuleReason, graceLabel, labelledRules } from './keep-rules.ts';
import { excludesReferrerTags, pythonCompatible, REFERRER_TAG_PREFIX, wholeTagRegex } from './patterns.ts';
import { daysCovering, type Limitation, type PolicyExport } from './types.ts';

/** One auto-prune policy. */
export interface QuayAutoPrunePolicy {
  method: 'number_of_tags' | 'creation_date';
  value: number | string;
  tagPattern?: string;
  tagPatternMatches?: boolean;
}

/** Compiles `policy` for one Quay repository. */
export function compileQuay(policy: Policy, options: { repo: string; graceMs: number }): PolicyExport {
  const limitations: Limitation[] = [];
  const notes: string[] = [];
  const unsafe = (rule: string, reason: string) => limitations.push({ rule, reason, effect: 'no policy exported' });
  const keeps: string[] = [];
  const counts: { count: number; label: string }[] = [];
  let ageMs = 0;
  for (const { label, rule } of labelledRules(policy)) {
    const dynamic = dynamicRuleReason(rule);
    if (dynamic !== undefined) unsafe(label, dynamic);
    else if (rule.kind === 'tags') {
      if (pythonCompatible(rule.pattern)) keeps.push(wholeTagRegex(rule.pattern));
      else unsafe(label, `${JSON.stringify(rule.pattern)} uses RE2 syntax Python's re (Quay) reads differently`);
    } else if (rule.kind === 'newest') {
      if (rule.tags !== undefined && rule.tags !== policy.deleteTags) unsafe(label, `number_of_tags counts the tags the policy's pattern selects; a newest scoped to ${JSON.stringify(rule.tags)} ranks differently`);
      else if (rule.count > 0) counts.push({ count: rule.count, label });
      else notes.push(`${label}: newest 0 keeps nothing`);
    } else if (rule.kind === 'pushedWithin') ageMs = Math.max(ageMs, rule.durationMs);
  }
  if (policy.deleteTags !== undefined && keeps.length > 0) unsafe('delete.tags', 'one tagPattern cannot both select delete.tags and exclude the tags keep rules keep');
  if (policy.deleteTags !== undefined && !excludesReferrerTags(policy.deleteTags)) unsafe('delete.tags', `${JSON.stringify(policy.deleteTags)} may select signature tags (sha256-…), which follow their subject in regplan; one tagPattern cannot also exclude them`);
  if (policy.deleteTags !== undefined && !pythonCompatible(policy.deleteTags)) unsafe('delete.tags', `${JSON.stringify(policy.deleteTags)} uses RE2 syntax Python's re (Quay) reads differently`);
  if (counts.length > 0 && ageMs > 0) unsafe(`${counts[0]?.label}, pushedWithin`, 'a Quay policy prunes by count or by age; several policies add their deletions, so "keep when either keeps" cannot be said');
  if (counts.length > 0 && options.graceMs > 0) unsafe(graceLabel(options.graceMs), 'number_of_tags prunes by rank whatever the age, so it could delete a tag pushed within the grace window');
  if (policy.untagged === 'delete') limitations.push({ rule: 'untagged: delete', reason: 'auto-prune works on tags; Quay garbage-collects manifests no tag holds after the time machine window', effect: 'not exported (left to Quay\'s garbage collection)' });
  notes.push('Quay deletes tags, not manifests (a manifest shared with a kept tag stays), and keeps deleted tags in its time machine');
  if (limitations.some((l) => l.effect === 'no policy exported')) {
    return { repo: options.repo, registry: 'quay', status: 'unsafe', format: 'quay-autoprune-policies', limitations, notes };
  }
  const filter: Pick<QuayAutoPrunePolicy, 'tagPattern' | 'tagPatternMatches'> =
    policy.deleteTags !== undefined
      ? { tagPattern: wholeTagRegex(policy.deleteTags), tagPatternMatches: true }
      : { tagPattern: [...keeps, wholeTagRegex(`^${REFERRER_TAG_PREFIX}`)].join('|'), tagPatternMatches: false };
  const count = counts.length === 0 ? undefined : Math.max(...counts.map((c) => c.count));
  const days = daysCovering(Math.max(ageMs, options.graceMs));
  const prune: QuayAutoPrunePolicy = count !== undefined ? { method: 'number_of_tags', value: count, ...filter } : { method: 'creation_date', value: `${days}d`, ...filter };
  return {
    repo: options.repo,
    registry: 'quay',
    status: 'exported',
    format: 'quay-autoprune-policies',
    policy: [prune],
    install: 'POST https://quay.io/api/v1/repository/NAMESPACE/REPO/autoprunepolicy/ with each policy as the JSON body',
    limitations,
    notes,
  };
}
