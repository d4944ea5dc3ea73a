/**
 * The semantic step of the config pipeline: rules a JSON Schema cannot express (RE2 patterns that compile, policy
 * names that exist, repo addresses that parse, no literal secrets, no duplicates). It runs on the parsed data
 * even when the schema step found problems, so `validate` reports everything at once; every check is defensive
 * about shapes the schema step already complained about.
 */
import type { ConfigProblem } from '../errors.ts';
import { isValidTag } from '../model/names.ts';
import { parseRepo } from '../model/repo-address.ts';
import { closestName } from './did-you-mean.ts';
import { DURATION_HINT, parseDuration } from './duration.ts';
import { patternProblem } from './pattern.ts';
import { isRepoPattern, parseExclude, parseRepoPattern, type RepoPattern } from './repo-pattern.ts';
import { literalSecretMessage, SECRET_KEY } from './secrets.ts';
import { pointer, type ConfigSource } from './source.ts';
import * as path from 'node:path';

type Segment = string | number;
type Record_ = Record<string, unknown>;

const isObject = (value: unknown): value is Record_ => typeof value === 'object' && value !== null && !Array.isArray(value);
const entries = (value: unknown): [string, unknown][] => (isObject(value) ? Object.entries(value) : []);
const items = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Problems found by the semantic rules, split by severity. */
export interface SemanticResult {
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
}

/** Applies every semantic rule to the parsed config; `dir` is the config's directory (for oci: paths). */
export function semanticProblems(source: ConfigSource, dir: string): SemanticResult {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const at = (p: Segment[], key = false) => ({ file: source.file, ...source.positionOf(p, { key }), path: pointer(p) });
  const error = (p: Segment[], message: string, hint?: string, key = false) => errors.push({ ...at(p, key), message, ...(hint === undefined ? {} : { hint }) });
  const warn = (p: Segment[], message: string, hint?: string, key = false) => warnings.push({ ...at(p, key), message, ...(hint === undefined ? {} : { hint }) });
  if (!isObject(source.data)) return { errors, warnings }; // the schema step reports a document that is not a mapping
  const data = source.data;

  checkLiteralSecrets(source, error);
  if (isObject(data['settings'])) {
    checkDurationRange(data['settings']['grace'], ['settings', 'grace'], error);
    checkTimeout(data['settings']['timeout'], error);
    checkMaxDeletions(data['settings']['maxDeletions'], error);
  }

  const policyNames = entries(data['policies']).map(([name]) => name);
  const definedPolicies = new Set(policyNames);
  const usedPolicies = new Set<string>();
  for (const [name, policy] of entries(data['policies'])) checkPolicy(policy, ['policies', name], { error, warn });

  // Suggestions cost an edit distance per candidate; the first few misspellings are the ones worth a "did you mean".
  let suggestionsLeft = 20;
  const suggest = (input: string, candidates: readonly string[]): string | undefined => (suggestionsLeft-- > 0 ? closestName(input, candidates) : undefined);
  const seenRepos = new Map<string, number>();
  const usedHosts = new Set<string>();
  items(data['repos']).forEach((entry, index) => {
    if (!isObject(entry)) return;
    const base: Segment[] = ['repos', index];
    const address = entry['repo'];
    const pattern = typeof address === 'string' && isRepoPattern(address);
    if (pattern) {
      checkRepoPattern(entry, base, { error });
    } else if (entry['exclude'] !== undefined) {
      error([...base, 'exclude'], `exclude applies to repo patterns only, and "${typeof address === 'string' ? address : ''}" is not one`, 'remove exclude:, or write the repo as a pattern (e.g. ghcr.io/acme/*)', true);
    }
    if (typeof address === 'string' && address !== '') {
      const key = pattern ? patternKey(address) : checkRepoAddress(address, [...base, 'repo'], dir, error);
      if (key !== undefined) {
        if (!key.startsWith('oci:')) usedHosts.add(key.slice(0, key.indexOf('/')));
        const first = seenRepos.get(key);
        if (first === undefined) seenRepos.set(key, source.positionOf(['repos', index]).line);
        else if (pattern) error([...base, 'repo'], `repo pattern "${address}" is listed twice (first at line ${first})`, 'merge the two entries, or use exclude: to split one pattern between policies');
        else error([...base, 'repo'], `repo "${address}" is listed twice (first at line ${first})`, 'merge the two entries: one entry can have both cleanup and bundles');
      }
    }
    const cleanup = entry['cleanup'];
    if (typeof cleanup === 'string' && cleanup !== '') {
      usedPolicies.add(cleanup);
      if (!definedPolicies.has(cleanup)) {
        const guess = suggest(cleanup, policyNames);
        const defined = policyNames.length ? `defined policies: ${listSome(policyNames)}` : 'this config defines no policies; add one under policies: or write the policy inline';
        error([...base, 'cleanup'], `unknown policy "${cleanup}"`, guess ? `did you mean "${guess}"? (${defined})` : defined);
      }
    } else if (isObject(cleanup)) {
      checkPolicy(cleanup, [...base, 'cleanup'], { error, warn });
    }
    checkBundles(entry['bundles'], [...base, 'bundles'], { error, warn });
    if (cleanup === undefined && entry['bundles'] === undefined) {
      warn(base, `repo ${typeof address === 'string' ? `"${address}" ` : ''}has neither cleanup nor bundles: regplan does nothing with it`, 'add cleanup: <policy> or bundles: [...], or remove the entry');
    }
  });

  if (!Array.isArray(data['repos']) || data['repos'].length === 0) {
    warn(data['repos'] === undefined ? [] : ['repos'], 'no repos: regplan has nothing to plan', 'add repos: [{ repo: ghcr.io/acme/api, cleanup: <policy> }]');
  }
  for (const name of policyNames) {
    if (!usedPolicies.has(name)) warn(['policies', name], `policy "${name}" is not used by any repo`, 'refer to it with cleanup: ' + name + ' in repos[], or remove it', true);
  }
  const hosts = [...usedHosts];
  for (const [host] of entries(data['registries'])) {
    const wellFormed = /^[a-z0-9.:[\]-]+$/.test(host); // a malformed key already has its own error
    if (wellFormed && !usedHosts.has(host)) {
      const guess = suggest(host, hosts);
      warn(['registries', host], `registry "${host}" is not the host of any repo`, guess ? `did you mean "${guess}"?` : 'the key must be the host[:port] of repo addresses, e.g. ghcr.io', true);
    }
  }
  return { errors, warnings };
}

