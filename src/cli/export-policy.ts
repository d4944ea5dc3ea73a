/**
 * `regplan export-policy`: compiles each selected repo's cleanup policy into its registry's own lifecycle language
 * (ECR lifecycle policy, GitLab cleanup policy, Harbor retention rules, Artifact Registry cleanup policies, Quay
 * auto-prune; src/export/) and says, rule by rule, what that language cannot express and what the export did
 * about it. The printed policy is always the safe subset: it never deletes what regplan's plan keeps. Nothing is
 * read from or written to a registry.
 */
import { requireConfig } from '../config/load.ts';
import { displayAddress } from '../config/display.ts';
import { detectRegistry } from '../drivers/detect.ts';
import { UsageError } from '../errors.ts';
import { exportPolicy } from '../export/compile.ts';
import type { PolicyExport } from '../export/types.ts';
import { selectRepos } from '../plan/make-plan.ts';
import type { Io } from '../runtime.ts';
import type { Command, GlobalOptions } from './command.ts';
import { parseCommandArgs } from './args.ts';

/** The parsed flags of `export-policy`. */
export interface ExportPolicyArgs {
  format: 'text' | 'json';
  repoGlobs: string[];
  registryFlag?: string;
}

const USAGE = 'usage: regplan export-policy [--repo GLOB]... [--format text|json] [--repo-container-registry NAME]';

const HELP = `Usage: regplan export-policy [--repo GLOB]... [--format text|json] [--repo-container-registry NAME]

Compiles each repo's cleanup policy into the registry's own lifecycle language, so the registry can run the
safe part between regplan runs: an ECR lifecycle policy, a GitLab project cleanup policy, Harbor tag retention
rules, Artifact Registry cleanup policies or Quay auto-prune policies. Rule by rule it says what that language
cannot express (semver, gitRefs, listed, inUse, pulledWithin, groupBy, patterns, grace, shared manifests) and
what the export did about it: the printed policy never deletes a tag regplan's plan would keep. Where no safe
policy exists the repo is marked UNSAFE and no policy is printed. Reads only the config; no registry calls.

Flags:
      --repo GLOB                      only repos whose address matches (repeatable; * and ? wildcards)
      --format text|json               text (default) or JSON: {"exports": [{repo, registry, status, format,
                                       policy, install, limitations, notes}]}
      --repo-container-registry NAME   force the registry type of every repo (see "regplan registries")

Examples:
  regplan export-policy
  regplan export-policy --repo '*.dkr.ecr.*' --format json | jq '.exports[0].policy' > lifecycle.json`;

/** Parses `export-policy` flags. */
export function parseExportPolicyArgs(args: string[]): ExportPolicyArgs {
  const parsed = parseCommandArgs('export-policy', {
    args,
    strict: true,
    allowPositionals: false,
    options: {
      repo: { type: 'string', multiple: true },
      format: { type: 'string' },
      'repo-container-registry': { type: 'string' },
    },
  }, USAGE);
  const format = parsed.values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, got ${JSON.stringify(format)}`, { flag: '--format', hint: USAGE });
  const registry = parsed.values['repo-container-registry'];
  return { format, repoGlobs: parsed.values.repo ?? [], ...(registry === undefined ? {} : { registryFlag: registry }) };
}

/** Compiles the policy of every selected repo that has one. */
export async function exportPolicies(args: ExportPolicyArgs, io: Io, globals: GlobalOptions): Promise<PolicyExport[]> {
  const { config } = await requireConfig(globals.configPath);
  const exports: PolicyExport[] = [];
  for (const repo of selectRepos(config, args.repoGlobs)) {
    if (repo.cleanup === undefined) continue;
    const detection = detectRegistry(repo.repo, { env: io.env, config, ...(args.registryFlag === undefined ? {} : { flag: args.registryFlag }) });
    const { ref } = detection;
    exports.push(exportPolicy(
      { repo: displayAddress(repo), type: detection.type, host: ref.kind === 'registry' ? ref.host : '', name: ref.kind === 'registry' ? ref.name : '' },
      repo.cleanup,
      { graceMs: config.settings.graceMs },
    ));
  }
  const patterns = (config.repoPatterns ?? []).filter((entry) => entry.cleanup !== undefined);
  if (patterns.length > 0) {
    io.stderr(`Note: ${patterns.length} repo pattern${patterns.length === 1 ? '' : 's'} (${patterns.map((p) => p.pattern).join(', ')}) not compiled: patterns become repos only when a plan lists the registry; write the repos out to export their policies\n`);
  }
  return exports;
}

const FORMAT_TITLE: Record<NonNullable<PolicyExport['format']>, string> = {
  'ecr-lifecycle-policy': 'ECR lifecycle policy',
  'gitlab-cleanup-policy': 'GitLab project cleanup policy',
  'harbor-retention-policy': 'Harbor tag retention policy',
  'artifact-registry-cleanup-policies': 'Artifact Registry cleanup policies',
  'quay-autoprune-policies': 'Quay auto-prune policies',
};

/** The text view: per repo, the verdict, what cannot be expressed, notes, and the policy JSON. */
export function renderExports(exports: readonly PolicyExport[]): string {
  if (exports.length === 0) return 'No repo with a cleanup policy selected.\n';
  const out: string[] = [];
  for (const e of exports) {
    const title = e.format === undefined ? e.registry : FORMAT_TITLE[e.format];
    const verdict = e.status === 'exported' ? 'exported (safe subset)' : e.status === 'unsafe' ? 'UNSAFE: no policy printed, the registry cannot run any safe part of this policy' : 'no server-side lifecycle language';
    out.push(`${e.repo} (${title}): ${verdict}`);
    if (e.limitations.length > 0) {
      out.push('  cannot be expressed:');
      for (const l of e.limitations) out.push(`    - ${l.rule}: ${l.reason} -> ${l.effect}`);
    }
    for (const note of e.notes) out.push(`  note: ${note}`);
    if (e.install !== undefined) out.push(`  install: ${e.install}`);
    if (e.policy !== undefined) out.push(...JSON.stringify(e.policy, null, 2).split('\n').map((line) => `    ${line}`));
    out.push('');
  }
  const count = (status: PolicyExport['status']) => exports.filter((e) => e.status === status).length;
  out.push(`Export: ${count('exported')} exported, ${count('unsafe')} unsafe, ${count('unsupported')} without a lifecycle language.`);
  return `${out.join('\n')}\n`;
}

/** The `export-policy` command. */
export const command: Command = {
  name: 'export-policy',
  summary: 'compile cleanup policies into the registry\'s own lifecycle policy (the safe subset)',
  help: HELP,
  checkArgs: (args) => void parseExportPolicyArgs(args),
  async run(args, io, globals) {
    const parsed = parseExportPolicyArgs(args);
    const exports = await exportPolicies(parsed, io, globals);
    io.stdout(parsed.format === 'json' ? `${JSON.stringify({ exports }, null, 2)}\n` : renderExports(exports));
    return 0;
  },
};
