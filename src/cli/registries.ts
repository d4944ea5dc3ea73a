/**
 * `regplan registries`: the support matrix of every registry type (design §2) — how it is detected, whether
 * push, bundles and cleanup work, and which native credentials cleanup needs. `--json` prints the same as data.
 */
import type { NativeCredentialSpec } from '../drivers/driver.ts';
import { supportMatrix, type SupportRow } from '../drivers/index.ts';
import type { Command } from './command.ts';
import { parseCommandArgs } from './args.ts';

const HELP = `Usage: regplan registries [--json]

Prints what regplan supports per registry type: the hosts it is detected from, push, bundles (OCI artifacts),
cleanup ("*ok" = deletion needs native credentials beyond the Docker login), and those credentials' flags.
Override detection with --repo-container-registry, $REGPLAN_REPO_CONTAINER_REGISTRY or registries.<host>.type.

Flags:
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

/** Renders rows as a left-aligned text table with a header line. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** The human view of the matrix. */
export function renderSupportMatrix(rows: readonly SupportRow[]): string {
  const table = renderTable(
    ['registry', 'type', 'detect (host)', 'push', 'bundles', 'cleanup', 'this build', 'native credentials'],
    rows.map((r) => [r.title, r.type, r.detect, r.push ? 'ok' : 'no', r.bundles ? 'ok' : 'no', r.cleanup, STATUS_TEXT[r.status], credentialsText(r.nativeCredentials)]),
  );
  return (
    table +
    '\n*ok: deletion needs native credentials beyond the Docker login; [..] = optional.\n' +
    '"this build": ready = complete; registry-api = cleanup through the Registry API only (digest deletes, no untag)\n' +
    'until the native driver lands; pending = refuses to run (its error names the workaround).\n' +
    'Run "regplan detect <repo>" for one repo\'s type, cleanup path, notes and which credentials are set.\n'
  );
}

/** Parses `registries` flags (only --json). */
function parseRegistriesArgs(args: string[]): { json: boolean } {
  const parsed = parseCommandArgs('registries', { args, strict: true, allowPositionals: false, options: { json: { type: 'boolean', default: false } } }, 'usage: regplan registries [--json]');
  return { json: parsed.values.json === true };
}

/** The `registries` command. */
export const command: Command = {
  name: 'registries',
  summary: 'print the support matrix of every registry type',
  help: HELP,
  checkArgs: (args) => void parseRegistriesArgs(args),
  async run(args, io) {
    const { json } = parseRegistriesArgs(args);
    const rows = supportMatrix();
    io.stdout(json ? `${JSON.stringify({ registries: rows }, null, 2)}\n` : renderSupportMatrix(rows));
    return 0;
  },
};
