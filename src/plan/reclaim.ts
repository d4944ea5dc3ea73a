/**
 * The reclaimable-bytes estimate of a plan, per repo: what the registry could free once the plan's manifest deletes
 * are done and its garbage is collected. Pure, from the inventory the plan was made from:
 * - gone = the manifests the plan deletes (tagged and untagged) and their index children, minus everything that
 *   survives (tags not deleted, untagged manifests not deleted, untag-only actions, and their children);
 * - bytes = the size of each gone manifest, plus each blob (config, layer) a gone manifest references that no
 *   surviving manifest references — every blob counted once, so layers shared with kept images count zero.
 * Manifests the inventory did not read (native listings without manifest reads) have no sizes: they are counted
 * in `unknownManifests`, and the estimate is a lower bound. Blobs shared with other repos of the same registry
 * are counted as freed here; the registry's own garbage collection decides, so the views say "up to".
 */
import type { RepoInventory } from '../model/inventory.ts';
import type { DeleteAction, ReclaimEstimate } from './types.ts';

/** The estimate for one repo from its inventory and the plan's delete actions for it. */
export function estimateReclaimable(inventory: RepoInventory, deletes: readonly DeleteAction[]): ReclaimEstimate | undefined {
  const removed = new Set(deletes.filter((action) => action.mode === 'manifest').map((action) => action.digest));
  if (removed.size === 0) return undefined;
  const roots = [...inventory.tags.map((tag) => tag.digest), ...inventory.untagged.map((entry) => entry.digest)];
  const surviving = closure(roots.filter((digest) => !removed.has(digest)), inventory);
  const gone = [...closure([...removed], inventory)].filter((digest) => !surviving.has(digest));
  const kept = new Set<string>();
  for (const digest of surviving) for (const blob of inventory.manifests[digest]?.blobs ?? []) kept.add(blob.digest);
  const freed = new Map<string, number>();
  let bytes = 0;
  let unknownManifests = 0;
  for (const digest of gone) {
    const facts = inventory.manifests[digest];
    if (facts?.size === undefined) {
      unknownManifests++;
      continue;
    }
    bytes += facts.size;
    for (const blob of facts.blobs ?? []) if (!kept.has(blob.digest)) freed.set(blob.digest, blob.size);
  }
  for (const size of freed.values()) bytes += size;
  return { repo: inventory.repo, bytes, manifests: gone.length, ...(unknownManifests === 0 ? {} : { unknownManifests }) };
}

/** `roots` and every manifest reachable from them through index children. */
function closure(roots: readonly string[], inventory: RepoInventory): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const digest = stack.pop() as string;
    if (seen.has(digest)) continue;
    seen.add(digest);
    stack.push(...(inventory.manifests[digest]?.children ?? []));
  }
  return seen;
}
