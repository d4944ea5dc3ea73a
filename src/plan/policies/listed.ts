/**
 * `listed: ./deployed-images.txt` keeps what a keep-list file names (like werf's --keep-list), typically written
 * by a deploy job. One entry per line; blank lines and `#` comments (whole-line or trailing) are ignored:
 * - `v1.2.3`                       this tag, in every repo the policy applies to;
 * - `ghcr.io/acme/api:v1.2.3`      this tag, only in that repo;
 * - `sha256:<hex>` / `ghcr.io/acme/api@sha256:<hex>` / `ghcr.io/acme/api:v1@sha256:<hex>`
 *                                  every tag on that digest (images deployed by digest), plus the tag if named.
 * Repos are compared after normalization (`nginx` = `docker.io/library/nginx`, host case ignored); entries for
 * other repos are ignored. An entry that cannot be read refuses the plan: a keep-list exists to protect images.
 */
import { RegplanError } from '../../errors.ts';
import { parseRepo } from '../../registry/reference.ts';
import type { RuleInput, RuleVerdicts } from './rule.ts';

const VALID_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** One parsed keep-list entry: a tag and/or a digest, for one repo or (repo undefined) for every repo. */
export interface ListedEntry {
  repo?: string;
  tag?: string;
  digest?: string;
}

/** The address repos are compared by: `host/name` for registries, the address itself for OCI layouts. */
export function canonicalRepo(address: string): string {
  const ref = parseRepo(address);
  return ref.kind === 'registry' ? `${ref.host}/${ref.name}` : ref.address;
}

function invalid(file: string, line: number, text: string, why: string): RegplanError {
  return new RegplanError(`${file}:${line}: cannot read keep-list entry ${JSON.stringify(text)}: ${why}`, {
    hint: 'write one entry per line: a tag, repo:tag, sha256:<digest> or repo@sha256:<digest>; # starts a comment',
    context: { file },
  });
}

function parseReference(file: string, line: number, text: string, reference: string): { repo: string; tag?: string } {
  const colon = reference.lastIndexOf(':');
  const hasTag = colon !== -1 && !reference.slice(colon + 1).includes('/');
  const repo = hasTag ? reference.slice(0, colon) : reference;
  const tag = hasTag ? reference.slice(colon + 1) : undefined;
  if (tag !== undefined && !VALID_TAG.test(tag)) throw invalid(file, line, text, `"${tag}" is not a valid tag`);
  try {
    return { repo: canonicalRepo(repo), ...(tag === undefined ? {} : { tag }) };
  } catch {
    throw invalid(file, line, text, `"${repo}" is not a repository address`);
  }
}

/** Parses a keep-list file's lines into entries (comments and blanks dropped); throws on an unreadable entry. */
export function parseKeepList(file: string, lines: readonly string[]): ListedEntry[] {
  const entries: ListedEntry[] = [];
  lines.forEach((raw, index) => {
    const line = index + 1;
    const hash = raw.indexOf('#');
    const text = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (text === '') return;
    if (/\s/.test(text)) throw invalid(file, line, text, 'an entry has no spaces');
    if (DIGEST.test(text)) return void entries.push({ digest: text });
    const at = text.indexOf('@');
    if (at !== -1) {
      const digest = text.slice(at + 1);
      if (!DIGEST.test(digest)) throw invalid(file, line, text, `"${digest}" is not a sha256 digest`);
      return void entries.push({ ...parseReference(file, line, text, text.slice(0, at)), digest });
    }
    if (text.includes(':') || text.includes('/')) {
      const parsed = parseReference(file, line, text, text);
      if (parsed.tag === undefined) throw invalid(file, line, text, 'a repo entry needs a tag (repo:tag) or a digest (repo@sha256:…)');
      return void entries.push(parsed);
    }
    if (!VALID_TAG.test(text)) throw invalid(file, line, text, 'it is not a valid tag');
    entries.push({ tag: text });
  });
  return entries;
}

/** Keeps the tags (and tags on the digests) a keep-list names for this repo; label `listed <file>`. */
export function keepListedTags(rule: { file: string }, input: RuleInput): RuleVerdicts {
  const lines = input.facts.listed[rule.file];
  if (lines === undefined) {
    throw new RegplanError(`the keep-list "${rule.file}" was not read before planning`, {
      hint: 'gather policy facts (plan/facts.ts) before evaluating; refusing to plan beats deleting listed images',
      context: { file: rule.file },
    });
  }
  let ours: string | undefined;
  try {
    ours = canonicalRepo(input.repo);
  } catch {
    ours = input.repo;
  }
  const tags = new Set<string>();
  const digests = new Set<string>();
  for (const entry of parseKeepList(rule.file, lines)) {
    if (entry.repo !== undefined && entry.repo !== ours) continue;
    if (entry.tag !== undefined) tags.add(entry.tag);
    if (entry.digest !== undefined) digests.add(entry.digest);
  }
  const label = `listed ${rule.file}`;
  const kept: RuleVerdicts = new Map();
  for (const record of input.tags) if (tags.has(record.tag) || digests.has(record.digest)) kept.set(record.tag, label);
  return kept;
}
