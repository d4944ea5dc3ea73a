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
import type { RuleInput, RuleVerdicts } from './rule.ts';

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
  const byTag = new Map<string, string[]>();
  const byDigest = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string, by: string) => map.set(key, [...(map.get(key) ?? []), by]);
  for (const { image, by } of images) {
    const ref = parseImageRef(image);
    if (ref === undefined || ref.repo !== ours) continue;
    if (ref.tag !== undefined) add(byTag, ref.tag, by);
    if (ref.digest !== undefined) add(byDigest, ref.digest, by);
  }
  const kept: RuleVerdicts = new Map();
  for (const record of input.tags) {
    const users = [...new Set([...(byTag.get(record.tag) ?? []), ...(byDigest.get(record.digest) ?? [])])].sort();
    if (users.length > 0) kept.set(record.tag, `inUse: ${users[0]}${users.length > 1 ? ` (+${users.length - 1} more)` : ''}`);
  }
  return kept;
}
