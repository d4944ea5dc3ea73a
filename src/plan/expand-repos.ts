/**
 * Repo discovery at plan time (issue 11): each repo pattern of the config (`ghcr.io/acme/*`, config/repo-pattern.ts)
 * becomes the concrete repos its registry lists under the pattern's literal prefix, filtered by the pattern and its
 * `exclude:` entries, each carrying the pattern entry's cleanup policy. Rules:
 * - names come from the registry and are hostile until checked: one that fails the repository grammar is never
 *   requested, only reported (`rejected`);
 * - a repo also listed on its own entry keeps that entry (its policy is what the user wrote for it), and a repo two
 *   patterns match belongs to the first in config order (`shadowed` says so);
 * - a pattern matching nothing is an error naming it and its line, as is a registry whose driver cannot list repos;
 * - the plan records each expansion (`Plan.expansions`, sorted by pattern), and apply acts on exactly those repos, never re-expanding:
 *   `plannedRepoAddresses` checks a saved plan's expansions against the config before apply opens any of them.
 */
import { displayAddress } from '../config/display.ts';
import { compileRepoMatcher, repoAddress, type RepoMatcher } from '../config/repo-pattern.ts';
import type { Config, RepoConfig, RepoPatternConfig } from '../config/types.ts';
import { canListRepositories } from '../drivers/driver.ts';
import type { OpenedRepo } from '../drivers/open.ts';
import { RegplanError, StalePlanError } from '../errors.ts';
import { isValidRepoName, quoteName } from '../model/names.ts';
import { parseRepo } from '../model/repo-address.ts';
import type { Plan, RepoExpansion } from './types.ts';

/** What expanding the config's patterns yields: concrete repos (with the pattern's policy) and one record per pattern. */
export interface ExpandedRepos {
  repos: RepoConfig[];
  expansions: RepoExpansion[];
}

/** How many names a "matches nothing" error shows of what the registry did list. */
const SHOWN_NAMES = 10;

/**
 * Expands `patterns` (a subset of `config.repoPatterns`, in config order) through each registry's RepositoryLister.
 * One listing per registry and prefix, however many patterns share it.
 */
export async function expandRepoPatterns(
  patterns: readonly RepoPatternConfig[],
  options: { config: Config; open: (address: string) => OpenedRepo },
): Promise<ExpandedRepos> {
  const listings = new Map<string, Promise<string[]>>();
  const matchers = patterns.map((entry) => ({ entry, matcher: compileRepoMatcher(entry.pattern, entry.exclude) }));
  const listed = await Promise.all(matchers.map(({ entry, matcher }) => listFor(entry, matcher, options.open, listings)));
  const owner = explicitOwners(options.config);
  const repos: RepoConfig[] = [];
  const expansions: RepoExpansion[] = [];
  matchers.forEach(({ entry, matcher }, index) => {
    const expansion: RepoExpansion = { pattern: entry.pattern, repos: [] };
    const matched = new Set<string>();
    const rejected: string[] = [];
    for (const name of listed[index] ?? []) {
      if (!name.startsWith(matcher.pattern.prefix) || !matcher.matches(name) || matched.has(name)) continue;
      matched.add(name);
      if (!isValidRepoName(name)) {
        rejected.push(quoteName(name));
        continue;
      }
      const address = repoAddress(matcher.pattern, name);
      const excludedBy = matcher.excludedBy(name);
      if (excludedBy !== undefined) {
        (expansion.excluded ??= []).push({ repo: address, by: excludedBy });
        continue;
      }
      const key = `${matcher.pattern.host}/${name}`;
      const by = owner.get(key);
      if (by !== undefined) {
        (expansion.shadowed ??= []).push({ repo: address, by });
        continue;
      }
      owner.set(key, entry.pattern);
      expansion.repos.push(address);
      repos.push({ repo: address, ...(entry.cleanup === undefined ? {} : { cleanup: entry.cleanup }), bundles: [] });
    }
    if (rejected.length > 0) expansion.rejected = rejected;
    if (matched.size === 0) throw matchesNothing(entry, matcher, listed[index] ?? []);
    expansion.repos.sort();
    expansions.push(expansion);
  });
  return { repos, expansions };
}

/**
 * Keeps in each expansion only the repos a plan covers (after `--repo` globs, and after sharding): the plan file
 * records what apply may act on, no more. An expansion whose repos were all narrowed away is dropped; one that
 * had none to begin with (every match excluded or left to another entry) stays, to show why.
 */
export function narrowExpansions(expansions: readonly RepoExpansion[], repos: readonly RepoConfig[]): RepoExpansion[] {
  const covered = new Set(repos.map(displayAddress));
  return expansions
    .map((expansion) => ({ before: expansion.repos.length, expansion: { ...expansion, repos: expansion.repos.filter((repo) => covered.has(repo)) } }))
    .filter(({ before, expansion }) => expansion.repos.length > 0 || before === 0)
    .map(({ expansion }) => expansion)
    .sort(byPattern);
}

