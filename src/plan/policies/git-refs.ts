/**
 * `gitRefs: { branches, tags, commits }` keeps images built from live git refs of a local repository (facts are
 * gathered beforehand by plan/facts.ts). The matching rule, precisely:
 * - Ref names (branches when `branches`, git tags when `tags`): a registry tag is kept when it EQUALS one of the
 *   forms CI systems give a ref name:
 *   1. the name itself, when it is a valid OCI tag (`v1.2.3`, `main`);
 *   2. GitLab's CI_COMMIT_REF_SLUG: lowercased, every character outside `a-z0-9` replaced by `-`, cut to 63
 *      characters, leading and trailing `-` removed (`feature/Login_UI` -> `feature-login-ui`);
 *   3. docker/metadata-action's form: every run of characters outside `A-Za-z0-9._-` replaced by one `-`
 *      (`feature/Login_UI` -> `feature-Login_UI`).
 *   Prefix matches (`main-123`) do not count; they are matched by commit below or by a `tags`/`newest` rule.
 * - Commits (the newest `commits` of HEAD; 0 = none): the tag is split into tokens at `-`, `_` and `.`; a token
 *   of 7 to 40 hex characters (case-insensitive) that is a prefix of one of those full SHAs keeps the tag. So
 *   `main-abc1234`, `sha-<40 hex>`, `abc12345`, `pr-7-abc1234-1700000000` match; `xabc1234` (not a whole token)
 *   and 64-hex `sha256-…` tokens never do.
 */
import { RegplanError } from '../../errors.ts';
import type { GitFacts } from '../types.ts';
import type { RuleInput, RuleVerdicts } from './rule.ts';

const VALID_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const HEX_TOKEN = /^[0-9a-f]{7,40}$/;

/** The gitRefs keep rule as the normalized config has it (`repo` is the local git repository directory). */
export interface GitRefsRule {
  repo: string;
  branches: boolean;
  tags: boolean;
  commits: number;
}

/** GitLab's CI_COMMIT_REF_SLUG of a ref name. */
export function gitlabRefSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
}

/** docker/metadata-action's sanitized form of a ref name. */
export function metadataActionRefTag(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-');
}

/** Every registry tag a ref name may appear as (see the file comment), unique. */
export function refTagForms(name: string): string[] {
  const forms = new Set<string>();
  if (VALID_TAG.test(name)) forms.add(name);
  for (const form of [gitlabRefSlug(name), metadataActionRefTag(name)]) if (VALID_TAG.test(form)) forms.add(form);
  return [...forms];
}

/** The commit a tag names by one of its tokens, among `commits` (full SHAs), or undefined. */
export function commitNamedByTag(tag: string, commits: readonly string[]): string | undefined {
  for (const token of tag.toLowerCase().split(/[-_.]/)) {
    if (!HEX_TOKEN.test(token)) continue;
    const commit = commits.find((sha) => sha.toLowerCase().startsWith(token));
    if (commit !== undefined) return commit;
  }
  return undefined;
}

/** The git facts for a rule; missing facts refuse the plan rather than keep nothing. */
function factsFor(rule: GitRefsRule, input: RuleInput): GitFacts {
  const facts = input.facts.git[rule.repo];
  if (facts === undefined) {
    throw new RegplanError(`no git facts were gathered for the gitRefs rule on "${rule.repo}"`, {
      hint: 'gather policy facts (plan/facts.ts) before evaluating; refusing to plan beats deleting images of live branches',
    });
  }
  return facts;
}

/** Keeps tags naming a live branch, git tag or recent commit; labels `gitRefs branch main`, `gitRefs commit abc1234def56`. */
export function keepGitRefTags(rule: GitRefsRule, input: RuleInput): RuleVerdicts {
  const facts = factsFor(rule, input);
  const byForm = new Map<string, string>();
  const addRefs = (kind: string, names: readonly string[]) => {
    for (const name of [...names].sort()) for (const form of refTagForms(name)) if (!byForm.has(form)) byForm.set(form, `gitRefs ${kind} ${name}`);
  };
  if (rule.branches) addRefs('branch', facts.branches);
  if (rule.tags) addRefs('tag', facts.tags);
  const commits = facts.commits.slice(0, Math.max(0, rule.commits));
  const kept: RuleVerdicts = new Map();
  for (const record of input.tags) {
    const refLabel = byForm.get(record.tag);
    if (refLabel !== undefined) {
      kept.set(record.tag, refLabel);
      continue;
    }
    const commit = commitNamedByTag(record.tag, commits);
    if (commit !== undefined) kept.set(record.tag, `gitRefs commit ${commit.slice(0, 12)}`);
  }
  return kept;
}