type Report = (p: Segment[], message: string, hint?: string, key?: boolean) => void;

/** Names for a hint, at most 20 of them (a hint repeated per error must not grow with the config). */
function listSome(names: readonly string[]): string {
  const shown = names.slice(0, 20).map((n) => (n.length > 64 ? `${n.slice(0, 64)}…` : n));
  return names.length > shown.length ? `${shown.join(', ')} and ${names.length - shown.length} more` : shown.join(', ');
}

/** A literal secret anywhere: a secret-looking key, or any entry under `credentials`, holding a plain value. */
function checkLiteralSecrets(source: ConfigSource, error: Report): void {
  source.walkPairs((p, key, value) => {
    if (typeof value !== 'string' && typeof value !== 'number') return;
    if (key === 'env' || key === 'file') return;
    const underCredentials = p[p.length - 2] === 'credentials';
    if (!underCredentials && !SECRET_KEY.test(key)) return;
    const { message, hint } = literalSecretMessage(key);
    error(p, message, hint);
  });
}

/** A tag pattern must compile with the linear-time engine the plan uses, within its limits (config/pattern.ts). */
function checkRegex(value: unknown, p: Segment[], error: Report): void {
  if (typeof value !== 'string' || value === '') return;
  const problem = patternProblem(value);
  if (problem !== undefined) error(p, problem.message, problem.hint);
}

/** Durations the schema's pattern accepts but that are too large to count in milliseconds. */
function checkDurationRange(value: unknown, p: Segment[], error: Report): void {
  if (typeof value === 'string' && /^(?:\d+[smhdw])+$/.test(value) && parseDuration(value) === undefined) {
    error(p, `duration "${value}" is too large`, DURATION_HINT);
  }
}

/** settings.timeout: a per-request timeout of 0 would fail every request, and past an hour a hung registry hangs the run. */
function checkTimeout(value: unknown, error: Report): void {
  if (typeof value !== 'string') return;
  const ms = parseDuration(value);
  if (ms === undefined) return checkDurationRange(value, ['settings', 'timeout'], error);
  const hint = 'the timeout is per request (one attempt); 120s is the default';
  if (ms < 1000) error(['settings', 'timeout'], `settings.timeout must be at least 1s, not "${value}"`, hint);
  else if (ms > 3_600_000) error(['settings', 'timeout'], `settings.timeout must be at most 1h, not "${value}"`, hint);
}

