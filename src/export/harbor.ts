/**
 * Compiles a cleanup policy to Harbor tag retention rules: the retention policy JSON of `POST /retentions` /
 * `PUT /retentions/{id}` (Harbor API v2.0, `RetentionPolicy`: algorithm, rules[], trigger, scope).
 *
 * Harbor's language (https://goharbor.io/docs/latest/working-with-projects/working-with-images/create-tag-retention-rules/):
 * rules say what to RETAIN, joined by OR; in the repositories a rule's `scope_selectors` select, every artifact no
 * rule retains is deleted. A rule: `template` latestPushedK | latestPulledN | nDaysSinceLastPush |
 * nDaysSinceLastPull | always, its `params`, and `tag_selectors` (kind doublestar, decoration matches | excludes,
 * a pattern with `*` and `{a,b}`, extras `{"untagged":true}` to take untagged artifacts in too). At most 15 rules
 * per project.
 *
 * This is regplan's own model (a tag survives when any keep rule keeps it), so each keep rule becomes a retain
 * rule: tags -> always (pattern read as a superset), newest -> latestPushedK (scope read exactly), pushedWithin
 * and grace -> nDaysSinceLastPush (days rounded up), tags outside delete.tags -> always with `excludes` (read
 * exactly), signature tags (`sha256-*`, which follow their subject in regplan) -> always, untagged artifacts ->
 * always retained (see below).
 *
 * Safety choice for Harbor: UNSAFE. Whatever no rule retains is deleted, so a keep rule Harbor cannot express
 * cannot be dropped: the export prints no policy. Untagged artifacts are always retained, because regplan keeps
 * untagged signatures and index children of kept images and a retention rule cannot tell them apart
 * (`untagged: delete` is reported, not exported).
 */
import type { Policy } from '../config/types.ts';
import { dynamicRuleReason, labelledRules, UNTAGGED_REFERRERS_REASON } from './keep-rules.ts';
import { excludesReferrerTags, REFERRER_TAG_PREFIX, wildcards } from './patterns.ts';
import { daysCovering, type Limitation, type PolicyExport } from './types.ts';

/** One retention selector. */
export interface HarborSelector {
  kind: 'doublestar';
  decoration: 'matches' | 'excludes' | 'repoMatches' | 'repoExcludes';
  pattern: string;
  extras?: string;
}

/** One retention rule. */
export interface HarborRetentionRule {
  disabled: boolean;
  action: 'retain';
  template: 'latestPushedK' | 'latestPulledN' | 'nDaysSinceLastPush' | 'nDaysSinceLastPull' | 'always';
  params: Record<string, number>;
  tag_selectors: HarborSelector[];
  scope_selectors: { repository: HarborSelector[] };
}

/** The retention policy document. */
export interface HarborRetentionPolicy {
  algorithm: 'or';
  rules: HarborRetentionRule[];
  trigger: { kind: 'Schedule'; settings: { cron: string } };
  scope: { level: 'project'; ref: number };
}

/** Harbor's limit of retention rules per project. */
export const HARBOR_MAX_RULES = 15;

/** A doublestar pattern for a union of wildcards (`{a,b}` when several). */
const union = (list: readonly string[]): string => (list.length === 1 ? (list[0] as string) : `{${list.join(',')}}`);

