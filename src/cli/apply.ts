/**
 * `regplan apply [PLAN]`: carries out a saved plan exactly, or re-plans and asks first (`--auto-approve` in CI).
 * A saved plan is refused when its format or the config it was made from changed.
 */
import { type ActionReport, applyPlan } from '../apply/execute.ts';
import { Journal } from '../apply/journal.ts';
import { StalePlanError, UsageError } from '../errors.ts';
import { guardMassDeletion } from '../plan/mass-delete.ts';
import { plannedRepoAddresses } from '../plan/expand-repos.ts';
import { planDigest, readPlanFile } from '../plan/planfile.ts';
import type { Plan } from '../plan/types.ts';
import { type Io, path } from '../runtime.ts';
import type { Command } from './command.ts';
import { makePlan, renderPlan, shardOption } from './plan.ts';
import { parseShardFlag } from '../plan/shard.ts';
import { applyProgressLine, loadPlanningContext } from './planning-context.ts';
import { shardLine, shortDigest } from './views/plan-human.ts';
import { parseCommandArgs } from './args.ts';

const HELP = `Usage: regplan apply [PLAN.json] [--auto-approve] [--journal FILE] [--json] [--repo GLOB]... [--shard K/N] [--allow-mass-delete]

With a plan file: carries out exactly its actions (pushes first, then deletions). The file is refused when it
was made by another plan format or from a config that has changed since.
Without one: makes a fresh plan, shows it, and asks for "yes" on a terminal; in CI pass --auto-approve.
A shard plan (plan --shard K/N) acts on its shard's repos only, like any plan: on exactly its actions.

Before each delete the tag is resolved again: a tag already gone counts as done, a tag that now points at
another digest is left alone and reported "stale". A manifest is not deleted while another tag points at it.
Every outcome is appended to a JSON-lines journal; rerunning an interrupted apply with the same plan finishes
the rest. A journal belongs to one plan (its content digest): a new plan saved to the same file starts afresh.
Only one apply uses a journal at a time: a second one is refused, naming the process that holds it.

Flags:
      --auto-approve                  do not ask (required without a terminal when no plan file is given)
      --journal FILE                  journal path (default: PLAN.json.journal.jsonl, or .regplan/apply-<time>.jsonl)
      --json                          print the per-action report as JSON
      --repo GLOB                     with no plan file: only repos matching (repeatable)
      --shard K/N                     with no plan file: only shard K of N (as plan --shard; default from
                                      CI_NODE_INDEX/CI_NODE_TOTAL when set). With a plan file the file decides
      --repo-container-registry NAME  force the registry type of every repo
      --allow-mass-delete             carry out a plan that deletes more than settings.maxDeletions allows; checked
                                      here again even when the plan was made with it

Exit status: 0 when every action is done (stale ones are reported, not failures), 1 when any failed.`;

interface ApplyArgs {
  planFile?: string;
  autoApprove: boolean;
  journal?: string;
  json: boolean;
  repoGlobs: string[];
  registryFlag?: string;
  shard?: string;
  allowMassDelete: boolean;
}

function parseApplyArgs(args: string[]): ApplyArgs {
  const parsed = parseCommandArgs('apply', {
    args,
    strict: true,
    allowPositionals: true,
    options: {
      'auto-approve': { type: 'boolean', default: false },
      journal: { type: 'string' },
      json: { type: 'boolean', default: false },
      repo: { type: 'string', multiple: true },
      shard: { type: 'string' },
      'repo-container-registry': { type: 'string' },
      'allow-mass-delete': { type: 'boolean', default: false },
    },
  }, 'see regplan apply --help');
  const [planFile, ...extra] = parsed.positionals;
  if (extra.length) throw new UsageError(`regplan apply takes one plan file, got ${parsed.positionals.length}`, { hint: 'usage: regplan apply [PLAN.json]' });
  const v = parsed.values;
  if (v.shard !== undefined) {
    if (planFile !== undefined) throw new UsageError(`regplan apply: --shard chooses repos to plan, but "${planFile}" is already planned (a shard plan carries its shard)`, { flag: '--shard' });
    parseShardFlag(v.shard);
  }
  return {
    autoApprove: v['auto-approve'] === true,
    json: v.json === true,
    repoGlobs: v.repo ?? [],
    allowMassDelete: v['allow-mass-delete'] === true,
    ...(planFile === undefined ? {} : { planFile }),
    ...(v.shard === undefined ? {} : { shard: v.shard }),
    ...(v.journal === undefined ? {} : { journal: v.journal }),
    ...(v['repo-container-registry'] === undefined ? {} : { registryFlag: v['repo-container-registry'] }),
  };
}

/** One line per outcome for people. */
function describeReport(report: ActionReport): string {
  const { action, outcome, message } = report;
  const target = `${action.repo}${action.tag === undefined ? `@${shortDigest(action.digest)}` : `:${action.tag}`}`;
  return `${outcome.padEnd(12)} ${target}${message ? `: ${message}` : ''}`;
}

