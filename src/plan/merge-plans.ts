/**
 * `plan --merge`: joins the plan files of a sharded run (plan/shard.ts) into one plan — the report of the whole
 * run, and a plan file apply takes like any other. Merging all N shards gives exactly the plan an unsharded run
 * makes (same schema, same order, no `shard` field). Pure: files are read by the caller.
 *
 * It refuses, naming the files, whatever would make the report lie: a plan that is not a shard plan, different
 * regplan versions or config digests, different N or repo selections, a shard given twice, a repo in two files,
 * a repo in the wrong shard (an edited file). Missing shards are refused too, unless `allowPartial`: then the
 * merged plan keeps a `shard` record that says which shards it covers, so it never passes for the whole config.
 */
import { RegplanError } from '../errors.ts';
import { assemblePlan } from './assemble.ts';
import { byPattern } from './expand-repos.ts';
import { describeShards, shardIndexOf } from './shard.ts';
import type { Plan, PlanShard, RepoExpansion } from './types.ts';

/** A plan and the file it was read from (named in every refusal). */
export interface ShardPlanFile {
  file: string;
  plan: Plan;
}

/** The merged plan, and the shards it lacks (empty unless `allowPartial` let a partial merge through). */
export interface MergedPlans {
  plan: Plan;
  missing: number[];
}

const refuse = (message: string, hint: string, file?: string): RegplanError =>
  new RegplanError(message, { hint, ...(file === undefined ? {} : { context: { file } }) });

const REMAKE = 'make every shard plan from the same commit with the same regplan: regplan plan --shard K/N --out plan-K.json';

/** Files grouped by a value they must agree on, as `a.json and b.json: X; c.json: Y`. */
function disagreement(inputs: readonly ShardPlanFile[], valueOf: (plan: Plan) => string): string | undefined {
  const groups = new Map<string, string[]>();
  for (const { file, plan } of inputs) groups.set(valueOf(plan), [...(groups.get(valueOf(plan)) ?? []), file]);
  if (groups.size <= 1) return undefined;
  return [...groups].map(([value, files]) => `${files.join(' and ')}: ${value}`).join('; ');
}

/** Stable order by repo alone: each repo's entries come from one shard plan, already in the unsharded order. */
const byRepo = <T extends { repo: string }>(items: readonly T[]): T[] => [...items].sort((a, b) => (a.repo < b.repo ? -1 : a.repo > b.repo ? 1 : 0));