/** Compiles `policy` for one Harbor repository (`project/repo…`); `projectId` fills scope.ref (0 when unknown). */
export function compileHarbor(policy: Policy, options: { repo: string; name: string; graceMs: number; projectId?: number }): PolicyExport {
  const limitations: Limitation[] = [];
  const notes: string[] = [];
  const unsafe = (rule: string, reason: string) => limitations.push({ rule, reason, effect: 'no policy exported' });
  const [project = '', ...rest] = options.name.split('/');
  const repository = rest.join('/');
  const rules: HarborRetentionRule[] = [];
  const retain = (template: HarborRetentionRule['template'], params: Record<string, number>, pattern: string, extras: { decoration?: 'matches' | 'excludes'; untagged?: boolean } = {}) =>
    rules.push({
      disabled: false,
      action: 'retain',
      template,
      params,
      tag_selectors: [{ kind: 'doublestar', decoration: extras.decoration ?? 'matches', pattern, extras: JSON.stringify({ untagged: extras.untagged ?? false }) }],
      scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: repository }] },
    });

  for (const { label, rule } of labelledRules(policy)) {
    const dynamic = dynamicRuleReason(rule);
    if (dynamic !== undefined) {
      unsafe(label, dynamic);
    } else if (rule.kind === 'tags') {
      const list = wildcards(rule.pattern, 'cover');
      if (list === undefined) unsafe(label, `${JSON.stringify(rule.pattern)} cannot be written as a doublestar pattern`);
      else {
        retain('always', {}, union(list));
        if (wildcards(rule.pattern, 'exact') === undefined) notes.push(`${label}: ${JSON.stringify(rule.pattern)} is retained as ${union(list)}, which keeps more tags than regplan does`);
      }
    } else if (rule.kind === 'newest') {
      // regplan's newest never counts signature tags: count every other tag (excludes sha256-*), or a scope that rules them out.
      const scope = rule.tags === undefined ? undefined : wildcards(rule.tags, 'exact');
      if (rule.tags === undefined) retain('latestPushedK', { latestPushedK: rule.count }, `${REFERRER_TAG_PREFIX}*`, { decoration: 'excludes' });
      else if (scope === undefined) unsafe(label, `its scope ${JSON.stringify(rule.tags)} cannot be written exactly as a doublestar pattern`);
      else if (!excludesReferrerTags(rule.tags)) unsafe(label, `its scope ${JSON.stringify(rule.tags)} may match signature tags (sha256-…), which Harbor would count and regplan does not`);
      else retain('latestPushedK', { latestPushedK: rule.count }, union(scope));
    } else if (rule.kind === 'pushedWithin') {
      retain('nDaysSinceLastPush', { nDaysSinceLastPush: daysCovering(rule.durationMs) }, '**');
    }
  }
  if (policy.deleteTags !== undefined) {
    const scope = wildcards(policy.deleteTags, 'exact');
    if (scope === undefined) unsafe('delete.tags', `${JSON.stringify(policy.deleteTags)} cannot be written exactly as a doublestar pattern, so the tags outside it (which regplan keeps) cannot be retained`);
    else retain('always', {}, union(scope), { decoration: 'excludes' });
  }
  // Signature tags, and (extras untagged) every untagged artifact: a '**' selector here would retain every tag.
  retain('always', {}, `${REFERRER_TAG_PREFIX}*`, { untagged: true });
  // The grace window, at least a day (also covers push times a little in the future, which the plan keeps).
  retain('nDaysSinceLastPush', { nDaysSinceLastPush: daysCovering(options.graceMs) }, '**');
  if (policy.untagged === 'delete') limitations.push({ rule: 'untagged: delete', reason: UNTAGGED_REFERRERS_REASON, effect: 'untagged artifacts are retained' });
  if (rules.length > HARBOR_MAX_RULES) unsafe('keep', `Harbor allows at most ${HARBOR_MAX_RULES} retention rules per project; this policy needs ${rules.length}`);
  notes.push('Harbor counts and ages artifacts: an artifact is retained while any of its tags is, and counting artifacts keeps at least as many tags as regplan\'s newest');
  notes.push(`a project has one retention policy: merge these rules (scoped to repository "${repository}") with those of project "${project}"'s other repositories`);
  if (limitations.some((l) => l.effect === 'no policy exported')) {
    return { repo: options.repo, registry: 'harbor', status: 'unsafe', format: 'harbor-retention-policy', limitations, notes };
  }
  const document: HarborRetentionPolicy = {
    algorithm: 'or',
    rules,
    trigger: { kind: 'Schedule', settings: { cron: '0 0 0 * * *' } },
    scope: { level: 'project', ref: options.projectId ?? 0 },
  };
  return {
    repo: options.repo,
    registry: 'harbor',
    status: 'exported',
    format: 'harbor-retention-policy',
    policy: document,
    install: `POST /api/v2.0/retentions with scope.ref = the id of project "${project}" (GET /api/v2.0/projects/${project}), or PUT /api/v2.0/retentions/{retention_id}`,
    limitations,
    notes,
  };
}