async function confirm(io: Io, plan: Plan, args: ApplyArgs): Promise<boolean> {
  if (args.autoApprove) return true;
  if (!io.prompt) {
    throw new UsageError('regplan apply needs --auto-approve when it cannot ask (stdin is not a terminal)', {
      flag: '--auto-approve',
      hint: 'or save a reviewed plan with "regplan plan --out plan.json" and run "regplan apply plan.json"',
    });
  }
  const n = plan.actions.length;
  const answer = await io.prompt(`Carry out ${n === 1 ? 'this 1 action' : `these ${n} actions`}? Only "yes" proceeds: `);
  return answer.trim() === 'yes';
}

/** The `apply` command. */
export const command: Command = {
  name: 'apply',
  summary: 'carry out a saved plan, or plan and apply after confirmation (--auto-approve)',
  help: HELP,
  checkArgs: (args) => void parseApplyArgs(args),
  async run(argv, io, globals) {
    const args = parseApplyArgs(argv);
    // Without a plan file, apply plans like `plan`: --shard, else the CI variables; a plan file carries its own.
    const shard = args.planFile === undefined ? shardOption(args.shard, io) : {};
    const context = await loadPlanningContext(io, globals, args.registryFlag === undefined ? {} : { registryFlag: args.registryFlag });
    let plan: Plan;
    let journalFile: string;
    if (args.planFile !== undefined) {
      const file = path.resolve(io.cwd, args.planFile);
      plan = await readPlanFile(file);
      if (plan.configDigest !== context.configDigest) {
        throw new StalePlanError(`plan "${args.planFile}" was made from a different config (${shortDigest(plan.configDigest)}; ${globals.configPath} is now ${shortDigest(context.configDigest)})`, {
          hint: 'make a fresh plan from the current config: regplan plan --out plan.json',
          context: { file },
        });
      }
      for (const warning of guardMassDeletion(plan, context.config.settings.maxDeletions, { allowed: args.allowMassDelete, when: 'apply' })) io.stderr(`Warning: ${warning}\n`);
      journalFile = args.journal ?? `${file}.journal.jsonl`;
      const part = shardLine(plan);
      if (part !== undefined && !args.json) io.stdout(`Applying ${part}\n`);
    } else {
      plan = await makePlan(io, globals, { repoGlobs: args.repoGlobs, quiet: args.json, allowMassDelete: args.allowMassDelete, ...shard, ...(args.registryFlag === undefined ? {} : { registryFlag: args.registryFlag }) });
      if (!args.json) io.stdout(renderPlan(plan, 'human', { color: globals.color, compact: true }));
      if (plan.actions.length === 0) return 0;
      if (!(await confirm(io, plan, args))) {
        io.stderr('Apply cancelled; nothing was changed.\n');
        return 1;
      }
      journalFile = args.journal ?? path.join(io.cwd, '.regplan', `apply-${plan.createdAt.replace(/[:.]/g, '-')}.jsonl`);
    }

    // The plan's repos, repo-pattern expansions included as recorded: apply never lists a registry again.
    const byDisplay = plannedRepoAddresses(plan, context.config);
    const journal = await Journal.open(path.resolve(io.cwd, journalFile), {
      plan: planDigest(plan),
      purpose: `regplan apply${args.planFile === undefined ? '' : ` of ${args.planFile}`}`,
      onNotice: (line) => io.stderr(`Note: ${line}\n`),
    });
    let reports: ActionReport[];
    const progress = applyProgressLine(io, { enabled: !args.json, total: plan.actions.filter((action) => !journal.isFinished(action)).length });
    try {
      if (journal.otherPlanLines > 0 && !args.json) {
        io.stderr(`Note: ${path.relative(io.cwd, journal.file) || journal.file} also holds ${journal.otherPlanLines} outcome${journal.otherPlanLines === 1 ? '' : 's'} of another plan; they are history, not reused for this one.\n`);
      }
      reports = await context.withRegistries(() => applyPlan(plan, {
        journal,
        concurrency: context.config.settings.concurrency,
        config: context.config,
        open: (repo) => {
          const address = byDisplay.get(repo);
          if (address === undefined) {
            throw new StalePlanError(`repo "${repo}" of the plan is not in ${globals.configPath}`, { hint: 'make a fresh plan from the current config' });
          }
          return context.open(address);
        },
        ...(args.json ? {} : {
          onOutcome: (report: ActionReport) => {
            progress.clear();
            io.stdout(describeReport(report) + '\n');
            progress.count(report.outcome === 'failed');
          },
        }),
      }));
    } finally {
      progress.clear();
      await journal.close();
    }
    const count = (outcome: ActionReport['outcome']) => reports.filter((r) => r.outcome === outcome).length;
    const failed = count('failed');
    const stale = count('stale');
    const done = reports.length - failed - stale;
    const skippedByJournal = plan.actions.length - reports.length;
    if (args.json) {
      io.stdout(JSON.stringify({ journal: journal.file, done, stale, failed, alreadyDoneBefore: skippedByJournal, actions: reports }, null, 2) + '\n');
    } else {
      const earlier = skippedByJournal ? `, ${skippedByJournal} done by an earlier run` : '';
      io.stdout(`Apply: ${done} done, ${stale} stale, ${failed} failed${earlier}. Journal: ${path.relative(io.cwd, journal.file) || journal.file}\n`);
    }
    return failed > 0 ? 1 : 0;
  },
};
