/**
 * `regplan plan`: a dry run. Reads every repo, decides what cleanup would delete and keep (and why), and shows
 * it (human, json, markdown) or saves it for `regplan apply plan.json`. It never changes a registry.
 */
import { UsageError } from '../errors.ts';
import { registryCapabilities } from '../plan/bundles.ts';
import { planCleanup } from '../plan/make-plan.ts';
import { guardMassDeletion, MassDeletionError } from '../plan/mass-delete.ts';
import { mergeShardPlans, type ShardPlanFile } from '../plan/merge-plans.ts';
import { readPlanFile, writePlanFile } from '../plan/planfile.ts';
import { chooseShard, describeShards, parseShardFlag, type ShardSpec } from '../plan/shard.ts';
import type { Plan } from '../plan/types.ts';
import { appendTextFile, type Io, path } from '../runtime.ts';
import type { Command, GlobalOptions } from './command.ts';
import { loadPlanningContext, progressLine } from './planning-context.ts';
import { renderPlanHuman } from './views/plan-human.ts';
import { renderPlanMarkdown } from './views/plan-markdown.ts';
import { parseCommandArgs } from './args.ts';

/** The parsed flags of `plan`. */
export interface PlanArgs {
  format: 'human' | 'json' | 'markdown';
  out?: string;
  detailedExitcode: boolean;
  repoGlobs: string[];
  registryFlag?: string;
  compact: boolean;
  /** `--shard K/N` as given (checked by parsePlanArgs); without it CI_NODE_INDEX/CI_NODE_TOTAL may choose one. */
  shard?: string;
  /** `--merge FILE…`: join these shard plan files instead of planning. */
  merge?: string[];
  allowPartial: boolean;
  /** --allow-mass-delete: a plan over settings.maxDeletions is made anyway (with a warning). */
  allowMassDelete: boolean;
}

const HELP = `Usage: regplan plan [--out FILE] [--json | --format human|json|markdown] [--compact] [--repo GLOB]... [--shard K/N] [--detailed-exitcode] [--allow-mass-delete]
       regplan plan --merge PLAN.json... [--allow-partial] [--out FILE] [--json | --format human|json|markdown]

A dry run: reads each repo in the config, decides which bundles it would push (packaged locally and compared
with the tag's digest: unchanged bundles are no-ops), which tags cleanup would delete and which it keeps (with
the rules behind each), and prints the plan. Nothing is changed. Save it with --out and run it later with
"regplan apply FILE", which deletes exactly what the saved plan says and re-checks each tag first.

Flags:
      --out FILE                      also save the plan as JSON (schema/plan.schema.json)
      --json                          print the plan as JSON (same as --format json)
      --format human|json|markdown    output format; markdown (totals, then a collapsible table per repo) is for
                                      a merge-request comment. With $GITHUB_STEP_SUMMARY set (GitHub Actions)
                                      the markdown is also appended there, whatever the format
      --repo GLOB                     only repos whose address matches (repeatable; * and ? wildcards), repos
                                      that repo patterns expanded to included
      --shard K/N                     plan only shard K of N (1 ≤ K ≤ N): a repo's shard is sha256 of its address,
                                      modulo N, so it never depends on the other repos. Default: CI_NODE_INDEX/
                                      CI_NODE_TOTAL when set (GitLab "parallel:"); --shard 1/1 plans every repo
      --merge PLAN.json...            join the plan files of every shard of one run into one plan (the report of
                                      the whole run; apply takes it like any plan). Refused when the files come
                                      from different configs or N, repeat a shard or a repo, or lack a shard
      --allow-partial                 with --merge: accept missing shards; the plan then says which it covers
      --compact                       do not list kept tags in the human view
      --detailed-exitcode             exit 0 when there are no changes, 2 when there are, 1 on error
      --allow-mass-delete             make the plan even when it deletes more than settings.maxDeletions allows
                                      (without it such a plan is shown, not saved, and the exit code is 1)
      --repo-container-registry NAME  force the registry type of every repo (see "regplan registries")

Examples:
  regplan plan
  regplan plan --out plan.json --format markdown > plan.md
  regplan plan --repo 'ghcr.io/acme/*' --detailed-exitcode
  regplan plan --shard 2/4 --out plan-2.json
  regplan plan --merge plan-1.json plan-2.json plan-3.json plan-4.json --format markdown`;

