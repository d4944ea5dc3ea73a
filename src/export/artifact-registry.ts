/**
 * Compiles a cleanup policy to Artifact Registry cleanup policies: the `cleanupPolicies` of a repository
 * (REST `CleanupPolicy`: id, action DELETE | KEEP, condition {tagState TAGGED | UNTAGGED | ANY, tagPrefixes,
 * packageNamePrefixes, olderThan, newerThan} or mostRecentVersions {packageNamePrefixes, keepCount}).
 *
 * Artifact Registry's language (https://cloud.google.com/artifact-registry/docs/repositories/cleanup-policy-overview
 * and cleanup-policy): DELETE policies select versions; KEEP policies exempt versions from deletion — "when an
 * artifact matches the criteria for both a delete policy and a keep policy, the artifact is kept". A version is an
 * image (digest); deleting it removes every tag on it. Conditions AND their fields; `tagPrefixes` match any prefix.
 * Durations are REST Durations (`86400s`). At most 10 policies per repository.
 *
 * Mapping: tags keeps -> KEEP tagPrefixes (the literal start of each alternative: a superset), signature tags ->
 * KEEP tagPrefixes `sha256-`, pushedWithin -> KEEP newerThan, then DELETE tagged versions older than grace.
 * `newest` is not exported: mostRecentVersions counts signature versions too, so it could keep fewer images.
 *
 * Safety choice for Artifact Registry: DROP, as for ECR. KEEP policies only ever keep more; the DELETE of tagged
 * versions is dropped when a keep rule cannot be written as a KEEP (semver, gitRefs, listed, inUse, pulledWithin,
 * groupBy, newest, a pattern with no literal prefix) or when delete.tags is set (a version is
 * deleted with all its tags). Untagged versions are never deleted (signatures and index children, see keep-rules.ts).
 * With no DELETE left the export is `unsafe`.
 */
import type { Policy } from '../config/types.ts';
import { dynamicRuleReason, graceLabel, labelledRules, UNTAGGED_REFERRERS_REASON } from './keep-rules.ts';
import { prefixes, REFERRER_TAG_PREFIX } from './patterns.ts';
import { daysCovering, type Limitation, type PolicyExport } from './types.ts';

/** One cleanup policy. */
export interface ArtifactRegistryCleanupPolicy {
  id: string;
  action: 'DELETE' | 'KEEP';
  condition?: {
    tagState?: 'TAGGED' | 'UNTAGGED' | 'ANY';
    tagPrefixes?: string[];
    packageNamePrefixes?: string[];
    olderThan?: string;
    newerThan?: string;
  };
  mostRecentVersions?: { packageNamePrefixes?: string[]; keepCount: number };
}

/** Artifact Registry's limit of cleanup policies per repository. */
export const AR_MAX_POLICIES = 10;

const seconds = (ms: number): string => `${Math.ceil(ms / 1000)}s`;

/** Compiles `policy` for one image (package `packageName`) of an Artifact Registry repository. */
export function compileArtifactRegistry(policy: Policy, options: { repo: string; packageName: string; graceMs: number }): PolicyExport {
  const limitations: Limitation[] = [];
  const notes: string[] = [];
  const drop = (rule: string, reason: string) => limitations.push({ rule, reason, effect: 'DELETE of tagged versions dropped' });
  const packageNamePrefixes = [options.packageName];
  const policies: ArtifactRegistryCleanupPolicy[] = [];
  for (const { index, label, rule } of labelledRules(policy)) {
    const dynamic = dynamicRuleReason(rule);
    if (dynamic !== undefined) drop(label, dynamic);
    else if (rule.kind === 'tags') {
      const list = prefixes(rule.pattern, 'cover');
      if (list === undefined) drop(label, `${JSON.stringify(rule.pattern)} has an alternative without a literal prefix; tagPrefixes matches prefixes only`);
      else {
        policies.push({ id: `regplan-keep-${index}-tags`, action: 'KEEP', condition: { tagState: 'TAGGED', tagPrefixes: list, packageNamePrefixes } });
        if (prefixes(rule.pattern, 'exact') === undefined) notes.push(`${label}: ${JSON.stringify(rule.pattern)} is kept as the prefixes ${list.join(', ')}, which keeps more tags than regplan does`);
      }
    } else if (rule.kind === 'newest') {
      if (rule.count > 0) drop(label, 'mostRecentVersions counts every version of the package, signature and attestation versions (sha256-… tags) included, which regplan\'s newest does not count; it could keep fewer images');
    } else if (rule.kind === 'pushedWithin') {
      policies.push({ id: `regplan-keep-${index}-pushed-within`, action: 'KEEP', condition: { tagState: 'ANY', packageNamePrefixes, newerThan: seconds(rule.durationMs) } });
    }
  }
  policies.push({ id: 'regplan-keep-referrer-tags', action: 'KEEP', condition: { tagState: 'TAGGED', tagPrefixes: [REFERRER_TAG_PREFIX], packageNamePrefixes } });
  if (policy.deleteTags !== undefined) drop('delete.tags', 'Artifact Registry deletes a version with every tag on it: a tag outside delete.tags (which regplan keeps) on the same version would be deleted too');
  if (policy.untagged === 'delete') limitations.push({ rule: 'untagged: delete', reason: UNTAGGED_REFERRERS_REASON, effect: 'untagged versions are not deleted' });
  const deleting = limitations.every((l) => l.effect !== 'DELETE of tagged versions dropped');
  if (deleting) {
    policies.push({
      id: 'regplan-delete-tagged',
      action: 'DELETE',
      condition: { tagState: 'TAGGED', packageNamePrefixes, olderThan: `${daysCovering(options.graceMs) * 86_400}s` },
    });
    notes.push(`${graceLabel(options.graceMs)}: the DELETE takes only versions older than ${daysCovering(options.graceMs)} day(s) (grace rounded up to whole days, at least one)`);
  }
  notes.push(`packageNamePrefixes matches by prefix: every package of the repository whose name starts with "${options.packageName}" follows these policies`);
  if (policies.length > AR_MAX_POLICIES) drop('keep', `Artifact Registry allows at most ${AR_MAX_POLICIES} cleanup policies per repository; this policy needs ${policies.length}`);
  if (!deleting || policies.length > AR_MAX_POLICIES) {
    return { repo: options.repo, registry: 'gcr', status: 'unsafe', format: 'artifact-registry-cleanup-policies', limitations, notes };
  }
  return {
    repo: options.repo,
    registry: 'gcr',
    status: 'exported',
    format: 'artifact-registry-cleanup-policies',
    policy: policies,
    install: 'PATCH https://artifactregistry.googleapis.com/v1/projects/P/locations/L/repositories/R?updateMask=cleanupPolicies with {"cleanupPolicies": {<id>: <policy>, …}}',
    limitations,
    notes,
  };
}