const LIMIT_HINT = "write a count (maxDeletions: 50), a percentage in quotes (maxDeletions: '30%'), or { repo: '30%', total: 500 }";

/** settings.maxDeletions: a count >= 0, a percentage 0%–100% as a string, or { repo, total } of those. */
function checkMaxDeletions(value: unknown, error: Report): void {
  if (value === undefined) return;
  const checkLimit = (limit: unknown, at: Segment[]) => {
    const name = at.join('.');
    if (typeof limit === 'number') {
      if (!Number.isInteger(limit) || limit < 0) error(at, `${name} must be a whole number >= 0, found ${limit}`, LIMIT_HINT);
      return;
    }
    const percent = typeof limit === 'string' ? /^(\d+(?:\.\d+)?)%$/.exec(limit) : null;
    if (percent === null || Number(percent[1]) > 100) {
      error(at, `${name} must be a count or a percentage from 0% to 100%, found ${typeof limit === 'string' ? `"${limit}"` : JSON.stringify(limit)}`, LIMIT_HINT);
    }
  };
  if (!isObject(value)) return checkLimit(value, ['settings', 'maxDeletions']);
  const keys = Object.keys(value);
  const unknown = keys.filter((key) => key !== 'repo' && key !== 'total');
  for (const key of unknown) error(['settings', 'maxDeletions', key], `unknown key "${key}" in settings.maxDeletions`, 'allowed here: repo, total', true);
  if (keys.length === 0) error(['settings', 'maxDeletions'], 'settings.maxDeletions is empty', LIMIT_HINT);
  for (const key of ['repo', 'total'] as const) if (value[key] !== undefined) checkLimit(value[key], ['settings', 'maxDeletions', key]);
}

function checkPolicy(policy: unknown, base: Segment[], report: { error: Report; warn: Report }): void {
  if (!isObject(policy)) return;
  const keep = items(policy['keep']);
  keep.forEach((rule, i) => {
    if (!isObject(rule)) return;
    checkRegex(rule['tags'], [...base, 'keep', i, 'tags'], report.error);
    checkRegex(rule['groupBy'], [...base, 'keep', i, 'groupBy'], report.error);
    if (rule['groupBy'] !== undefined && rule['newest'] === undefined && rule['pushedWithin'] === undefined) {
      report.error([...base, 'keep', i, 'groupBy'], 'groupBy works only with newest or pushedWithin', "e.g. { newest: 2, groupBy: '^pr-(\\d+)-' } keeps the 2 newest tags of every PR");
    }
    checkDurationRange(rule['pushedWithin'], [...base, 'keep', i, 'pushedWithin'], report.error);
    checkDurationRange(rule['pulledWithin'], [...base, 'keep', i, 'pulledWithin'], report.error);
    const gitRefs = rule['gitRefs'];
    if (isObject(gitRefs) && gitRefs['branches'] === false && gitRefs['tags'] === false && !gitRefs['commits']) {
      report.warn([...base, 'keep', i, 'gitRefs'], 'gitRefs rule keeps nothing: branches and tags are false and commits is 0', 'enable branches or tags, or set commits: N');
    }
  });
  const del = policy['delete'];
  if (isObject(del)) checkRegex(del['tags'], [...base, 'delete', 'tags'], report.error);
  if ((policy['keep'] === undefined || (Array.isArray(policy['keep']) && keep.length === 0)) && del === undefined) {
    report.warn(base, 'policy has no keep rules and no delete scope: every tag older than settings.grace is deleted', "add keep rules, or delete: { tags: '^(pr|branch)-' } to limit what can be deleted");
  } else if (del === undefined) {
    report.warn(
      base,
      'policy has no delete scope: every tag no keep rule keeps is a deletion candidate, "latest" and "v*" releases included',
      "add delete: { tags: '^(pr|branch)-' } to limit what can be deleted, or delete: { tags: '.*' } if every tag is meant",
      true,
    );
  }
}

