/**
 * `inUse` keeps the images running workloads reference (facts from plan/in-use/): a reference with a tag keeps that
 * tag, one with a digest keeps every tag on that digest — in the repo the reference names only (`nginx` =
 * `docker.io/library/nginx`). Label: `inUse: Deployment shop/api` (the first workload, `+N more`).
 */
import type { InUseSource } from '../../config/types.ts';
import { RegplanError } from '../../errors.ts';
import { parseImageRef } from '../in-use/image-ref.ts';
import { inUseKey } from '../in-use/index.ts';
import { canonicalRepo } from './listed.ts';
import type { InUseImage } from '../types.ts';
import type { RuleInput, RuleVerdicts } from './rule.ts';

type RepoUse = { byTag: Map<string, string[]>; byDigest: Map<string, string[]> };
const indexed = new WeakMap<readonly InUseImage[], Map<string, RepoUse>>();

/** A source's images by canonical repo, then by tag and by digest; parsed once per source, not once per repo. */
function imagesByRepo(images: readonly InUseImage[]): Map<string, RepoUse> {
  const known = indexed.get(images);
  if (known !== undefined) return known;
  const byRepo = new Map<string, RepoUse>();
  const add = (map: Map<string, string[]>, key: string, by: string) => {
    const users = map.get(key);
    if (users === undefined) map.set(key, [by]);
    else users.push(by);
  };
  for (const { image, by } of images) {
    const ref = parseImageRef(image);
    if (ref === undefined) continue;
    let use = byRepo.get(ref.repo);
    if (use === undefined) byRepo.set(ref.repo, (use = { byTag: new Map(), byDigest: new Map() }));
    if (ref.tag !== undefined) add(use.byTag, ref.tag, by);
    if (ref.digest !== undefined) add(use.byDigest, ref.digest, by);
  }
  indexed.set(images, byRepo);
  return byRepo;
}

/** Keeps the tags (and tags on the digests) workloads use in this repo. */
export function keepInUseTags(rule: { source: InUseSource }, input: RuleInput): RuleVerdicts {
  const images = input.facts.inUse?.[inUseKey(rule.source)];
  if (images === undefined) {
    throw new RegplanError('the inUse source was not read before planning', {
      hint: 'gather policy facts (plan/facts.ts) before evaluating; refusing to plan beats deleting images in use',
    });
  }
  let ours: string;
  try {
    ours = canonicalRepo(input.repo);
  } catch {
    ours = input.repo;
  }
  const { byTag, byDigest } = imagesByRepo(images).get(ours) ?? { byTag: new Map<string, string[]>(), byDigest: new Map<string, string[]>() };
  const kept: RuleVerdicts = new Map();
  for (const record of input.tags) {
    const users = [...new Set([...(byTag.get(record.tag) ?? []), ...(byDigest.get(record.digest) ?? [])])].sort();
    if (users.length > 0) kept.set(record.tag, `inUse: ${users[0]}${users.length > 1 ? ` (+${users.length - 1} more)` : ''}`);
  }
  return kept;
}
