/**
 * The config pipeline, end to end: text -> YAML with positions -> ajv (every error) -> semantic rules ->
 * normalized Config. Problems come back as data so `regplan validate` can print all of them at once; reading
 * the file is a thin wrapper, and `requireConfig` is the throwing form later commands use.
 */
import * as path from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.ts';
import { FileRefusedError, readTextFileCapped } from '../runtime.ts';
import { CONFIG_LIMITS } from './limits.ts';
import { normalizeConfig } from './normalize.ts';
import { schemaProblems } from './schema-check.ts';
import { semanticProblems } from './semantics.ts';
import { parseConfigSource } from './source.ts';
import type { Config } from './types.ts';

/** What loading a config yields: the normalized config when there are no errors, and every problem found. */
export interface LoadResult {
  config?: Config;
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
}

/** Where a missing or unreadable config file is reported (it has no line to point at). */
const NO_POSITION = { line: 0, col: 0, path: '' } as const;

const byPosition = (a: ConfigProblem, b: ConfigProblem): number => a.line - b.line || a.col - b.col || a.path.localeCompare(b.path);

/**
 * Loads config text. `file` names it in problems and anchors relative paths (its directory, or `dir` when
 * given); nothing is read from disk and no path has to exist.
 */
export function loadConfig(text: string, options: { file: string; dir?: string }): LoadResult {
  const { file } = options;
  const dir = options.dir ?? path.dirname(path.resolve(file));
  const parsed = parseConfigSource(text, file);
  if (parsed.fatal) return { errors: parsed.errors.sort(byPosition), warnings: parsed.warnings };
  const { source } = parsed;
  if (source.data === null || source.data === undefined) {
    const empty: ConfigProblem = { file, line: 1, col: 1, path: '', message: 'the config is empty', hint: 'start with "version: 1"; see examples/ for complete configs' };
    return { errors: [...parsed.errors, empty], warnings: parsed.warnings };
  }
  const semantic = semanticProblems(source, dir);
  // A literal secret is the real problem at its path; the schema's "unknown property"/"wrong type" there is noise.
  const secretPaths = new Set(semantic.errors.filter((p) => p.message.startsWith('literal secret')).map((p) => p.path));
  const fromSchema = schemaProblems(source).filter((p) => !secretPaths.has(p.path));
  const errors = [...parsed.errors, ...fromSchema, ...semantic.errors].sort(byPosition);
  const warnings = [...parsed.warnings, ...semantic.warnings].sort(byPosition);
  if (errors.length > 0) return { errors, warnings };
  return { config: normalizeConfig(source.data, { file: path.resolve(file), dir, positionOf: (p) => source.positionOf(p) }), errors, warnings };
}

/**
 * Reads and loads a config file; a missing or unreadable file is a problem, not an exception. At most the config
 * size limit is read (a pipe such as `-c <(envsubst < tpl.yaml)` works; /dev/urandom ends with a problem).
 */
export async function readConfig(file: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readTextFileCapped(file, { maxBytes: CONFIG_LIMITS.maxBytes, regularOnly: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem: ConfigProblem = error instanceof FileRefusedError
      ? {
        file, ...NO_POSITION,
        message: error.reason.kind === 'too-large' ? `the config file is larger than ${CONFIG_LIMITS.maxBytes / 1024} KiB` : `the config path is a ${error.reason.type}, not a file`,
        hint: 'check that -c/REGPLAN_CONFIG names the config file; a real config is a few kilobytes',
      }
      : code === 'ENOENT'
      ? { file, ...NO_POSITION, message: 'config file not found', hint: 'create one, see examples/ or set -c/REGPLAN_CONFIG' }
      : { file, ...NO_POSITION, message: `cannot read the config file (${code ?? 'read error'})`, hint: 'check that the path is a readable file, or set -c/REGPLAN_CONFIG' };
    return { errors: [problem], warnings: [] };
  }
  return loadConfig(text, { file });
}

/** Reads a config for commands that need a valid one (plan, apply): throws ConfigError carrying every problem. */
export async function requireConfig(file: string): Promise<{ config: Config; warnings: ConfigProblem[] }> {
  const result = await readConfig(file);
  if (result.errors.length > 0 || result.config === undefined) throw new ConfigError(file, result.errors);
  return { config: result.config, warnings: result.warnings };
}
