/**
 * `regplan plan`: a dry run. Reads every repo, decides what cleanup would delete and keep (and why), and shows
 * it (human, json, markdown) or saves it for `regplan apply plan.json`. It never changes a registry.
 */
import { UsageError } from '../errors.ts';
import { registryCapabilities } from '../plan/bundles.ts';
import { planCleanup } from '../plan/make-plan.ts';
import { guardMassDeletion, MassDeletionError } from '../plan/mass-delete.ts';
import { writePlanFile } from '../plan/planfile.ts';
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
  /** --allow-mass-delete: a plan over settings.maxDeletions is made anyway (with a warning). */
  allowMassDelete: boolean;
}

const HELP = `Usage: regplan plan [--out FILE] [--json | --format human|json|markdown] [--compact] [--repo GLOB]... [--detailed-exitcode] [--allow-mass-delete]

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
      --repo GLOB                     only repos whose address matches (repeatable; * and ? wildcards)
      --compact                       do not list kept tags in the human view
      --detailed-exitcode             exit 0 when there are no changes, 2 when there are, 1 on error
      --allow-mass-delete             make the plan even when it deletes more than settings.maxDeletions allows
                                      (without it such a plan is shown, not saved, and the exit code is 1)
      --repo-container-registry NAME  force the registry type of every repo (see "regplan registries")

Examples:
  regplan plan
  regplan plan --out plan.json --format markdown > plan.md
  regplan plan --repo 'ghcr.io/acme/*' --detailed-exitcode`;

/** Parses `plan` flags. */
export function parsePlanArgs(args: string[]): PlanArgs {
  const parsed = parseCommandArgs('plan', {
    args,
    strict: true,
    allowPositionals: false,
    options: {
      out: { type: 'string' },
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
  return {
    format,
    detailedExitcode: v['detailed-exitcode'] === true,
    repoGlobs: v.repo ?? [],
    compact: v.compact === true,
    allowMassDelete: v['allow-mass-delete'] === true,
    ...(v.out === undefined ? {} : { out: v.out }),
    ...(v['repo-container-registry'] === undefined ? {} : { registryFlag: v['repo-container-registry'] }),
  };
}

/** Makes the plan for the current config (shared with `apply` without a plan file). */
export async function makePlan(io: Io, globals: GlobalOptions, args: Pick<PlanArgs, 'repoGlobs' | 'registryFlag' | 'allowMassDelete'> & { quiet: boolean }): Promise<Plan> {
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
      plan = await makePlan(io, globals, { ...args, quiet: args.format === 'json' });
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
