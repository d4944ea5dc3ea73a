/**
 * `regplan validate [FILE]`: checks a config without touching any registry and prints every problem at once,
 * each with its line, column and a hint. Exit 0 when valid (warnings allowed), 1 when any error.
 */
import { readConfig } from '../config/load.ts';
import { UsageError, type ConfigProblem } from '../errors.ts';
import { type Io, path } from '../runtime.ts';
import type { Command, GlobalOptions } from './command.ts';
import { renderValidateJson, renderValidateReport, type ValidateReport } from './validate-view.ts';
import { parseCommandArgs } from './args.ts';

interface ValidateArgs {
  file: string;
  json: boolean;
}

const HELP = `Usage: regplan validate [FILE] [--json]

Checks a regplan config (default: -c/--config, $REGPLAN_CONFIG or ./registry.config.yaml) against the
config language: YAML syntax, schema/regplan.schema.json, and the rules a schema cannot express (regexes
compile, policy names exist, repo addresses parse, no literal secrets, no duplicates). Every problem is
printed at once as FILE:LINE:COL path: message, with a hint. No registry is contacted.

Exit status: 0 valid (warnings are printed but allowed), 1 any error.

Flags:
      --json    print the report as JSON: {file, valid, errors[], warnings[], summary}

Examples:
  regplan validate
  regplan validate examples/ci-cleanup-ghcr.yaml
  regplan -c deploy/registry.config.yaml validate --json`;

function parseValidateArgs(args: string[], io: Io, globals: GlobalOptions): ValidateArgs {
  const parsed = parseCommandArgs('validate', { args, allowPositionals: true, strict: true, options: { json: { type: 'boolean', default: false } } }, 'usage: regplan validate [FILE] [--json]');
  const [file, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new UsageError(`regplan validate takes at most one file, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}`);
  return { file: file === undefined ? globals.configPath : path.resolve(io.cwd, file), json: parsed.values.json === true };
}

/** Validates one config file and returns the report (file names relative to cwd). */
export async function validateReport(file: string, io: Io): Promise<ValidateReport> {
  const shown = path.relative(io.cwd, file) || file;
  const relative = (p: ConfigProblem): ConfigProblem => ({ ...p, file: shown });
  const result = await readConfig(file);
  const { config } = result;
  return {
    file: shown,
    valid: result.errors.length === 0,
    errors: result.errors.map(relative),
    warnings: result.warnings.map(relative),
    ...(config === undefined
      ? {}
      : { summary: { repos: config.repos.length, ...(config.repoPatterns === undefined ? {} : { repoPatterns: config.repoPatterns.length }), policies: Object.keys(config.policies).length, registries: Object.keys(config.registries).length } }),
  };
}

/** The `validate` command. */
export const command: Command = {
  name: 'validate',
  summary: 'check the config and print every problem with its line and a hint',
  help: HELP,
  checkArgs: (args, io, globals) => void parseValidateArgs(args, io, globals),
  async run(args, io, globals) {
    const parsed = parseValidateArgs(args, io, globals);
    const report = await validateReport(parsed.file, io);
    io.stdout(parsed.json ? renderValidateJson(report) : renderValidateReport(report));
    return report.valid ? 0 : 1;
  },
};
