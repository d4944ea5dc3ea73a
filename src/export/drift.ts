/**
 * `regplan drift`'s judgement (pure): given a repo's inventory, regplan's decision for it and the images the
 * installed server-side policy would remove, list every tag or untagged manifest the server would delete that
 * regplan's plan keeps — with the server rule and regplan's reason to keep it.
 */
import type { RepoInventory } from '../model/inventory.ts';
import type { CleanupDecision } from '../plan/types.ts';
import type { ServerImage } from './simulate-ecr.ts';

/** One thing the server would delete that regplan keeps. */
export interface DriftEntry {
  repo: string;
  /** Absent for an untagged manifest. */
  tag?: string;
  digest: string;
  /** The server rule that would delete it. */
  serverRule: string;
  /** Why regplan keeps it (its keep rules, a skip reason, or "outside the delete scope"). */
  keptBecause: string;
}

/** A push time the inventory gave, or undefined when unknown or unreadable (treated as new, as the plan does). */
function timeOf(text: string | undefined): Date | undefined {
  const at = text === undefined ? undefined : new Date(text);
  return at === undefined || Number.isNaN(at.getTime()) ? undefined : at;
}

/** The repo's images as a server sees them: tags grouped by digest (earliest known push time), then untagged manifests. */
export function serverImages(inventory: RepoInventory): ServerImage[] {
  const byDigest = new Map<string, ServerImage>();
  for (const record of inventory.tags) {
    const image = byDigest.get(record.digest) ?? { digest: record.digest, tags: [] };
    image.tags.push(record.tag);
    const at = timeOf(record.pushedAt);
    if (at !== undefined && (image.pushedAt === undefined || at < image.pushedAt)) image.pushedAt = at;
    byDigest.set(record.digest, image);
  }
  for (const record of inventory.untagged) {
    if (!byDigest.has(record.digest)) {
      const at = timeOf(record.pushedAt);
      byDigest.set(record.digest, { digest: record.digest, tags: [], ...(at === undefined ? {} : { pushedAt: at }) });
    }
  }
  return [...byDigest.values()];
}

/** Where removing `image` (all its tags, or `tags` only for tag-level servers) deletes what `decision` keeps. */
export function findDrift(repo: string, removals: readonly { image: ServerImage; rule: string; tags?: readonly string[] }[], decision: CleanupDecision): DriftEntry[] {
  const deletedTags = new Set<string>();
  const deletedDigests = new Set<string>();
  for (const action of decision.actions) {
    if (action.type !== 'delete' || action.repo !== repo) continue;
    if (action.tag !== undefined) deletedTags.add(action.tag);
    if (action.mode === 'manifest') deletedDigests.add(action.digest);
  }
  const keptRules = new Map(decision.kept.filter((k) => k.repo === repo).map((k) => [k.tag, k.rules.join(', ')]));
  const skipped = new Map(decision.skipped.filter((s) => s.repo === repo).map((s) => [s.tag, s.reason]));
  const drift: DriftEntry[] = [];
  for (const { image, rule, tags } of removals) {
    if (image.tags.length === 0) {
      if (!deletedDigests.has(image.digest)) drift.push({ repo, digest: image.digest, serverRule: rule, keptBecause: 'regplan keeps this untagged manifest (untagged: keep, or it belongs to kept content)' });
      continue;
    }
    for (const tag of tags ?? image.tags) {
      if (deletedTags.has(tag)) continue;
      drift.push({ repo, tag, digest: image.digest, serverRule: rule, keptBecause: keptRules.get(tag) ?? skipped.get(tag) ?? 'not a deletion candidate of the plan' });
    }
  }
  return drift.sort((a, b) => (a.tag ?? '').localeCompare(b.tag ?? '') || a.digest.localeCompare(b.digest));
}
