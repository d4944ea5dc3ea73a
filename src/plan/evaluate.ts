/**
 * The cleanup evaluator: a pure function from inventories, policies and gathered facts to the deletions, kept
 * tags and skipped tags of a plan (design §5). No network, no clock, no environment: `now` comes in as data.
 *
 * Per repo, in order:
 * 1. Referrers of a present subject (cosign `sha256-<hex>.sig/.att/.sbom` tags, the `sha256-<hex>` fallback tag,
 *    manifests with `subject`) follow their subject; keep rules and the delete scope judge every other tag.
 * 2. A judged tag is kept by every keep rule that keeps it, by being outside `delete.tags`, by an unknown push time
 *    (treated as new), or by a push within `grace`; all of these are listed. A tag longer than the OCI limit of
 *    128 characters is not judged by patterns at all (no registry should return one): it is kept, with that reason. A referrer is kept on its own only by
 *    grace (its push time is often unknown or zeroed by signing tools, so unknown time does not keep it).
 * 3. protection.ts grows the kept content: children of kept indexes, subjects of kept artifacts, referrers of
 *    subjects that stay (see there).
 * 4. A tag nothing keeps, whose manifest is kept content, is removed alone (`untag`) when the registry can (or
 *    `untag` via `placeholder` where it can only through a placeholder manifest, distribution), else
 *    skipped ("shares manifest … with kept tag X"). When no kept tag shares the manifest, it is kept because it is
 *    a child or subject of kept content, and so is the tag (labels `child of kept index v1`, …) — except a
 *    referrer tag whose subject goes: it is untagged or skipped like a shared one, so no kept tag names a
 *    deleted subject.
 * 5. Other candidates are deleted with their manifest. Tags sharing one manifest get one action each, sorted by
 *    tag; every one after the first carries `coveredBy` (the first tag), since one manifest delete removes all.
 * 6. `untagged: delete` (only where the driver lists untagged manifests) deletes untagged manifests older than
 *    grace (unknown time = kept) that are not kept content and not a child of any index in the repo (those wait
 *    until the index is gone, next run); an untagged referrer goes when its subject goes, whatever its age.
 * Output is sorted by repo, then tag (untagged manifests last, by digest); the same input gives the same decision.
 */
import type { Policy } from '../config/types.ts';
import { RegplanError } from '../errors.ts';
import { buildContentGraph, type ContentGraph, type Subject } from './content-graph.ts';
import { ageMs, formatAge, formatDuration } from './durations.ts';
import { keepRuleLabels } from './policies/keep.ts';
import { compileTagPattern } from '../config/pattern.ts';
import { protectContent, type Protection } from './protection.ts';
import type { CleanupDecision, DeleteAction, Kept, PolicyFacts, Skipped } from './types.ts';
import type { RepoInventory, TagRecord } from '../model/inventory.ts';

/** One repo to evaluate: its inventory and the cleanup policy that applies to it. */
export interface CleanupTarget {
  inventory: RepoInventory;
  policy: Policy;
}

