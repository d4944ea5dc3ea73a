/**
 * Sharding (`plan --shard K/N`): splits the selected repos over N CI jobs so each plans and applies its own part.
 * A repo's shard depends on its display address and N alone — the first 8 bytes of sha256(address) as a big-endian
 * unsigned integer, modulo N, plus 1 — so it is the same on every machine and Node version, and adding or removing
 * other repos never moves it. A repo entry is never split: its bundles and its cleanup go to the same shard.
 * Without the flag, GitLab's `parallel:` variables CI_NODE_INDEX (1-based) and CI_NODE_TOTAL choose the shard.
 */
import { createHash } from 'node:crypto';
import { displayAddress } from '../config/display.ts';
import type { RepoConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import type { PlanShard } from './types.ts';

/** One shard of N: `index` is 1-based, 1 ≤ index ≤ total. */
export interface ShardSpec {
  index: number;
  total: number;
}

/** The shard (1..total) a repo address belongs to. */
export function shardIndexOf(address: string, total: number): number {
  const hex = createHash('sha256').update(address, 'utf8').digest('hex');
  return Number(BigInt(`0x${hex.slice(0, 16)}`) % BigInt(total)) + 1;
}

/** What sharding kept of a selection: the shard's repos, and the record the plan carries (absent when not sharded). */
export interface ShardedRepos<T> {
  repos: T[];
  shard?: PlanShard;
}

/** Keeps the repos of one shard, in their order; without a shard every repo stays and there is no record. */
export function shardRepos<T extends RepoConfig>(repos: readonly T[], shard: ShardSpec | undefined): ShardedRepos<T> {
  if (shard === undefined) return { repos: [...repos] };
  const mine = repos.filter((repo) => shardIndexOf(displayAddress(repo), shard.total) === shard.index);
  return {
    repos: mine,
    shard: { indexes: [shard.index], total: shard.total, repos: mine.map(displayAddress).sort(), selectedRepos: repos.length },
  };
}

const WHOLE = /^[1-9][0-9]{0,5}$/;

/** Parses `K/N` as given to --shard; a bad value is a usage error naming the flag. */
export function parseShardFlag(text: string): ShardSpec {
  const match = /^([0-9]+)\/([0-9]+)$/.exec(text.trim());
  const usage = 'write it as K/N with whole numbers, 1 ≤ K ≤ N: --shard 2/4 plans the second of four shards';
  if (!match || !WHOLE.test(match[1] as string) || !WHOLE.test(match[2] as string)) {
    throw new UsageError(`--shard must be K/N (e.g. 2/4), not "${text}"`, { flag: '--shard', hint: usage });
  }
  const spec = { index: Number(match[1]), total: Number(match[2]) };
  if (spec.index > spec.total) throw new UsageError(`--shard ${text}: K (${spec.index}) is larger than N (${spec.total})`, { flag: '--shard', hint: usage });
  return spec;
}

/**
 * The shard GitLab's `parallel:` asks for. GitLab sets CI_NODE_TOTAL on every job (1 without `parallel:`) and
 * CI_NODE_INDEX only on parallel ones; so a job with neither, or with CI_NODE_TOTAL=1 alone, is not sharded.
 * Anything else malformed is a usage error naming the variable.
 */
export function shardFromEnv(env: Readonly<Record<string, string | undefined>>): ShardSpec | undefined {
  const rawIndex = env['CI_NODE_INDEX'];
  const rawTotal = env['CI_NODE_TOTAL'];
  const hint = 'GitLab sets CI_NODE_INDEX (1-based) and CI_NODE_TOTAL for jobs with "parallel:"; pass --shard K/N to choose the shard yourself, or --shard 1/1 to plan every repo';
  const whole = (name: string, value: string): number => {
    if (!WHOLE.test(value.trim())) throw new UsageError(`${name}="${value}" is not a whole number of at least 1`, { hint });
    return Number(value.trim());
  };
  if ((rawIndex === undefined || rawIndex === '') && (rawTotal === undefined || rawTotal === '')) return undefined;
  if (rawIndex === undefined || rawIndex === '') {
    if (whole('CI_NODE_TOTAL', rawTotal as string) === 1) return undefined;
    throw new UsageError(`CI_NODE_TOTAL=${rawTotal} is set but CI_NODE_INDEX is not, so the shard is unknown`, { hint });
  }
  if (rawTotal === undefined || rawTotal === '') throw new UsageError(`CI_NODE_INDEX=${rawIndex} is set but CI_NODE_TOTAL is not, so the number of shards is unknown`, { hint });
  const spec = { index: whole('CI_NODE_INDEX', rawIndex), total: whole('CI_NODE_TOTAL', rawTotal) };
  if (spec.index > spec.total) throw new UsageError(`CI_NODE_INDEX=${rawIndex} is larger than CI_NODE_TOTAL=${rawTotal}`, { hint });
  return spec;
}

/** The shard a run plans: --shard when given, else the CI variables, else none. */
export function chooseShard(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): ShardSpec | undefined {
  return flag === undefined ? shardFromEnv(env) : parseShardFlag(flag);
}

/** `shard 2/4`, or `shards 1, 3 of 4` for a partial merge. */
export function describeShards(shard: Pick<PlanShard, 'indexes' | 'total'>): string {
  const [only] = shard.indexes;
  return shard.indexes.length === 1 && only !== undefined ? `shard ${only}/${shard.total}` : `shards ${shard.indexes.join(', ')} of ${shard.total}`;
}