/** A key identifying a repo pattern (for duplicates and used hosts) when it parses. */
function patternKey(address: string): string | undefined {
  try {
    const parsed = parseRepoPattern(address);
    return `${parsed.host}/${parsed.path}`;
  } catch {
    return undefined;
  }
}

/**
 * A repo pattern entry (config/repo-pattern.ts): the pattern parses, each `exclude:` entry parses and names its host,
 * and there are no bundles (a push needs one concrete repo).
 */
function checkRepoPattern(entry: Record_, base: Segment[], report: { error: Report }): void {
  const address = entry['repo'] as string;
  let parsed: RepoPattern;
  try {
    parsed = parseRepoPattern(address);
  } catch (e) {
    const err = e as { message: string; hint?: string };
    report.error([...base, 'repo'], err.message, err.hint);
    return;
  }
  items(entry['exclude']).forEach((exclude, i) => {
    if (typeof exclude !== 'string' || exclude === '') return;
    try {
      parseExclude(exclude, parsed);
    } catch (e) {
      const err = e as { message: string; hint?: string };
      report.error([...base, 'exclude', i], err.message, err.hint);
    }
  });
  if (entry['bundles'] !== undefined) {
    report.error([...base, 'bundles'], `repo pattern "${address}" cannot have bundles: a push needs one concrete repo`, 'list the repo a bundle goes to as its own entry (repo: ghcr.io/acme/api with bundles:); the pattern entry keeps cleanup', true);
  }
}

/** Checks one repo address; returns a key identifying the repo (for duplicates) when it parses. */
function checkRepoAddress(address: string, p: Segment[], dir: string, error: Report): string | undefined {
  const oci = address.startsWith('oci:');
  const withoutScheme = oci ? address.slice(4) : address;
  const lastSlash = withoutScheme.lastIndexOf('/');
  const digestAt = withoutScheme.indexOf('@');
  const tagColon = withoutScheme.indexOf(':', lastSlash + 1);
  const beforeColon = withoutScheme.slice(0, tagColon);
  // Without a slash, `host:port` is not a tag (parseRepo rejects the address for its missing path instead).
  const looksLikeHostPort = lastSlash === -1 && (beforeColon.includes('.') || beforeColon === 'localhost');
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(address); // parseRepo explains the scheme, not a "tag" after it
  if (!url && (digestAt !== -1 || (tagColon !== -1 && (oci || !looksLikeHostPort)))) {
    const bare = (oci ? 'oci:' : '') + withoutScheme.slice(0, digestAt !== -1 ? digestAt : tagColon);
    error(p, `repo "${address}" includes a ${digestAt !== -1 ? 'digest' : 'tag'}`, `write the repo without it (${bare}); tags to keep or delete come from the policy, tags to push from bundles[].tag`);
    return undefined;
  }
  try {
    const ref = parseRepo(address);
    return ref.kind === 'oci-layout' ? `oci:${path.resolve(dir, ref.dir)}` : `${ref.host}/${ref.name}`;
  } catch (e) {
    const err = e as { message: string; hint?: string };
    error(p, err.message, err.hint);
    return undefined;
  }
}

function checkBundles(bundles: unknown, base: Segment[], report: { error: Report; warn: Report }): void {
  const seen = new Map<string, number>();
  items(bundles).forEach((bundle, i) => {
    if (!isObject(bundle)) return;
    const tag = bundle['tag'];
    if (typeof tag === 'string') {
      if (!isValidTag(tag)) {
        report.error([...base, i, 'tag'], `invalid bundle tag "${tag}"`, 'a tag is 1-128 letters, digits, "_", "." and "-", not starting with "." or "-"');
      } else if (seen.has(tag)) {
        report.error([...base, i, 'tag'], `bundle tag "${tag}" is pushed twice in this repo (also bundles[${seen.get(tag)}])`, 'give each bundle its own tag');
      } else {
        seen.set(tag, i);
      }
    }
    const image = bundle['image'];
    if (typeof image === 'string' && image !== '' && !image.startsWith('oci:')) {
      report.error([...base, i, 'image'], `image "${image}" is not an OCI layout reference`, 'write image: oci:<dir>:<tag>, e.g. oci:./build/layout:web');
    }
    if (bundle['artifactType'] !== undefined && bundle['files'] === undefined) {
      report.warn([...base, i, 'artifactType'], 'artifactType applies to files bundles only and is ignored here', 'remove it; charts and images have their own media types', true);
    }
  });
}
