/**
 * `planCleanup`: the whole planning pipeline for a config — pick the repos, plan their bundle pushes (refused,
 * unchanged or pushed; plan/bundles.ts), read each cleanup repo's inventory through its driver (bounded per
 * host) as it will be after those pushes, gather facts for keep rules that need I/O, evaluate (pure), and
 * assemble the plan. Nothing here changes a registry.
 */
import pLimit from 'p-limit';
import { mergeBundleDecision, withPlannedTags } from './bundle-merge.ts';
import { planBundles, registryCapabilities, type RegistryCapabilities } from './bundles.ts';
import { displayAddress } from '../config/display.ts';
import { compileGlob, type TagPattern } from '../config/pattern.ts';
import type { Config, RepoConfig } from '../config/types.ts';
import { refusesCleanup } from '../drivers/driver.ts';
import type { OpenedRepo } from '../drivers/open.ts';
import { UsageError } from '../errors.ts';
import { assemblePlan } from './assemble.ts';
import { evaluateCleanup, type CleanupTarget } from './evaluate.ts';
import { gatherPolicyFacts } from './facts.ts';
import { takeInventory, type InventoryProgress } from './inventory.ts';
import type { ManifestCache } from './manifest-cache.ts';
import { shardRepos, type ShardSpec } from './shard.ts';
import type { Plan } from './types.ts';

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
 * The repos a plan covers: those with a cleanup policy or bundles, filtered by `--repo` globs. A glob that
 * matches no configured repo is a usage error (a typo must not read as "No changes").
 */
export function selectRepos(config: Config, globs: readonly string[] = []): RepoConfig[] {
  const matches = (glob: TagPattern, repo: RepoConfig) => glob.test(displayAddress(repo)) || glob.test(repo.repo);
  const patterns = globs.map((glob) => ({ glob, pattern: globToRegExp(glob) }));
  const unmatched = patterns.find(({ pattern }) => !config.repos.some((repo) => matches(pattern, repo)));
  if (unmatched) {
    const configured = config.repos.map(displayAddress);
    throw new UsageError(`--repo "${unmatched.glob}" matches no repo in the config`, {
      flag: '--repo',
      hint: configured.length === 0 ? 'the config lists no repos' : `the config's repos: ${configured.join(', ')}`,
    });
  }
  return config.repos.filter((repo) => patterns.length === 0 || patterns.some(({ pattern }) => matches(pattern, repo)));
}

/** Makes the plan (bundle pushes and cleanup) for the selected repos. */
export async function planCleanup(request: PlanRequest): Promise<Plan> {
  const { config } = request;
  const { repos: selected, shard } = shardRepos(selectRepos(config, request.repoGlobs), request.shard);
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
  return assemblePlan({ ...merged, skipped }, { createdAt: request.now, configDigest: request.configDigest, ...(shard === undefined ? {} : { shard }) });
}
