/**
 * Which manifests this plan must not delete: the least fixpoint of "kept content" (design §5.3–§5.4).
 * - Anchors are kept on their own account: the manifests of tags a rule (or scope, grace, unknown time) keeps,
 *   referrers pushed within grace, and untagged manifests that are not being deleted.
 * - Children of protected manifests are protected; so are the subjects of anchors (a kept signature keeps its image).
 * - A referrer none of whose subjects is doomed is kept and its manifest protected (it follows its subject), but it does
 *   not protect the subject in turn: otherwise any signed image would be kept forever by its own signature.
 * - A manifest is doomed when it is not protected and this plan deletes it: it is a tag target (its tags are all
 *   deletion candidates) or a deletable untagged manifest.
 * Everything only grows, so the loop ends, and the result does not depend on the order of the input.
 */
import type { ContentGraph } from './content-graph.ts';

/** The outcome: protected digests, which of them are anchors, and which referrer tags are kept by their subject. */
export interface Protection {
  protectedDigests: Set<string>;
  anchors: Set<string>;
  /** Referrer tags kept because their subject stays. */
  followingTags: Set<string>;
}

/** Computes the protected content from the anchors, given which untagged manifests are deletable. */
export function protectContent(graph: ContentGraph, anchors: Iterable<string>, options: { deletableUntagged: ReadonlySet<string> }): Protection {
  const protectedDigests = new Set<string>();
  const anchorSet = new Set<string>();
  const followingTags = new Set<string>();
  const protect = (digest: string, anchor: boolean): boolean => {
    let changed = false;
    if (!protectedDigests.has(digest)) {
      protectedDigests.add(digest);
      changed = true;
    }
    if (anchor && !anchorSet.has(digest)) {
      anchorSet.add(digest);
      changed = true;
    }
    return changed;
  };
  const doomed = (digest: string): boolean =>
    !protectedDigests.has(digest) && (graph.tagsByDigest.has(digest) || options.deletableUntagged.has(digest));

  for (const digest of anchors) protect(digest, true);
  let changed = true;
  while (changed) {
    changed = false;
    for (const digest of [...protectedDigests]) {
      const anchor = anchorSet.has(digest);
      for (const child of graph.childrenOf(digest)) changed = protect(child, anchor) || changed;
      if (anchor) for (const subject of graph.subjectsOf(digest)) changed = protect(subject, true) || changed;
    }
    for (const record of graph.tags) {
      const subject = graph.tagSubjects.get(record.tag);
      if (subject === undefined || followingTags.has(record.tag) || subject.all.some(doomed)) continue;
      followingTags.add(record.tag);
      protect(record.digest, false);
      changed = true;
    }
    for (const [digest, subject] of graph.untaggedSubjects) {
      if (!protectedDigests.has(digest) && !subject.all.some(doomed)) changed = protect(digest, false) || changed;
    }
  }
  return { protectedDigests, anchors: anchorSet, followingTags };
}
