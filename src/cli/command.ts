/**
 * The shape of one CLI command. Commands are thin: parse argv into typed options (node:util parseArgs),
 * call one function, render through a view. They return an exit code; only main.ts maps thrown errors.
 */
import type { Io } from '../runtime.ts';

/** Flags every command accepts (parsed by main.ts before the command runs). */
export interface GlobalOptions {
  debug: boolean;
  color: boolean;
  /** `-c/--config`, `REGPLAN_CONFIG`, or `./registry.config.yaml` resolved against cwd. */
  configPath: string;
  /** `--docker-config` when given. */
  dockerConfig?: string;
}

/** One subcommand. */
export interface Command {
  name: string;
  /** One line for `regplan --help`. */
  summary: string;
  /** Full `regplan <name> --help` text (usage, flags, examples). */
  help: string;
  /**
   * Parses the args as `run` would and throws the same UsageError, without reading a config or a registry: how
   * the tests check every regplan line in the shipped CI files.
   */
  checkArgs(args: string[], io: Io, globals: GlobalOptions): void;
  /** Runs with the args after the command name; returns the exit code. Throws RegplanError on failure. */
  run(args: string[], io: Io, globals: GlobalOptions): Promise<number>;
}
