/**
 * The views of `regplan validate`: one `FILE:LINE:COL path: message` line per problem with its hint indented
 * below (the form editors and CI log parsers link), then a summary line; or the same report as JSON.
 */
import type { ConfigProblem } from '../errors.ts';

/** Everything `regplan validate` reports, as data (`--json` prints it). File names are relative to cwd. */
export interface ValidateReport {
  file: string;
  valid: boolean;
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
  /** Counts from the normalized config; present only when it is valid. */
  /** `repoPatterns`: entries written as patterns (expanded at plan time), present when there are any. */
  summary?: { repos: number; repoPatterns?: number; policies: number; registries: number };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function problemLines(problem: ConfigProblem, severity: 'error' | 'warning'): string[] {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.col}` : problem.file;
  const label = severity === 'warning' ? 'warning: ' : '';
  const head = problem.path ? `${where} ${problem.path}: ${label}${problem.message}` : `${where}: ${label}${problem.message}`;
  return problem.hint ? [head, `  hint: ${problem.hint}`] : [head];
}

/** Renders the report for a terminal or a CI log. */
export function renderValidateReport(report: ValidateReport): string {
  const lines = [
    ...report.errors.flatMap((p) => problemLines(p, 'error')),
    ...report.warnings.flatMap((p) => problemLines(p, 'warning')),
  ];
  const warnings = report.warnings.length ? plural(report.warnings.length, 'warning') : '';
  if (report.valid && report.summary) {
    const patterns = report.summary.repoPatterns === undefined ? '' : `, ${plural(report.summary.repoPatterns, 'repo pattern')}`;
    const counts = `${plural(report.summary.repos, 'repo')}${patterns}, ${plural(report.summary.policies, 'policy').replace(/policys$/, 'policies')}`;
    lines.push(`${report.file}: valid (${counts}${warnings ? `; ${warnings}` : ''})`);
  } else {
    lines.push(`${report.file}: invalid (${plural(report.errors.length, 'error')}${warnings ? `, ${warnings}` : ''})`);
  }
  return `${lines.join('\n')}\n`;
}

/** Renders the report as JSON. */
export const renderValidateJson = (report: ValidateReport): string => `${JSON.stringify(report, null, 2)}\n`;
