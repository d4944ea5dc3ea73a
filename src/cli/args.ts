/** Argument parsing shared by every command: node:util parseArgs, with a bad flag turned into a UsageError (exit 2). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';

/** Parses a command's argv; an unknown flag or a missing value becomes `regplan <command>: …` with the usage as hint. */
export function parseCommandArgs<const T extends ParseArgsConfig>(command: string, config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(`regplan ${command}: ${(error as Error).message}`, { hint: usage });
  }
}