/** Checks that the shard plans belong together and joins them. */
export function mergeShardPlans(inputs: readonly ShardPlanFile[], options: { allowPartial?: boolean } = {}): MergedPlans {
  if (inputs.length === 0) throw refuse('--merge needs at least one plan file', 'regplan plan --merge plan-1.json plan-2.json …');
  const shards: { file: string; plan: Plan; shard: PlanShard }[] = [];
  for (const { file, plan } of inputs) {
    if (plan.shard === undefined) {
      throw refuse(`"${file}" is a plan of every selected repo, not of one shard, so there is nothing to merge it with`, 'merge the files of "regplan plan --shard K/N --out FILE"; a plan made without --shard is already whole', file);
    }
    shards.push({ file, plan, shard: plan.shard });
  }
  const versions = disagreement(inputs, (plan) => `regplan ${plan.regplanVersion}`);
  if (versions) throw refuse(`the shard plans were made by different regplan versions (${versions})`, REMAKE);
  const configs = disagreement(inputs, (plan) => `config ${plan.configDigest}`);
  if (configs) throw refuse(`the shard plans were made from different configs (${configs})`, REMAKE);
  const totals = disagreement(inputs, (plan) => `N = ${(plan.shard as PlanShard).total}`);
  if (totals) throw refuse(`the shard plans split the repos into different numbers of shards (${totals})`, 'use one N for every job of a run (GitLab parallel: N, or --shard K/N with the same N)');
  const selections = disagreement(inputs, (plan) => `${(plan.shard as PlanShard).selectedRepos} repos selected`);
  if (selections) throw refuse(`the shard plans were made from different repo selections (${selections})`, 'plan every shard with the same --repo filters');

  const total = (shards[0] as (typeof shards)[number]).shard.total;
  const selectedRepos = (shards[0] as (typeof shards)[number]).shard.selectedRepos;
  const fileOfShard = new Map<number, string>();
  const fileOfRepo = new Map<string, string>();
  for (const { file, plan, shard } of shards) {
    for (const index of shard.indexes) {
      const other = fileOfShard.get(index);
      if (other !== undefined) throw refuse(`shard ${index}/${total} is given twice: in "${other}" and in "${file}"`, 'pass each shard\'s plan file once', file);
      fileOfShard.set(index, file);
    }
    for (const repo of shard.repos) {
      const other = fileOfRepo.get(repo);
      if (other !== undefined) throw refuse(`repo "${repo}" is in two shard plans: "${other}" and "${file}"`, REMAKE, file);
      const belongs = shardIndexOf(repo, total);
      if (!shard.indexes.includes(belongs)) {
        throw refuse(`"${file}" (${describeShards(shard)}) lists repo "${repo}", which belongs to shard ${belongs}/${total}`, `the file was edited or made by another regplan; ${REMAKE}`, file);
      }
      fileOfRepo.set(repo, file);
    }
    const listed = new Set(shard.repos);
    const expanded = (plan.expansions ?? []).flatMap((expansion) => expansion.repos.map((repo) => ({ repo })));
    const stray = [...plan.actions, ...plan.kept, ...plan.skipped, ...(plan.notes ?? []), ...(plan.reclaimable ?? []), ...expanded].find((entry) => !listed.has(entry.repo));
    if (stray !== undefined) throw refuse(`"${file}" has an entry for repo "${stray.repo}", which its shard record does not list`, `the file was edited; ${REMAKE}`, file);
  }

  const indexes = [...fileOfShard.keys()].sort((a, b) => a - b);
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter((index) => !fileOfShard.has(index));
  const repos = [...fileOfRepo.keys()].sort();
  if (missing.length > 0 && options.allowPartial !== true) {
    throw refuse(
      `${describeShards({ indexes: missing, total })} missing: the files given (${inputs.map((i) => i.file).join(', ')}) cover ${describeShards({ indexes, total })} (${repos.length} of ${selectedRepos} repos), so the merged plan would not cover the whole config`,
      'pass the plan file of every shard, or --allow-partial for a report that says which shards it leaves out',
    );
  }
  if (missing.length === 0 && repos.length !== selectedRepos) {
    throw refuse(`the ${total} shard plans cover ${repos.length} repos, but each says the selection has ${selectedRepos}`, `a file was edited; ${REMAKE}`);
  }

  const ordered = [...shards].sort((a, b) => (a.shard.indexes[0] as number) - (b.shard.indexes[0] as number)).map((s) => s.plan);
  const all = <T>(pick: (plan: Plan) => readonly T[]): T[] => ordered.flatMap((plan) => [...pick(plan)]);
  const notes = byRepo(all((plan) => plan.notes ?? []));
  const createdAt = ordered.map((plan) => plan.createdAt).sort()[0] as string;
  const first = ordered[0] as Plan;
  const plan = assemblePlan(
    {
      actions: [...byRepo(all((p) => p.actions).filter((a) => a.type === 'push')), ...byRepo(all((p) => p.actions).filter((a) => a.type === 'delete'))],
      kept: byRepo(all((p) => p.kept)),
      skipped: byRepo(all((p) => p.skipped)),
      notes,
      reclaimable: byRepo(all((p) => p.reclaimable ?? [])),
      ...(ordered.some((p) => p.expansions !== undefined) ? { expansions: mergeExpansions(ordered) } : {}),
    },
    {
      createdAt: new Date(createdAt),
      configDigest: first.configDigest,
      regplanVersion: first.regplanVersion,
      ...(missing.length === 0 ? {} : { shard: { indexes, total, repos, selectedRepos } }),
    },
  );
  // The earliest shard's own text: the oldest observation the report rests on.
  return { plan: { ...plan, createdAt }, missing };
}

/**
 * The repo-pattern expansions of the shard plans joined: each pattern once (plans list them sorted by pattern), with
 * the repos of every shard; what the listing said besides (excluded, shadowed, rejected names) is the same in every
 * shard, so the first shard's account is kept.
 */
function mergeExpansions(plans: readonly Plan[]): RepoExpansion[] {
  const merged = new Map<string, RepoExpansion>();
  for (const expansion of plans.flatMap((plan) => plan.expansions ?? [])) {
    const known = merged.get(expansion.pattern);
    if (known === undefined) merged.set(expansion.pattern, { ...expansion, repos: [...expansion.repos] });
    else known.repos = [...new Set([...known.repos, ...expansion.repos])].sort();
  }
  return [...merged.values()].sort(byPattern);
}
