/**
 * `regplan registries`: the support matrix of every registry type (design §2) — how it is detected, whether
 * push, bundles and cleanup work, and which native credentials cleanup needs. `--json` prints the same as data.
 */
import type { NativeCredentialSpec } from '../drivers/driver.ts';
import { supportMatrix, type SupportRow } from '../drivers/index.ts';
import type { Command } from './command.ts';
import { parseCommandArgs } from './args.ts';

const HELP = `Usage: regplan registries [--wide | --json]

Prints what regplan supports per registry type: the hosts it is detected from, push, bundles (OCI artifacts),
cleanup ("*ok" = deletion needs native credentials beyond the Docker login), and those credentials' flags.
Override detection with --repo-container-registry, $REGPLAN_REPO_CONTAINER_REGISTRY or registries.<host>.type.

The table fits 120 columns, long cells continuing on the next lines; --wide keeps one line per registry.

Flags:
      --wide   one line per registry, however wide
      --json   print the matrix as JSON`;

/** The credentials column: flags for regplan secrets, the chain's name for a vendor chain; optional ones in brackets. */
const STATUS_TEXT: Record<SupportRow['status'], string> = { ready: 'ready', 'registry-api': 'registry-api', pending: 'pending' };

function credentialsText(credentials: readonly NativeCredentialSpec[]): string {
  if (credentials.length === 0) return '-';
  return credentials
    .map((c) => {
      const text = c.source === 'chain' ? c.description.replace(/ \(.*$/, '') : c.source === 'ci' ? `$${c.env}` : c.flag;
      return c.optional ? `[${text}]` : text;
    })
    .join(', ');
}

/** How wide the table may be unless `--wide` is given: a 120-column terminal or CI log. */
export const TABLE_WIDTH = 120;

/**
 * Breaks a cell into lines of at most `width`: after ", " and spaces first, then after "." "/" "-" inside a long
 * name, and hard only where nothing else fits. Joining the lines (with a space after "," or a word) gives the text back.
 */
export function wrapCell(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (candidate.length <= width) {
      line = candidate;
      continue;
    }
    if (line !== '') lines.push(line);
    line = word;
    while (line.length > width) {
      const cut = Math.max(...['.', '/', '-'].map((c) => line.lastIndexOf(c, width - 1)));
      const at = cut > 0 ? cut + 1 : width;
      lines.push(line.slice(0, at));
      line = line.slice(at);
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * Renders rows as a left-aligned text table with a header line. With `maxWidth`, the `wrap` columns (widest first,
 * down to `minWidths`) are narrowed until the table fits, and their cells continue on the lines below.
 */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: { maxWidth?: number; wrap?: Readonly<Record<number, number>> } = {},
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const total = () => widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.length - 1);
  const wrap = options.wrap ?? {};
  while (options.maxWidth !== undefined && total() > options.maxWidth) {
    const shrinkable = Object.keys(wrap).map(Number).filter((i) => (widths[i] ?? 0) > Math.max(wrap[i] ?? 0, (header[i] ?? '').length));
    if (shrinkable.length === 0) break;
    const widest = shrinkable.reduce((a, b) => ((widths[b] ?? 0) > (widths[a] ?? 0) ? b : a));
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const physical = (cells: readonly string[]): string[] => {
    const wrapped = cells.map((cell, i) => (i in wrap ? wrapCell(cell, widths[i] ?? cell.length) : [cell]));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, k) => line(wrapped.map((w) => w[k] ?? '')));
  };
  const body = rows.map(physical);
  // Once a row takes several lines, a blank line between rows shows where each one ends.
  const separated = body.some((lines) => lines.length > 1) ? body.flatMap((lines, i) => (i === 0 ? lines : ['', ...lines])) : body.flat();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...separated].join('\n') + '\n';
}

/** The human view of the matrix; `wide` keeps each registry on one line however long. */
export function renderSupportMatrix(rows: readonly SupportRow[], options: { wide?: boolean } = {}): string {
  const table = renderTable(
    ['registry', 'type', 'detect (host)', 'push', 'bundles', 'cleanup', 'this build', 'native credentials'],
    rows.map((r) => [r.title, r.type, r.detect, r.push ? 'ok' : 'no', r.bundles ? 'ok' : 'no', r.cleanup, STATUS_TEXT[r.status], credentialsText(r.nativeCredentials)]),
    options.wide ? {} : { maxWidth: TABLE_WIDTH, wrap: { 0: 13, 2: 22, 7: 30 } },
  );
  return (
    table +
    '\n*ok: deletion needs native credentials beyond the Docker login; [..] = optional.\n' +
    '"this build": ready = complete; registry-api = cleanup through the Registry API only (digest deletes, no untag)\n' +
    'until the native driver lands; pending = refuses to run (its error names the workaround).\n' +
    `pulledWithin reads pull times from: ${[...new Set(rows.filter((r) => r.pullTimes).map((r) => r.title))].join(', ')}; elsewhere it keeps every tag (pull time unknown).\n` +
    'Run "regplan detect <repo>" for one repo\'s type, cleanup path, notes and which credentials are set.\n'
  );
}

/** Parses `registries` flags (only --json). */
function parseRegistriesArgs(args: string[]): { json: boolean; wide: boolean } {
  const parsed = parseCommandArgs(
    'registries',
    { args, strict: true, allowPositionals: false, options: { json: { type: 'boolean', default: false }, wide: { type: 'boolean', default: false } } },
    'usage: regplan registries [--wide | --json]',
  );
  return { json: parsed.values.json === true, wide: parsed.values.wide === true };
}

/** The `registries` command. */
export const command: Command = {
  name: 'registries',
  summary: 'print the support matrix of every registry type',
  help: HELP,
  checkArgs: (args) => void parseRegistriesArgs(args),
  async run(args, io) {
    const { json, wide } = parseRegistriesArgs(args);
    const rows = supportMatrix();
    io.stdout(json ? `${JSON.stringify({ registries: rows }, null, 2)}\n` : renderSupportMatrix(rows, { wide }));
    return 0;
  },
};
