/**
 * Runs an installed GitLab cleanup policy, Harbor retention policy, Quay auto-prune policy or Artifact Registry
 * cleanup policy set against a repo's images: what the registry would remove, and by which rule. Each follows its
 * vendor's documented algorithm (see the compiler of the same language for the links); unknown push times count
 * as new (never old enough, ranked newest), as the plan treats them. Used by `regplan drift` and by the tests
 * that check each export against the evaluator.
 */
import { compileTagPattern } from '../config/pattern.ts';
import type { ArtifactRegistryCleanupPolicy } from './artifact-registry.ts';
import type { GitlabCleanupPolicy } from './gitlab.ts';
import type { HarborRetentionPolicy, HarborSelector } from './harbor.ts';
import type { QuayAutoPrunePolicy } from './quay.ts';
import type { ServerImage } from './simulate-ecr.ts';

/** What a server would remove: the image, the rule, and (tag-level registries) only these tags of it. */
export interface Removal {
  image: ServerImage;
  rule: string;
  tags?: string[];
}

const DAY = 86_400_000;
const fullMatch = (regex: string) => compileTagPattern(`^(?:${regex})$`, 'an installed policy');
const olderThan = (image: ServerImage, now: Date, ms: number) => image.pushedAt !== undefined && now.getTime() - image.pushedAt.getTime() > ms;
const newestFirst = <T extends { pushedAt?: Date | undefined; key: string }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => (b.pushedAt?.getTime() ?? Infinity) - (a.pushedAt?.getTime() ?? Infinity) || (a.key < b.key ? -1 : 1));
const parseDays = (text: string): number => {
  const match = /^(\d+)d$/.exec(text);
  if (!match) throw new Error(`unsupported duration ${JSON.stringify(text)}`);
  return Number(match[1]);
};

/** One tag with its image, for tag-level policies. */
const tagsOf = (images: readonly ServerImage[]) => images.flatMap((image) => image.tags.map((tag) => ({ tag, image, key: tag, pushedAt: image.pushedAt })));

/** GitLab: exclude latest, keep name_regex_delete matches, drop the keep_n newest, those newer than older_than, name_regex_keep matches. */
export function simulateGitlab(policy: GitlabCleanupPolicy, images: readonly ServerImage[], now: Date): Removal[] {
  // Read as installed: keep_n, older_than and the regexes may be missing (null in GitLab's answer).
  const p = policy.container_expiration_policy_attributes as Partial<GitlabCleanupPolicy['container_expiration_policy_attributes']>;
  if (p.enabled !== true || p.name_regex_delete === undefined) return []; // no delete regex: GitLab deletes nothing
  const remove = fullMatch(p.name_regex_delete);
  const keep = p.name_regex_keep === undefined || p.name_regex_keep === '' ? undefined : fullMatch(p.name_regex_keep);
  const candidates = newestFirst(tagsOf(images).filter((t) => t.tag !== 'latest' && remove.test(t.tag))).slice(p.keep_n ?? 0);
  const ageMs = p.older_than === undefined ? 0 : parseDays(p.older_than) * DAY;
  const rule = `GitLab cleanup policy (keep_n ${p.keep_n ?? 'none'}, older_than ${p.older_than ?? 'none'}, name_regex_delete ${JSON.stringify(p.name_regex_delete)})`;
  return candidates.filter((t) => olderThan(t.image, now, ageMs) && !keep?.test(t.tag)).map((t) => ({ image: t.image, rule, tags: [t.tag] }));
}

/** Quay: each policy prunes on its own among the tags its pattern selects. */
export function simulateQuay(policies: readonly QuayAutoPrunePolicy[], images: readonly ServerImage[], now: Date): Removal[] {
  const removals: Removal[] = [];
  policies.forEach((policy, i) => {
    const pattern = policy.tagPattern === undefined ? undefined : compileTagPattern(policy.tagPattern, 'a Quay tagPattern');
    const selected = tagsOf(images).filter((t) => pattern === undefined || pattern.test(t.tag) === (policy.tagPatternMatches ?? true));
    const rule = `Quay auto-prune policy ${i + 1} (${policy.method} ${policy.value})`;
    const pruned = policy.method === 'number_of_tags' ? newestFirst(selected).slice(Number(policy.value)) : selected.filter((t) => olderThan(t.image, now, parseDays(String(policy.value)) * DAY));
    for (const t of pruned) removals.push({ image: t.image, rule, tags: [t.tag] });
  });
  return removals;
}

