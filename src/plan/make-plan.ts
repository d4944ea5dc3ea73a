/**
 * `planCleanup`: the whole planning pipeline for a config — pick the repos (expanding repo patterns), plan their bundle pushes (refused,
 * unchanged or pushed; plan/bundles.ts), read each cleanup repo's inventory through its driver (bounded per
 * host) as it will be after those pushes, gather facts for keep rules that need I/O, evaluate (pure), and
 * assemble the plan. Nothing here changes a registry.
 */
import pLimit from 'p-limit';
import { mergeBundleDecision, withPlannedTags } from './bundle-merge.ts';
import { planBundles, registryCapabilities, type RegistryCapabilities } from './bundles.ts';
import { displayAddress } from '../config/display.ts';
import { compileGlob, type TagPattern } from '../config/pattern.ts';
import { parseRepoPattern } from '../config/repo-pattern.ts';
import type { Config, RepoConfig, RepoPatternConfig } from '../config/types.ts';
import { refusesCleanup } from '../drivers/driver.ts';
import type { OpenedRepo } from '../drivers/open.ts';
import { UsageError } from '../errors.ts';
import { assemblePlan } from './assemble.ts';
import { estimateReclaimable } from './reclaim.ts';
import { evaluateCleanup, type CleanupTarget } from './evaluate.ts';
import { gatherPolicyFacts } from './facts.ts';
import { takeInventory, type InventoryProgress } from './inventory.ts';
import type { ManifestCache } from './manifest-cache.ts';
import { expandRepoPatterns, narrowExpansions } from './expand-repos.ts';
import { shardRepos, type ShardSpec } from './shard.ts';
import type { DeleteAction, Plan, PlanShard, RepoExpansion } from './types.ts';

