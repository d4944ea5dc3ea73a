/** Turns any thrown value into the text style.md asks for: `Error: …` then `Hint: …`, stack only with --debug. */
import { isConfigError, isRegplanError } from '../errors.ts';

/** Formats an error for stderr. */
export function renderError(error: unknown, options: { debug: boolean }): string {
  const lines: string[] = [];
  if (isRegplanError(error)) {
    lines.push(`Error: ${error.message}`);
    if (isConfigError(error) && error.wholeFile === undefined) {
      for (const p of error.problems) lines.push(`  ${p.file}:${p.line}:${p.col} ${p.path}: ${p.message}${p.hint ? `\n    hint: ${p.hint}` : ''}`);
    }
    if (error.hint) lines.push(`Hint: ${error.hint}`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    lines.push(`Error: ${message}`);
    lines.push('Hint: this looks like a bug in regplan; rerun with --debug and report the output');
  }
  if (options.debug && error instanceof Error && error.stack) {
    lines.push('', error.stack);
    let cause = error.cause;
    while (cause instanceof Error) {
      lines.push(`Caused by: ${cause.stack ?? cause.message}`);
      cause = cause.cause;
    }
  }
  return lines.join('\n') + '\n';
}