/**
 * Plans list expansions by pattern text, not config order: a shard plan holds only the patterns with repos in its
 * shard, and a merge of shard plans must come out in the one order the unsharded plan has.
 */
export const byPattern = (a: RepoExpansion, b: RepoExpansion): number => (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0);

/** Registry-side addresses of a saved plan's repos: config repos, and each expansion's repos checked against its pattern. */
export function plannedRepoAddresses(plan: Pick<Plan, 'expansions'>, config: Config): Map<string, string> {
  const addresses = new Map(config.repos.map((repo) => [displayAddress(repo), repo.repo]));
  for (const expansion of plan.expansions ?? []) {
    const entry = config.repoPatterns?.find((candidate) => candidate.pattern === expansion.pattern);
    if (entry === undefined) {
      throw new StalePlanError(`repo pattern "${expansion.pattern}" of the plan is not in ${config.file}`, { hint: 'make a fresh plan from the current config' });
    }
    const matcher = compileRepoMatcher(entry.pattern, entry.exclude);
    for (const repo of expansion.repos) {
      if (!belongsTo(repo, matcher)) {
        throw new StalePlanError(`repo "${repo}" is recorded as an expansion of "${expansion.pattern}" in the plan, but the pattern does not match it`, {
          hint: 'the plan file was edited; make a fresh plan with "regplan plan --out plan.json"',
        });
      }
      if (!addresses.has(repo)) addresses.set(repo, repo);
    }
  }
  return addresses;
}

/** True when `address` is on the pattern's host, matches it and no exclude removes it. */
function belongsTo(address: string, matcher: RepoMatcher): boolean {
  let ref: ReturnType<typeof parseRepo>;
  try {
    ref = parseRepo(address);
  } catch {
    return false;
  }
  return ref.kind === 'registry' && ref.host === matcher.pattern.host && matcher.matches(ref.name) && matcher.excludedBy(ref.name) === undefined;
}

/** Who owns each concrete repo before patterns are expanded: its own entry (by `host/name`). */
function explicitOwners(config: Config): Map<string, string> {
  const owner = new Map<string, string>();
  for (const repo of config.repos) {
    if (repo.repo.startsWith('oci:')) continue;
    const ref = parseRepo(repo.repo);
    if (ref.kind === 'registry') owner.set(`${ref.host}/${ref.name}`, `its own entry (${displayAddress(repo)})`);
  }
  return owner;
}

/** The names the pattern's registry lists under its prefix (shared by patterns with the same registry and prefix). */
function listFor(entry: RepoPatternConfig, matcher: RepoMatcher, open: (address: string) => OpenedRepo, listings: Map<string, Promise<string[]>>): Promise<string[]> {
  const { pattern } = matcher;
  // The driver is opened for a stand-in repo under the prefix, so repository-path credential keys apply as for its repos.
  const opened = open(`${pattern.host}/${pattern.path.split('/').map((s) => (s.includes('*') ? 'x' : s)).join('/')}`);
  const { driver } = opened;
  if (!canListRepositories(driver)) {
    return Promise.reject(
      new RegplanError(`cannot expand repo pattern "${entry.pattern}"${at(entry)}: the ${driver.type} driver for ${pattern.host} cannot list repositories`, {
        hint: `list the repos explicitly in repos[], one entry per repo (e.g. ${repoAddress(pattern, `${pattern.prefix}api`)})`,
        context: { registry: pattern.host },
      }),
    );
  }
  const key = `${driver.type} ${opened.hostKey} ${pattern.prefix}`;
  let listing = listings.get(key);
  if (listing === undefined) listings.set(key, (listing = driver.listRepositories(pattern.prefix)));
  return listing;
}

function matchesNothing(entry: RepoPatternConfig, matcher: RepoMatcher, listed: readonly string[]): RegplanError {
  const { pattern } = matcher;
  const under = listed.filter((name) => name.startsWith(pattern.prefix));
  const shown = under.slice(0, SHOWN_NAMES).map(quoteName).join(', ');
  const scope = pattern.prefix === '' ? '' : ` under "${pattern.prefix}"`;
  return new RegplanError(`repo pattern "${entry.pattern}"${at(entry)} matches no repository on ${pattern.host}`, {
    hint: under.length === 0
      ? `the registry lists no repository${scope} that these credentials can see; check the pattern's path and the login`
      : `the registry lists ${under.length}${scope}: ${shown}${under.length > SHOWN_NAMES ? ', …' : ''}; * matches within one path segment, ** one or more segments`,
    context: { registry: pattern.host },
  });
}

const at = (entry: RepoPatternConfig): string => (entry.where === undefined ? '' : ` (${entry.where})`);

