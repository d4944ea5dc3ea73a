/**
 * Repo patterns (issue 11, repo discovery): a `repos[].repo` whose path holds `*` names every repository of a
 * registry that matches it, found at plan time (plan/expand-repos.ts). `*` matches characters within one path
 * segment (`ghcr.io/acme/*`, `localhost:5000/team/*-api`); a `**` segment matches one or more whole segments
 * (`registry.gitlab.com/group/**`). Wildcards are allowed in the path only, never in the host, and never in an
 * `oci:` layout. `exclude:` entries are full addresses in the same syntax, on the pattern's host.
 * Parsing reuses the address rules of model/repo-address.ts (a wildcard stands in for a name character there),
 * and matching goes through config/pattern.ts's linear-time engine.
 */
import { UsageError } from '../errors.ts';
import { parseRepo } from '../model/repo-address.ts';
import { compileRepoPathPattern, type TagPattern } from './pattern.ts';

/** A parsed repo pattern (or a concrete address parsed the same way, for `exclude:`). */
export interface RepoPattern {
  /** As written in the config. */
  written: string;
  /** Registry host as parseRepo canonicalizes it (`docker.io` for host-less names). */
  host: string;
  /** The pattern over repository names on that host, e.g. `acme/*` (`library/*` for a one-segment Hub name). */
  path: string;
  /**
   * The literal leading segments of `path` with a trailing `/` (`acme/` for `acme/*-api`, '' for `*` or `**`):
   * what the registry's lister is asked for (drivers may return more; callers filter).
   */
  prefix: string;
  /** Whether the path holds a wildcard at all. */
  wildcard: boolean;
  /** The host as written with its `/` (`ghcr.io/`), '' for a host-less Docker Hub pattern. */
  writtenHost: string;
}

/** The address of a repository `name` found for `pattern`, written the way the pattern writes its host. */
export function repoAddress(pattern: RepoPattern, name: string): string {
  if (pattern.writtenHost !== '') return `${pattern.writtenHost}${name}`;
  const path = pattern.written;
  return pattern.path !== path && name.startsWith('library/') ? name.slice('library/'.length) : name;
}

/** True when a repo address is written as a pattern (holds `*`); `oci:` addresses are never patterns. */
export const isRepoPattern = (address: string): boolean => address.includes('*');

/** What a pattern's segments may look like, in words (the hint of a syntax error). */
const PATTERN_HINT =
  'a pattern is host[:port]/path where path segments may use * (any characters within one segment) or be ** (one or more segments), e.g. ghcr.io/acme/*, registry.gitlab.com/group/**, localhost:5000/team/*-api';

/** Parses a pattern (or a concrete address); throws UsageError naming what is wrong. */
export function parseRepoPattern(written: string): RepoPattern {
  if (written.startsWith('oci:')) {
    throw new UsageError(`repo "${written}" is an OCI layout, which cannot be a pattern`, { hint: 'write the layout directory without * (oci:./path/to/layout); one entry per layout' });
  }
  const slash = written.indexOf('/');
  const first = slash === -1 ? written : written.slice(0, slash);
  const hasHost = slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if ((hasHost || slash === -1) && first.includes('*') && (first.includes('.') || first.includes(':'))) {
    throw new UsageError(`repo pattern "${written}" has a wildcard in its host`, { hint: 'wildcards are allowed in the path only: list each registry host in its own entry, e.g. ghcr.io/acme/*' });
  }
  const path = hasHost ? written.slice(slash + 1) : written;
  const segments = path.split('/');
  const bad = segments.find((segment) => segment !== '**' && segment.includes('**'));
  if (bad !== undefined) throw new UsageError(`repo pattern "${written}" uses ** inside the segment "${bad}"`, { hint: `** stands for whole segments only (group/**); within a segment write * (${PATTERN_HINT})` });
  // A wildcard stands for a name character, so parseRepo checks everything else: host, lowercase, separators, length.
  const placeholder = (hasHost ? `${first}/` : '') + segments.map((segment) => (segment === '**' ? 'x' : segment.replaceAll('*', 'x'))).join('/');
  let parsed: ReturnType<typeof parseRepo>;
  try {
    parsed = parseRepo(placeholder);
  } catch (error) {
    const hint = (error as UsageError).hint;
    throw new UsageError(`invalid repo pattern "${written}"`, { hint: hint !== undefined && /lower-case/.test(hint) ? 'repository names are lower-case' : PATTERN_HINT });
  }
  if (parsed.kind !== 'registry') throw new UsageError(`invalid repo pattern "${written}"`, { hint: PATTERN_HINT });
  const fullPath = parsed.name.length > placeholder.length - (hasHost ? first.length + 1 : 0) ? `library/${path}` : path;
  const literal: string[] = [];
  for (const segment of fullPath.split('/')) {
    if (segment.includes('*')) break;
    literal.push(segment);
  }
  const wildcard = fullPath.includes('*');
  const prefix = wildcard ? literal.map((s) => `${s}/`).join('') : fullPath;
  return { written, host: parsed.host, path: fullPath, prefix, wildcard, writtenHost: hasHost ? `${first.toLowerCase()}/` : '' };
}

/** A compiled pattern with its excludes: `matches(name)` for a repository name on `pattern.host`. */
export interface RepoMatcher {
  pattern: RepoPattern;
  excludes: RepoPattern[];
  /** True when the name matches the pattern (before excludes). */
  matches(name: string): boolean;
  /** The exclude entry (as written) that removes the name, if any. */
  excludedBy(name: string): string | undefined;
}

/**
 * Compiles a pattern and its `exclude:` entries (full addresses on the same host, patterns or concrete repos).
 * Throws UsageError for a malformed entry or an exclude on another host.
 */
export function compileRepoMatcher(written: string, exclude: readonly string[] = []): RepoMatcher {
  const pattern = parseRepoPattern(written);
  const excludes = exclude.map((entry) => parseExclude(entry, pattern));
  const compiled = compileRepoPathPattern(pattern.path, `repo pattern "${written}"`);
  const excluders = excludes.map((e): [string, TagPattern] => [e.written, compileRepoPathPattern(e.path, `exclude "${e.written}"`)]);
  return {
    pattern,
    excludes,
    matches: (name) => compiled.test(name),
    excludedBy: (name) => excluders.find(([, matcher]) => matcher.test(name))?.[0],
  };
}

/** Parses one `exclude:` entry of `pattern`; it must name the pattern's host. */
export function parseExclude(entry: string, pattern: RepoPattern): RepoPattern {
  const parsed = parseRepoPattern(entry);
  if (parsed.host !== pattern.host) {
    throw new UsageError(`exclude "${entry}" is on ${parsed.host}, not on the pattern's host ${pattern.host}`, {
      hint: `write excludes as full addresses on the pattern's host, e.g. ${pattern.host === 'docker.io' && !/^docker\.io\//.test(pattern.written) ? '' : `${pattern.host}/`}${pattern.prefix}legacy-*`,
    });
  }
  return parsed;
}