/** What evaluation needs besides the repos: facts for I/O rules, the plan time, and the grace window. */
export interface EvaluateOptions {
  facts: PolicyFacts;
  now: Date;
  graceMs: number;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The longest tag patterns judge: the OCI distribution spec's limit (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`). */
export const MAX_TAG_LENGTH = 128;
const OVERLONG = `longer than ${MAX_TAG_LENGTH} characters (not a valid OCI tag): never judged by pattern rules`;

/** Decides cleanup for every target; throws a RegplanError when a repo appears twice or facts are missing. */
export function evaluateCleanup(targets: readonly CleanupTarget[], options: EvaluateOptions): CleanupDecision {
  const sorted = [...targets].sort((a, b) => compare(a.inventory.repo, b.inventory.repo));
  const decision: CleanupDecision = { actions: [], kept: [], skipped: [] };
  sorted.forEach((target, index) => {
    if (index > 0 && sorted[index - 1]?.inventory.repo === target.inventory.repo) {
      throw new RegplanError(`repo "${target.inventory.repo}" was given to the evaluator twice`, {
        hint: 'list each repo once in registry.config.yaml',
        context: { repo: target.inventory.repo },
      });
    }
    const repo = evaluateRepo(target.inventory, target.policy, options);
    decision.actions.push(...repo.actions);
    decision.kept.push(...repo.kept);
    decision.skipped.push(...repo.skipped);
    if (repo.notes !== undefined) decision.notes = [...(decision.notes ?? []), ...repo.notes];
  });
  return decision;
}

/** Decides cleanup for one repo (see the file comment for the rules, in order). */
export function evaluateRepo(inventory: RepoInventory, policy: Policy, options: EvaluateOptions): CleanupDecision {
  const { now, graceMs } = options;
  const repo = inventory.repo;
  const graph = buildContentGraph(inventory);
  const grace = `grace ${formatDuration(graceMs)}`;
  const withinGrace = (pushedAt: string | undefined): boolean => {
    const age = ageMs(pushedAt, now);
    return age !== undefined && age <= graceMs;
  };
  const scope = policy.deleteTags === undefined ? undefined : compileTagPattern(policy.deleteTags, `the delete scope of policy "${policy.name}"`);

  // 1–2: reasons each tag is kept on its own.
  const candidates = graph.tags.filter((record) => !graph.tagSubjects.has(record.tag));
  const judged = candidates.filter((record) => record.tag.length <= MAX_TAG_LENGTH);
  const ruleLabels = keepRuleLabels(policy.keep, { repo, tags: judged, now, facts: options.facts });
  const ownReasons = new Map<string, string[]>();
  for (const record of candidates) if (record.tag.length > MAX_TAG_LENGTH) ownReasons.set(record.tag, [OVERLONG]);
  for (const record of judged) {
    const reasons = [...(ruleLabels.get(record.tag) ?? [])];
    if (scope !== undefined && !scope.test(record.tag)) reasons.push(`outside delete scope ${policy.deleteTags}`);
    if (ageMs(record.pushedAt, now) === undefined) reasons.push('push time unknown');
    else if (withinGrace(record.pushedAt)) reasons.push(grace);
    if (reasons.length > 0) ownReasons.set(record.tag, reasons);
  }
  for (const record of graph.tags) if (graph.tagSubjects.has(record.tag) && withinGrace(record.pushedAt)) ownReasons.set(record.tag, [grace]);

  // Untagged manifests: which may be deleted, which anchor kept content.
  const untaggedDeletion = policy.untagged === 'delete' && inventory.driver.listUntagged;
  const deletableUntagged = new Set<string>();
  const anchors = new Set<string>();
  for (const entry of graph.untagged) {
    const follower = graph.untaggedSubjects.has(entry.digest);
    const fresh = withinGrace(entry.pushedAt);
    const removable = untaggedDeletion && entry.listed && !graph.indexChildren.has(entry.digest) && !fresh;
    const deletable = removable && (follower || ageMs(entry.pushedAt, now) !== undefined);
    if (deletable) deletableUntagged.add(entry.digest);
    if (follower ? fresh : !deletable) anchors.add(entry.digest);
  }
  for (const record of graph.tags) if (ownReasons.has(record.tag)) anchors.add(record.digest);

  // 3: kept content.
  const protection = protectContent(graph, anchors, { deletableUntagged });
  const keptTag = (record: TagRecord): boolean => ownReasons.has(record.tag) || protection.followingTags.has(record.tag);
  const nameOf = (digest: string): string => graph.tagsByDigest.get(digest)?.find(keptTag)?.tag ?? graph.tagsByDigest.get(digest)?.[0]?.tag ?? digest;
  const describeSubject = (subject: Subject): string => `${nameOf(subject.subject)} (${subject.kind})`;
  const describeLostSubject = (subject: Subject): string => {
    const lost = subject.all.find((d) => !protection.protectedDigests.has(d)) ?? subject.subject;
    return `${nameOf(lost)} (${subject.kind})`;
  };

  // 4–5: per-tag outcomes.
  const kept: Kept[] = [];
  const skipped: Skipped[] = [];
  const actions: DeleteAction[] = [];
  const firstDeleted = new Map<string, string>();
  for (const record of graph.tags) {
    const { tag, digest } = record;
    const subject = graph.tagSubjects.get(tag);
    if (keptTag(record)) {
      const rules = ownReasons.get(tag) ?? [];
      if (subject !== undefined && protection.followingTags.has(tag)) rules.push(`follows subject ${describeSubject(subject)}`);
      kept.push({ repo, tag, digest, rules });
      continue;
    }
    const why = deletionReason(record, subject, { policy, now, grace, describeSubject: describeLostSubject });
    if (protection.protectedDigests.has(digest)) {
      const sharer = graph.tagsByDigest.get(digest)?.find(keptTag);
      if (sharer === undefined && subject === undefined) {
        kept.push({ repo, tag, digest, rules: contentReasons(digest, graph, protection, nameOf) });
        continue;
      }
      // The manifest stays (shared with a kept tag, or a referrer whose subject goes but which kept content holds).
      const holder = sharer === undefined
        ? `its manifest ${digest} stays (${contentReasons(digest, graph, protection, nameOf).join(', ')})`
        : `shares manifest ${digest} with kept tag ${sharer.tag}`;
      if (inventory.driver.untag) {
        actions.push(deleteAction(record, { repo, mode: 'untag', reason: `${why}; ${holder}, so only the tag is removed` }));
      } else if (inventory.driver.untagByPlaceholder === true) {
        const reason = `${why}; ${holder}, so only the tag is removed (through a placeholder manifest pushed to it and deleted)`;
        actions.push(deleteAction(record, { repo, mode: 'untag', via: 'placeholder', reason }));
      } else {
        skipped.push({ repo, tag, digest, reason: `${holder}; the ${inventory.driver.type} registry cannot remove a tag alone, so the tag stays` });
      }
      continue;
    }
    const first = firstDeleted.get(digest);
    if (first === undefined) firstDeleted.set(digest, tag);
    actions.push(deleteAction(record, {
      repo,
      mode: 'manifest',
      reason: first === undefined ? why : `${why}; removed with ${first} (same manifest)`,
      ...(first === undefined ? {} : { coveredBy: first }),
    }));
  }

  // 6: untagged manifests.
  for (const entry of graph.untagged) {
    if (!deletableUntagged.has(entry.digest) || protection.protectedDigests.has(entry.digest)) continue;
    const subject = graph.untaggedSubjects.get(entry.digest);
    const age = ageMs(entry.pushedAt, now);
    const reason = subject === undefined
      ? `untagged manifest; pushed ${formatAge(age ?? 0)} ago (older than ${grace}); untagged: delete`
      : `untagged ${subject.kind} of ${nameOf(subject.subject)}, which this plan deletes; untagged: delete`;
    actions.push({ type: 'delete', repo, digest: entry.digest, mode: 'manifest', reason, ...(entry.pushedAt === undefined ? {} : { pushedAt: entry.pushedAt }) });
  }
  if (policy.untagged === 'delete' && !inventory.driver.listUntagged) {
    const note = `untagged: delete has no effect here: the ${inventory.driver.type} driver cannot list untagged manifests, so none are deleted`;
    return { actions, kept, skipped, notes: [{ repo, message: note }] };
  }
  return { actions, kept, skipped };
}

/** Why nothing keeps a candidate, in words: scope, age against grace, and that no rule matched (or its subject goes). */
function deletionReason(
  record: TagRecord,
  subject: Subject | undefined,
  context: { policy: Policy; now: Date; grace: string; describeSubject: (subject: Subject) => string },
): string {
  const age = ageMs(record.pushedAt, context.now);
  if (subject !== undefined) {
    const follows = `follows subject ${context.describeSubject(subject)}, which this plan deletes`;
    return age === undefined ? follows : `${follows}; pushed ${formatAge(age)} ago`;
  }
  const pushed = `pushed ${formatAge(age ?? 0)} ago (older than ${context.grace})`;
  const scope = context.policy.deleteTags === undefined ? 'no delete scope (every tag is a candidate)' : `matches delete scope ${context.policy.deleteTags}`;
  return `${scope}; ${pushed}; no keep rule matched`;
}

/** Why a manifest no tag keeps is still kept content: the kept indexes it belongs to and the kept artifacts it is the subject of. */
function contentReasons(digest: string, graph: ContentGraph, protection: Protection, nameOf: (digest: string) => string): string[] {
  const reasons: string[] = [];
  for (const parent of [...protection.protectedDigests].sort()) {
    if (parent !== digest && graph.childrenOf(parent).includes(digest)) reasons.push(`child of kept index ${nameOf(parent)}`);
  }
  for (const referrer of [...protection.anchors].sort()) {
    if (referrer !== digest && graph.subjectsOf(referrer).includes(digest)) reasons.push(`subject of kept ${nameOf(referrer)}`);
  }
  return reasons.length > 0 ? reasons : ['part of kept content'];
}

function deleteAction(record: TagRecord, fields: { repo: string; mode: 'manifest' | 'untag'; via?: 'placeholder'; reason: string; coveredBy?: string }): DeleteAction {
  return {
    type: 'delete',
    repo: fields.repo,
    tag: record.tag,
    digest: record.digest,
    mode: fields.mode,
    ...(fields.via === undefined ? {} : { via: fields.via }),
    reason: fields.reason,
    ...(record.pushedAt === undefined ? {} : { pushedAt: record.pushedAt }),
    ...(fields.coveredBy === undefined ? {} : { coveredBy: fields.coveredBy }),
  };
}
