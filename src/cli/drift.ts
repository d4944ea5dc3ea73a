/**
 * `regplan drift`: reads the lifecycle policy installed on each selected repo's registry (ECR GetLifecyclePolicy,
 * GitLab GET /projects/:id container_expiration_policy, Harbor GET /projects/<p> retention_id -> GET /retentions/<id>),
 * runs it against the repo's current inventory — the same inventory and evaluator regplan plans with — and lists
 * where the server would delete something regplan's plan keeps: the tag (or untagged digest), the server rule,
 * and regplan's reason to keep it. Exit 0: no drift; 2: drift; 1: error. Nothing is changed.
 */
import pLimit from 'p-limit';
import { displayAddress } from '../config/display.ts';
import { refusesCleanup } from '../drivers/driver.ts';
import { RegplanError, UsageError } from '../errors.ts';
import { findDrift, serverImages, type DriftEntry } from '../export/drift.ts';
import { readsInstalledPolicy } from '../export/installed.ts';
import type { GitlabCleanupPolicy } from '../export/gitlab.ts';
import type { HarborRetentionPolicy } from '../export/harbor.ts';
import type { InstalledPolicy } from '../export/installed.ts';
import { readEcrRules, simulateEcr, type ServerImage } from '../export/simulate-ecr.ts';
import { simulateGitlab, simulateHarbor, type Removal } from '../export/simulate-tag-policies.ts';
import { evaluateRepo } from '../plan/evaluate.ts';
import { gatherPolicyFacts } from '../plan/facts.ts';
import { takeInventory } from '../plan/inventory.ts';
import { resolvePlanRepos } from '../plan/make-plan.ts';
import type { Io } from '../runtime.ts';
import type { Command, GlobalOptions } from './command.ts';
import { loadPlanningContext } from './planning-context.ts';
import { parseCommandArgs } from './args.ts';

/** The parsed flags of `drift`. */
export interface DriftArgs {
  format: 'text' | 'json';
  repoGlobs: string[];
  registryFlag?: string;
}

/** What drift found for one repo. */
export interface RepoDrift {
  repo: string;
  /** `checked`: a policy is installed and was simulated; `none`: no policy installed; `unreadable`: the registry type cannot tell. */
  status: 'checked' | 'none' | 'unreadable';
  /** The API call the policy came from, or why it cannot be read. */
  source: string;
  /** How many tags and untagged manifests the installed policy would delete now (drift or not). */
  serverDeletes: number;
  drift: DriftEntry[];
}

const USAGE = 'usage: regplan drift [--repo GLOB]... [--format text|json] [--repo-container-registry NAME]';

const HELP = `Usage: regplan drift [--repo GLOB]... [--format text|json] [--repo-container-registry NAME]

Reads the policy installed on each repo's registry (ECR: GetLifecyclePolicy; GitLab: the project's cleanup
policy from GET /projects/:id; Harbor: the project's tag retention policy), runs it against the
repo's current tags exactly as regplan's plan sees them, and lists every tag or untagged manifest the server
would delete that regplan keeps, with the server rule and regplan's reason to keep it. Nothing is changed.
Registries whose policy regplan cannot read are listed as such. Exit status: 0 no drift, 2 drift, 1 error.

Flags:
      --repo GLOB                      only repos whose address matches (repeatable; * and ? wildcards)
      --format text|json               text (default) or JSON: {"repos": [{repo, status, source, serverDeletes,
                                       drift: [{tag, digest, serverRule, keptBecause}]}]}
      --repo-container-registry NAME   force the registry type of every repo (see "regplan registries")

Examples:
  regplan drift
  regplan drift --repo '123456789012.dkr.ecr.*' --format json`;