/** Parses `plan` flags. */
export function parsePlanArgs(args: string[]): PlanArgs {
  const parsed = parseCommandArgs('plan', {
    args,
    strict: true,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      shard: { type: 'string' },
      merge: { type: 'boolean', default: false },
      'allow-partial': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      format: { type: 'string' },
      repo: { type: 'string', multiple: true },
      compact: { type: 'boolean', default: false },
      'detailed-exitcode': { type: 'boolean', default: false },
      'repo-container-registry': { type: 'string' },
      'allow-mass-delete': { type: 'boolean', default: false },
    },
  }, 'see regplan plan --help');
  const v = parsed.values;
  const format = v.json ? 'json' : (v.format ?? 'human');
  if (format !== 'human' && format !== 'json' && format !== 'markdown') {
    throw new UsageError(`regplan plan: --format must be human, json or markdown, not "${format}"`, { flag: '--format' });
  }
  if (v.json && v.format !== undefined && v.format !== 'json') {
    throw new UsageError('regplan plan: --json and --format ' + v.format + ' contradict each other', { flag: '--json' });
  }
  const merging = v.merge === true;
  if (!merging && parsed.positionals.length > 0) {
    throw new UsageError(`regplan plan takes no file arguments, got "${parsed.positionals.join(' ')}"`, { hint: 'to join shard plans: regplan plan --merge plan-1.json plan-2.json …' });
  }
  if (merging && parsed.positionals.length === 0) throw new UsageError('regplan plan --merge needs the shard plan files to join', { flag: '--merge', hint: 'regplan plan --merge plan-1.json plan-2.json …' });
  if (v['allow-partial'] === true && !merging) throw new UsageError('regplan plan: --allow-partial only goes with --merge', { flag: '--allow-partial' });
  if (merging) {
    const clash = (['shard', 'repo', 'repo-container-registry'] as const).find((flag) => v[flag] !== undefined);
    if (clash) throw new UsageError(`regplan plan: --${clash} plans repos, --merge only joins plan files; use one or the other`, { flag: `--${clash}` });
  }
  if (v.shard !== undefined) parseShardFlag(v.shard);
  return {
    format,
    detailedExitcode: v['detailed-exitcode'] === true,
    repoGlobs: v.repo ?? [],
    compact: v.compact === true,
    allowPartial: v['allow-partial'] === true,
    allowMassDelete: v['allow-mass-delete'] === true,
    ...(merging ? { merge: parsed.positionals } : {}),
    ...(v.shard === undefined ? {} : { shard: v.shard }),
    ...(v.out === undefined ? {} : { out: v.out }),
    ...(v['repo-container-registry'] === undefined ? {} : { registryFlag: v['repo-container-registry'] }),
  };
}

/** Makes the plan for the current config (shared with `apply` without a plan file). */
export async function makePlan(io: Io, globals: GlobalOptions, args: Pick<PlanArgs, 'repoGlobs' | 'registryFlag' | 'allowMassDelete'> & { quiet: boolean; shard?: ShardSpec }): Promise<Plan> {
  const context = await loadPlanningContext(io, globals, args.registryFlag === undefined ? {} : { registryFlag: args.registryFlag });
  for (const w of context.warnings) io.stderr(`Warning: ${w.file}:${w.line}:${w.col} ${w.path}: ${w.message}\n`);
  const line = progressLine(io, !args.quiet);
  let plan: Plan;
  try {
    plan = await context.withRegistries(() => planCleanup({
      config: context.config,
      configDigest: context.configDigest,
      open: context.open,
      now: new Date(),
      cache: context.cache,
      repoGlobs: args.repoGlobs,
      ...(args.shard === undefined ? {} : { shard: args.shard }),
      env: io.env,
      capabilitiesOf: registryCapabilities(context.config, { env: io.env, ...(args.registryFlag === undefined ? {} : { registryFlag: args.registryFlag }) }),
      ...(line.progress ? { progress: line.progress } : {}),
    }));
  } finally {
    line.done();
  }
  for (const warning of guardMassDeletion(plan, context.config.settings.maxDeletions, { allowed: args.allowMassDelete, when: 'plan' })) io.stderr(`Warning: ${warning}\n`);
  return plan;
}