/** A doublestar pattern as a regex: `**` anything, `*` anything but `/`, `?` one character, `{a,b}` alternatives. */
function doublestar(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') (out += '.*'), i++;
    else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '{') out += '(?:';
    else if (c === '}') out += ')';
    else if (c === ',' ) out += '|';
    else out += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

const tagSelected = (selector: HarborSelector, tag: string): boolean => doublestar(selector.pattern).test(tag) === (selector.decoration !== 'excludes');

/** Harbor: an artifact survives when any rule retains it; every other artifact goes with all its tags. */
export function simulateHarbor(policy: HarborRetentionPolicy, repository: string, images: readonly ServerImage[], now: Date): Removal[] {
  const retained = new Set<string>();
  let inScope = false;
  for (const rule of policy.rules) {
    if (rule.disabled) continue;
    if (!rule.scope_selectors.repository.every((s) => doublestar(s.pattern).test(repository) === (s.decoration !== 'repoExcludes'))) continue;
    inScope = true;
    const selected = images.filter((image) =>
      rule.tag_selectors.every((s) => (image.tags.length === 0 ? (JSON.parse(s.extras ?? '{}') as { untagged?: boolean }).untagged === true : image.tags.some((tag) => tagSelected(s, tag)))),
    );
    const keep =
      rule.template === 'always' ? selected
      : rule.template === 'latestPushedK' ? newestFirst(selected.map((image) => ({ ...image, key: image.digest }))).slice(0, rule.params['latestPushedK'] ?? 0)
      : rule.template === 'nDaysSinceLastPush' ? selected.filter((image) => !olderThan(image, now, (rule.params['nDaysSinceLastPush'] ?? 0) * DAY))
      : selected; // pull-based templates: not modelled here, assumed to retain (drift would under-report; the export never emits them)
    for (const image of keep) retained.add(image.digest);
  }
  if (!inScope) return [];
  return images.filter((image) => !retained.has(image.digest)).map((image) => ({ image, rule: 'Harbor retention: no rule retains it' }));
}

/** Artifact Registry: a version matched by a DELETE policy is deleted unless a KEEP policy matches it. */
export function simulateArtifactRegistry(policies: readonly ArtifactRegistryCleanupPolicy[], packageName: string, images: readonly ServerImage[], now: Date): Removal[] {
  const seconds = (text: string | undefined) => (text === undefined ? undefined : Number(/^(\d+)s$/.exec(text)?.[1] ?? Number.NaN) * 1000);
  const inPackage = (prefixes: readonly string[] | undefined) => prefixes === undefined || prefixes.some((p) => packageName.startsWith(p));
  const matches = (policy: ArtifactRegistryCleanupPolicy, image: ServerImage, rank: Map<string, number>): boolean => {
    if (policy.mostRecentVersions !== undefined) return inPackage(policy.mostRecentVersions.packageNamePrefixes) && (rank.get(image.digest) ?? Infinity) < policy.mostRecentVersions.keepCount;
    const c = policy.condition ?? {};
    if (!inPackage(c.packageNamePrefixes)) return false;
    if (c.tagState === 'TAGGED' && image.tags.length === 0) return false;
    if (c.tagState === 'UNTAGGED' && image.tags.length > 0) return false;
    if (c.tagPrefixes !== undefined && !image.tags.some((t) => c.tagPrefixes?.some((p) => t.startsWith(p)))) return false;
    const older = seconds(c.olderThan);
    if (older !== undefined && !olderThan(image, now, older)) return false;
    const newer = seconds(c.newerThan);
    if (newer !== undefined && olderThan(image, now, newer)) return false;
    if (newer !== undefined && image.pushedAt === undefined) return true;
    return true;
  };
  const rank = new Map(newestFirst(images.map((image) => ({ ...image, key: image.digest }))).map((image, i) => [image.digest, i]));
  const removals: Removal[] = [];
  for (const image of images) {
    const deleting = policies.find((p) => p.action === 'DELETE' && matches(p, image, rank));
    if (deleting !== undefined && !policies.some((p) => p.action === 'KEEP' && matches(p, image, rank))) removals.push({ image, rule: `Artifact Registry DELETE policy ${deleting.id}` });
  }
  return removals;
}