/** Everything planning needs; `now` is explicit so the evaluator stays pure and tests stay deterministic. */
export interface PlanRequest {
  config: Config;
  configDigest: string;
  open: (address: string) => OpenedRepo;
  now: Date;
  cache: ManifestCache;
  /** `--repo GLOB` filters (any match selects the repo); empty = every repo. */
  repoGlobs?: readonly string[];
  /** `--shard K/N`: plan only the selected repos of this shard (plan/shard.ts); absent = every selected repo. */
  shard?: ShardSpec;
  progress?: InventoryProgress;
  /**
   * What a repo address can take (bundles refused or not), decided without opening it; default: detection from
   * the config alone. The CLI passes one that also honours --repo-container-registry and the environment.
   */
  capabilitiesOf?: (address: string) => RegistryCapabilities;
  /** The environment keep-rule sources read (KUBECONFIG and HOME for `inUse: kubernetes`); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Converts a shell-style glob (`*`, `?`) to an anchored pattern over the whole repo address (linear-time, config/pattern.ts). */
export const globToRegExp = (glob: string): TagPattern => compileGlob(glob);

/**
 * The repos a plan covers: those with a cleanup policy or bundles, filtered by `--repo` globs; `expanded` are the
 * repos repo patterns found (plan/expand-repos.ts), filtered the same way. A glob that matches no repo is a usage
 * error (a typo must not read as "No changes").
 */
export function selectRepos(config: Config, globs: readonly string[] = [], expanded: readonly RepoConfig[] = []): RepoConfig[] {
  const candidates = [...config.repos, ...expanded];
  const matches = (glob: TagPattern, repo: RepoConfig) => glob.test(displayAddress(repo)) || glob.test(repo.repo);
  const patterns = globs.map((glob) => ({ glob, pattern: globToRegExp(glob) }));
  const unmatched = patterns.find(({ pattern }) => !candidates.some((repo) => matches(pattern, repo)));
  if (unmatched) {
    const configured = [...candidates.map(displayAddress), ...(config.repoPatterns ?? []).map((entry) => `pattern ${entry.pattern}`)];
    const shown = configured.length > 20 ? `${configured.slice(0, 20).join(', ')} and ${configured.length - 20} more` : configured.join(', ');
    throw new UsageError(`--repo "${unmatched.glob}" matches no repo in the config`, {
      flag: '--repo',
      hint: configured.length === 0 ? 'the config lists no repos' : `the config's repos: ${shown}`,
    });
  }
  return candidates.filter((repo) => patterns.length === 0 || patterns.some(({ pattern }) => matches(pattern, repo)));
}

/**
 * The repo patterns worth expanding for `--repo` globs: all of them without globs; else those a glob could reach,
 * judged by the glob's literal start (before its first wildcard) against the pattern's `host/`, so a plan narrowed
 * to one registry lists no other registry's catalog.
 */
export function patternsToExpand(config: Config, globs: readonly string[] = []): RepoPatternConfig[] {
  const patterns = config.repoPatterns ?? [];
  if (globs.length === 0) return [...patterns];
  const starts = globs.map((glob) => glob.split(/[*?]/)[0] ?? '');
  return patterns.filter((entry) => {
    const host = `${parseRepoPattern(entry.pattern).writtenHost}`;
    return starts.some((start) => start.startsWith(host) || host.startsWith(start) || entry.pattern.startsWith(start));
  });
}

/**
 * The repos one plan covers, in the order that matters: select (`--repo` globs pick the config's entries and the
 * patterns they can reach) -> expand (patterns become concrete repos through the registries' listings) -> select
 * again among the expanded repos -> shard (`--shard K/N`, by each repo's address, so expanded repos are sharded like
 * listed ones) -> the expansions narrowed to the repos this plan covers.
 */
export async function resolvePlanRepos(
  request: Pick<PlanRequest, 'config' | 'open' | 'repoGlobs' | 'shard'>,
): Promise<{ repos: RepoConfig[]; expansions?: RepoExpansion[]; shard?: PlanShard }> {
  const { config } = request;
  const globs = request.repoGlobs ?? [];
  const toExpand = patternsToExpand(config, globs);
  const expanded = toExpand.length === 0 ? undefined : await expandRepoPatterns(toExpand, { config, open: request.open });
  const { repos, shard } = shardRepos(selectRepos(config, globs, expanded?.repos), request.shard);
  return {
    repos,
    ...(expanded === undefined ? {} : { expansions: narrowExpansions(expanded.expansions, repos) }),
    ...(shard === undefined ? {} : { shard }),
  };
}

/** Makes the plan (bundle pushes and cleanup) for the selected repos. */
export async function planCleanup(request: PlanRequest): Promise<Plan> {
  const { config } = request;
  const { repos: selected, expansions, shard } = await resolvePlanRepos(request);
  const limits = new Map<string, ReturnType<typeof pLimit>>();
  const limitFor = (hostKey: string) => {
    let limit = limits.get(hostKey);
    if (!limit) limits.set(hostKey, (limit = pLimit(config.settings.concurrency)));
    return limit;
  };
  const bundles = await planBundles({
    repos: selected.filter((repo) => repo.bundles.length > 0).map((repo) => ({ repo, display: displayAddress(repo) })),
    open: request.open,
    capabilitiesOf: request.capabilitiesOf ?? registryCapabilities(config),
    limit: (hostKey, work) => limitFor(hostKey)(work),
  });
  const repos = selected.filter((repo) => repo.cleanup !== undefined);
  const facts = await gatherPolicyFacts(repos.map((repo) => repo.cleanup).filter((p) => p !== undefined), { baseDir: config.dir, ...(request.env === undefined ? {} : { env: request.env }) });
  const targets: CleanupTarget[] = await Promise.all(
    repos.map(async (repo) => {
      const opened = request.open(repo.repo);
      if (refusesCleanup(opened.driver)) throw opened.driver.cleanupRefusal();
      const display = displayAddress(repo);
      const inventory = await takeInventory(
        { repo: display, name: opened.name, driver: opened.driver },
        { cache: request.cache, limit: limitFor(opened.hostKey), now: request.now.getTime(), ...(request.progress ? { progress: request.progress } : {}) },
      );
      return { inventory: withPlannedTags(inventory, bundles.planned.get(display)), policy: repo.cleanup as NonNullable<RepoConfig['cleanup']> };
    }),
  );
  const decision = evaluateCleanup(targets, { facts, now: request.now, graceMs: config.settings.graceMs });
  const merged = mergeBundleDecision(decision, bundles);
  // Names the registries listed that fail the grammar were never evaluated; the plan shows them as skipped.
  const rejected = targets.flatMap((target) => target.inventory.rejected ?? []);
  const skipped = [...merged.skipped, ...rejected].sort((a, b) => (a.repo < b.repo ? -1 : a.repo > b.repo ? 1 : 0));
  // deletes grouped by repo once: an org-wide plan has thousands of repos
  const deletesByRepo = new Map<string, DeleteAction[]>();
  for (const action of decision.actions) {
    if (action.type !== 'delete') continue;
    const list = deletesByRepo.get(action.repo);
    if (list === undefined) deletesByRepo.set(action.repo, [action]);
    else list.push(action);
  }
  const reclaimable = [...targets]
    .sort((a, b) => (a.inventory.repo < b.inventory.repo ? -1 : a.inventory.repo > b.inventory.repo ? 1 : 0))
    .map((target) => estimateReclaimable(target.inventory, deletesByRepo.get(target.inventory.repo) ?? []))
    .filter((estimate) => estimate !== undefined);
  return assemblePlan({ ...merged, skipped, reclaimable, ...(expansions === undefined ? {} : { expansions }) }, { createdAt: request.now, configDigest: request.configDigest, ...(shard === undefined ? {} : { shard }) });
}