/** The shard to plan as makePlan's option: --shard, else CI_NODE_INDEX/CI_NODE_TOTAL, else none. */
export function shardOption(flag: string | undefined, io: Io): { shard?: ShardSpec } {
  const shard = chooseShard(flag, io.env);
  return shard === undefined ? {} : { shard };
}

/** `--merge`: reads and checks each shard plan file, joins them, and says on stderr what was joined. */
async function mergePlanFiles(files: readonly string[], io: Io, args: Pick<PlanArgs, 'allowPartial'>): Promise<Plan> {
  const inputs: ShardPlanFile[] = [];
  for (const file of files) inputs.push({ file, plan: await readPlanFile(path.resolve(io.cwd, file)) });
  const { plan, missing } = mergeShardPlans(inputs, { allowPartial: args.allowPartial });
  const total = inputs[0]?.plan.shard?.total ?? 0;
  const covered = plan.shard?.repos.length ?? inputs.reduce((sum, input) => sum + (input.plan.shard?.repos.length ?? 0), 0);
  if (missing.length > 0) {
    io.stderr(`Warning: ${describeShards({ indexes: missing, total })} missing (--allow-partial): the merged plan covers ${covered} of ${plan.shard?.selectedRepos ?? 0} repos, not the whole config.\n`);
  } else {
    io.stderr(`Merged ${files.length} plan file${files.length === 1 ? '' : 's'}: all ${total} shard${total === 1 ? '' : 's'}, ${covered} repo${covered === 1 ? '' : 's'}.\n`);
  }
  return plan;
}

/** Renders a plan in the requested format. */
export function renderPlan(plan: Plan, format: PlanArgs['format'], options: { color: boolean; compact: boolean }): string {
  if (format === 'json') return JSON.stringify(plan, null, 2) + '\n';
  if (format === 'markdown') return renderPlanMarkdown(plan);
  return renderPlanHuman(plan, { color: options.color, showKept: !options.compact });
}

/**
 * In GitHub Actions ($GITHUB_STEP_SUMMARY set) appends the markdown view to the job summary, whatever the output
 * format. The summary is a convenience: failing to write it is a warning, never a failed plan.
 */
async function appendStepSummary(plan: Plan, io: Io): Promise<void> {
  const file = io.env['GITHUB_STEP_SUMMARY'];
  if (file === undefined || file === '') return;
  try {
    await appendTextFile(path.resolve(io.cwd, file), `${renderPlanMarkdown(plan)}\n`);
  } catch (error) {
    io.stderr(`Warning: cannot append the plan to $GITHUB_STEP_SUMMARY (${file}): ${(error as Error).message}\n`);
  }
}

/** The `plan` command. */
export const command: Command = {
  name: 'plan',
  summary: 'show what cleanup would delete and keep, and why (a dry run; --out saves it)',
  help: HELP,
  checkArgs: (args) => void parsePlanArgs(args),
  async run(argv, io, globals) {
    const args = parsePlanArgs(argv);
    let plan: Plan;
    try {
      plan = args.merge === undefined ? await makePlan(io, globals, {
        repoGlobs: args.repoGlobs,
        quiet: args.format === 'json',
        allowMassDelete: args.allowMassDelete,
        ...(args.registryFlag === undefined ? {} : { registryFlag: args.registryFlag }),
        ...shardOption(args.shard, io),
      }) : await mergePlanFiles(args.merge, io, args);
    } catch (error) {
      // over settings.maxDeletions: show the plan for review, save nothing, fail
      if (error instanceof MassDeletionError) io.stdout(renderPlan(error.plan, args.format, { color: globals.color, compact: args.compact }));
      throw error;
    }
    if (args.out !== undefined) await writePlanFile(path.resolve(io.cwd, args.out), plan);
    io.stdout(renderPlan(plan, args.format, { color: globals.color, compact: args.compact }));
    await appendStepSummary(plan, io);
    if (args.out !== undefined && args.format !== 'json') io.stderr(`Saved the plan to ${args.out}; run "regplan apply ${args.out}" to carry it out.\n`);
    const changes = plan.actions.length > 0;
    return args.detailedExitcode && changes ? 2 : 0;
  },
};