/** Parses `drift` flags. */
export function parseDriftArgs(args: string[]): DriftArgs {
  const parsed = parseCommandArgs('drift', {
    args,
    strict: true,
    allowPositionals: false,
    options: { repo: { type: 'string', multiple: true }, format: { type: 'string' }, 'repo-container-registry': { type: 'string' } },
  }, USAGE);
  const format = parsed.values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, got ${JSON.stringify(format)}`, { flag: '--format', hint: USAGE });
  const registry = parsed.values['repo-container-registry'];
  return { format, repoGlobs: parsed.values.repo ?? [], ...(registry === undefined ? {} : { registryFlag: registry }) };
}

/** Checks every selected repo with a cleanup policy. */
export async function checkDrift(args: DriftArgs, io: Io, globals: GlobalOptions, options: { now?: Date } = {}): Promise<RepoDrift[]> {
  const context = await loadPlanningContext(io, globals, args.registryFlag === undefined ? {} : { registryFlag: args.registryFlag });
  for (const w of context.warnings) io.stderr(`Warning: ${w.file}:${w.line}:${w.col} ${w.path}: ${w.message}\n`);
  const { config } = context;
  const now = options.now ?? new Date();
  const limits = new Map<string, ReturnType<typeof pLimit>>();
  return context.withRegistries(async () => {
    // The plan's own selection: config repos and repo patterns expanded through the registries' listings.
    const { repos: selected } = await resolvePlanRepos({ config, open: context.open, repoGlobs: args.repoGlobs });
    const repos = selected.filter((repo) => repo.cleanup !== undefined);
    const facts = await gatherPolicyFacts(repos.map((repo) => repo.cleanup).filter((p) => p !== undefined), { baseDir: config.dir, env: io.env });
    return Promise.all(repos.map(async (repo): Promise<RepoDrift> => {
      const display = displayAddress(repo);
      const policy = repo.cleanup as NonNullable<typeof repo.cleanup>;
      const opened = context.open(repo.repo);
      if (refusesCleanup(opened.driver)) throw opened.driver.cleanupRefusal();
      const { driver } = opened;
      if (!readsInstalledPolicy(driver)) {
        return { repo: display, status: 'unreadable', source: `regplan cannot read a server-side policy from ${driver.type} yet`, serverDeletes: 0, drift: [] };
      }
      const installed = await driver.readInstalledPolicy(opened.name);
      if (installed === undefined) return { repo: display, status: 'none', source: 'no policy installed', serverDeletes: 0, drift: [] };
      let limit = limits.get(opened.hostKey);
      if (!limit) limits.set(opened.hostKey, (limit = pLimit(config.settings.concurrency)));
      const inventory = await takeInventory({ repo: display, name: opened.name, driver }, { cache: context.cache, limit, now: now.getTime() });
      const decision = evaluateRepo(inventory, policy, { facts, now, graceMs: config.settings.graceMs });
      const removals = simulateInstalled(installed, { repo: display, name: opened.name }, serverImages(inventory), now);
      const serverDeletes = removals.reduce((sum, r) => sum + (r.tags?.length ?? Math.max(1, r.image.tags.length)), 0);
      return { repo: display, status: 'checked', source: installed.source, serverDeletes, drift: findDrift(display, removals, decision) };
    }));
  });
}

/** Runs the installed policy in its own language's simulator. */
function simulateInstalled(installed: InstalledPolicy, where: { repo: string; name: string }, images: ServerImage[], now: Date): Removal[] {
  switch (installed.format) {
    case 'ecr-lifecycle-policy':
      return simulateEcr(readEcrRules(installed.document, where.repo), images, now);
    case 'gitlab-cleanup-policy':
      return simulateGitlab(installed.document as GitlabCleanupPolicy, images, now);
    case 'harbor-retention-policy':
      return simulateHarbor(installed.document as HarborRetentionPolicy, where.name.split('/').slice(1).join('/'), images, now);
    default:
      throw new RegplanError(`regplan drift cannot simulate ${installed.format} policies yet (${where.repo})`);
  }
}

/** The text view. */
export function renderDrift(results: readonly RepoDrift[]): string {
  if (results.length === 0) return 'No repo with a cleanup policy selected.\n';
  const out: string[] = [];
  for (const r of results) {
    if (r.status !== 'checked') {
      out.push(`${r.repo}: ${r.source}`);
      continue;
    }
    if (r.drift.length === 0) {
      out.push(`${r.repo}: no drift (the installed policy from ${r.source} would delete ${r.serverDeletes}, nothing regplan keeps)`);
      continue;
    }
    out.push(`${r.repo}: ${r.drift.length} kept by regplan, deleted by the installed policy (${r.source}):`);
    for (const d of r.drift) out.push(`  ! ${d.tag ?? '(untagged)'} ${d.digest.slice(0, 19)}…  server: ${d.serverRule}  regplan keeps: ${d.keptBecause}`);
  }
  const total = results.reduce((sum, r) => sum + r.drift.length, 0);
  const repos = results.filter((r) => r.drift.length > 0).length;
  out.push('', total === 0 ? 'No drift.' : `Drift: ${total} in ${repos} repo${repos === 1 ? '' : 's'}.`);
  return `${out.join('\n')}\n`;
}

/** The `drift` command. */
export const command: Command = {
  name: 'drift',
  summary: 'show where the installed server-side policy would delete what regplan keeps',
  help: HELP,
  checkArgs: (args) => void parseDriftArgs(args),
  async run(args, io, globals) {
    const parsed = parseDriftArgs(args);
    const results = await checkDrift(parsed, io, globals);
    io.stdout(parsed.format === 'json' ? `${JSON.stringify({ repos: results }, null, 2)}\n` : renderDrift(results));
    return results.some((r) => r.drift.length > 0) ? 2 : 0;
  },
};
