/**
 * Every subcommand, in the order `regplan --help` lists them. Each is imported only when it runs: `regplan
 * validate` loads the config pipeline, not the drivers, registry client and AWS SDK that plan and apply need.
 * Only the full help (which lists every summary) loads them all.
 */
import type { Command } from './command.ts';

/** Command names and how to load each command's module. */
const LOADERS: ReadonlyMap<string, () => Promise<Command>> = new Map([
  ['validate', async () => (await import('./validate.ts')).command],
  ['detect', async () => (await import('./detect.ts')).command],
  ['registries', async () => (await import('./registries.ts')).command],
  ['plan', async () => (await import('./plan.ts')).command],
  ['apply', async () => (await import('./apply.ts')).command],
  ['export-policy', async () => (await import('./export-policy.ts')).command],
  ['drift', async () => (await import('./drift.ts')).command],
  ['ci-env', async () => (await import('./ci-env.ts')).command],
  ['login', async () => (await import('./login.ts')).command],
  ['logout', async () => (await import('./logout.ts')).command],
]);

/** The command names, in help order (for "unknown command" hints without loading any command). */
export const COMMAND_NAMES: readonly string[] = [...LOADERS.keys()];

/** Loads one command by name; undefined when there is no such command. */
export async function loadCommand(name: string): Promise<Command | undefined> {
  return LOADERS.get(name)?.();
}

/** Loads the whole command table (for the full help). */
export function loadCommands(): Promise<Command[]> {
  return Promise.all([...LOADERS.values()].map((load) => load()));
}
