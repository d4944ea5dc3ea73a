/**
 * How bundle planning and cleanup planning meet, purely. Cleanup evaluates each repo as it will be once the
 * plan's pushes are done: every bundle tag is set to its planned digest (with its index children) and carries no
 * push time, which cleanup treats as new, so the tag is kept and so is its content — a tag that shares the pushed
 * manifest is untagged or skipped, never deleted with it. In the merged plan a pushed tag appears once, as its
 * push; an unchanged bundle tag is kept by "bundle unchanged" instead of whatever cleanup said.
 */
import type { Action, CleanupDecision, Kept, PlanNote, SkippedEntry } from './types.ts';
import { BUNDLE_UNCHANGED, type BundleDecision, type PlannedTag } from './bundles.ts';
import type { ManifestFacts, RepoInventory } from '../model/inventory.ts';

/** The inventory as it will be after the plan's pushes: bundle tags on their planned digests, push time unknown. */
export function withPlannedTags(inventory: RepoInventory, planned: ReadonlyMap<string, PlannedTag> | undefined): RepoInventory {
  if (planned === undefined || planned.size === 0) return inventory;
  const tags = inventory.tags.filter((record) => !planned.has(record.tag));
  const manifests: Record<string, ManifestFacts> = { ...inventory.manifests };
  for (const [tag, state] of planned) {
    tags.push({ tag, digest: state.digest, mediaType: state.mediaType });
    manifests[state.digest] ??= {
      mediaType: state.mediaType,
      children: state.children,
      ...(state.artifactType === undefined ? {} : { artifactType: state.artifactType }),
    };
  }
  return { ...inventory, tags, manifests };
}

/** Joins the two decisions: pushes and deletions, kept and skipped entries, bundle tags labelled as bundles. */
export function mergeBundleDecision(cleanup: CleanupDecision, bundles: BundleDecision): { actions: Action[]; kept: Kept[]; skipped: SkippedEntry[]; notes?: PlanNote[] } {
  const notes = cleanup.notes === undefined ? {} : { notes: [...cleanup.notes] };
  if (bundles.planned.size === 0 && bundles.skipped.length === 0) return { actions: [...cleanup.actions], kept: [...cleanup.kept], skipped: [...cleanup.skipped], ...notes };
  const isBundleTag = (repo: string, tag: string | undefined): boolean => tag !== undefined && bundles.planned.get(repo)?.has(tag) === true;
  const kept = [
    ...cleanup.kept.filter((entry) => !isBundleTag(entry.repo, entry.tag)),
    ...bundles.kept.map((entry) => ({ ...entry, rules: [BUNDLE_UNCHANGED] })),
  ];
  const skipped: SkippedEntry[] = [...cleanup.skipped.filter((entry) => !isBundleTag(entry.repo, entry.tag)), ...bundles.skipped];
  const actions: Action[] = [...bundles.actions, ...cleanup.actions.filter((action) => action.type !== 'delete' || !isBundleTag(action.repo, action.tag))];
  return { actions, kept: kept.sort(byRepoThenTag), skipped: skipped.sort(byRepoThenTag), ...notes };
}

/** Stable order by repo, then tag (entries of one repo keep their relative order when tags are equal). */
function byRepoThenTag(a: { repo: string; tag: string }, b: { repo: string; tag: string }): number {
  if (a.repo !== b.repo) return a.repo < b.repo ? -1 : 1;
  return a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0;
}
