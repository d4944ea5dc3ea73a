/**
 * Compiles a cleanup policy to a GitLab project cleanup policy: the `container_expiration_policy_attributes`
 * payload of `PUT /projects/:id` (https://docs.gitlab.com/api/projects/#edit-a-project).
 *
 * GitLab's language (https://docs.gitlab.com/user/packages/container_registry/reduce_container_registry_storage/,
 * "How the cleanup policy works"): per container repository of the project, collect the tags; exclude `latest`;
 * keep only those matching `name_regex_delete`; order by creation; exclude the `keep_n` most recent (1, 5, 10, 25,
 * 50 or 100); exclude those newer than `older_than` (7d, 14d, 30d, 60d, 90d); exclude those matching
 * `name_regex_keep`; delete the rest (by tag: a manifest shared with a kept tag stays). Regexes are RE2, wrapped in
 * \A…\Z by GitLab, so regplan's unanchored patterns become `.*(?:P).*` (patterns.ts). `cadence`: 1d, 7d, 14d,
 * 1month, 3month.
 *
 * This maps regplan closely: delete.tags -> name_regex_delete, tags keeps -> name_regex_keep (a union),
 * newest -> keep_n rounded UP to an allowed value (counted among the delete-scope tags, which ranks every tag at
 * least as high as regplan's count over all tags), pushedWithin and grace -> older_than rounded UP. Keeping more
 * is safe; keeping less is not. Signature tags (`sha256-…`) follow their subject in regplan, so they are always in
 * name_regex_keep, and kept out of name_regex_delete (spelt as an RE2 complement) so keep_n never counts them.
 *
 * Safety choice for GitLab: UNSAFE. A project has one policy; a keep rule it cannot express (semver, gitRefs,
 * listed, inUse, pulledWithin, groupBy, a newest scoped to other tags than delete.tags, a count over 100, an age
 * over 90 days) cannot be dropped without deleting what that rule keeps, so the export prints no policy.
 */
import type { Policy } from '../config/types.ts';
import { dynamicRuleReason, graceLabel, labelledRules } from './keep-rules.ts';
import { excludesReferrerTags, NOT_REFERRER_TAG_REGEX, REFERRER_TAG_PREFIX, wholeTagRegex } from './patterns.ts';
import type { Limitation, PolicyExport } from './types.ts';

/** The API payload (attributes of the project's container_expiration_policy). */
export interface GitlabCleanupPolicy {
  container_expiration_policy_attributes: {
    enabled: boolean;
    cadence: '1d' | '7d' | '14d' | '1month' | '3month';
    /** null = no count (sent explicitly: a PUT without keep_n leaves the project's old value, 10 by default). */
    keep_n: number | null;
    older_than: string;
    name_regex_delete: string;
    name_regex_keep: string;
  };
}

/** keep_n values GitLab accepts. */
export const GITLAB_KEEP_N = [1, 5, 10, 25, 50, 100] as const;
/** older_than values GitLab accepts, in days. */
export const GITLAB_OLDER_THAN_DAYS = [7, 14, 30, 60, 90] as const;
const DAY = 86_400_000;

/** Compiles `policy` for the GitLab project holding the repo. */
export function compileGitlab(policy: Policy, options: { repo: string; graceMs: number }): PolicyExport {
  const limitations: Limitation[] = [];
  const notes: string[] = [];
  const unsafe = (rule: string, reason: string) => limitations.push({ rule, reason, effect: 'no policy exported' });
  const keeps: string[] = [];
  let keepN = 0;
  let ageMs = options.graceMs;
  for (const { label, rule } of labelledRules(policy)) {
    const dynamic = dynamicRuleReason(rule);
    if (dynamic !== undefined) unsafe(label, dynamic);
    else if (rule.kind === 'tags') keeps.push(wholeTagRegex(rule.pattern));
    else if (rule.kind === 'newest') {
      if (rule.tags !== undefined && rule.tags !== policy.deleteTags) {
        unsafe(label, `keep_n counts among the tags name_regex_delete selects; a newest scoped to ${JSON.stringify(rule.tags)} (not delete.tags) ranks differently`);
      } else keepN = Math.max(keepN, rule.count);
    } else if (rule.kind === 'pushedWithin') ageMs = Math.max(ageMs, rule.durationMs);
  }
  // keep_n ranks every tag name_regex_delete selects: signature tags (sha256-…), which regplan's newest never
  // counts, must be outside it, or they would take places in the count.
  if (keepN > 0 && policy.deleteTags !== undefined && !excludesReferrerTags(policy.deleteTags)) {
    unsafe('newest', `keep_n ranks every tag name_regex_delete selects, and delete.tags ${JSON.stringify(policy.deleteTags)} may select signature tags (sha256-…), which regplan's newest does not count`);
  }
  const keepNValue = keepN === 0 ? undefined : GITLAB_KEEP_N.find((n) => n >= keepN);
  if (keepN > 0 && keepNValue === undefined) unsafe('newest', `keep_n is at most 100; the policy keeps the ${keepN} newest`);
  else if (keepNValue !== undefined && keepNValue !== keepN) notes.push(`keep_n ${keepNValue}: GitLab accepts only ${GITLAB_KEEP_N.join(', ')}, so the ${keepN} newest are rounded up`);
  const days = GITLAB_OLDER_THAN_DAYS.find((d) => d * DAY >= ageMs);
  if (days === undefined) unsafe(ageMs === options.graceMs ? graceLabel(options.graceMs) : 'pushedWithin', `older_than is at most 90d; the policy keeps tags for ${Math.ceil(ageMs / DAY)} days`);
  else if (days * DAY > ageMs) notes.push(`older_than ${days}d: GitLab accepts only ${GITLAB_OLDER_THAN_DAYS.map((d) => `${d}d`).join(', ')}, so tags are kept at least ${days} days (pushedWithin and grace rounded up)`);
  if (policy.untagged === 'delete') {
    limitations.push({ rule: 'untagged: delete', reason: 'a GitLab cleanup policy deletes tags only; untagged manifests go with the registry\'s garbage collection', effect: 'not exported (GitLab keeps them until its garbage collection)' });
  }
  notes.push('GitLab never deletes the tag "latest" and deletes tags only (a manifest shared with a kept tag stays)');
  notes.push('one policy covers every container repository of the project: install it only if all of them follow this policy');
  if (limitations.some((l) => l.effect === 'no policy exported') || days === undefined) {
    return { repo: options.repo, registry: 'gitlab', status: 'unsafe', format: 'gitlab-cleanup-policy', limitations, notes };
  }
  const attributes: GitlabCleanupPolicy['container_expiration_policy_attributes'] = {
    enabled: true,
    cadence: '1d',
    keep_n: keepNValue ?? null,
    older_than: `${days}d`,
    name_regex_delete: policy.deleteTags === undefined ? NOT_REFERRER_TAG_REGEX : wholeTagRegex(policy.deleteTags),
    name_regex_keep: [...keeps, `${REFERRER_TAG_PREFIX}.*`].join('|'),
  };
  return {
    repo: options.repo,
    registry: 'gitlab',
    status: 'exported',
    format: 'gitlab-cleanup-policy',
    policy: { container_expiration_policy_attributes: attributes } satisfies GitlabCleanupPolicy,
    install: 'curl --request PUT --header "PRIVATE-TOKEN: $TOKEN" --header "Content-Type: application/json" --data @policy.json "https://gitlab.example.com/api/v4/projects/ID"',
    limitations,
    notes,
  };
}
