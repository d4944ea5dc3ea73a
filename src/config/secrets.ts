/**
 * Secrets referenced by the config (`{ env: NAME }` or `{ file: path }`): reading them at run time, and the one
 * message for a secret written literally. Secret values never reach a message, log or plan.
 */
import { CredentialsError } from '../errors.ts';
import { FileRefusedError, readTextFileCapped } from '../runtime.ts';
import type { SecretRef } from './types.ts';
import * as path from 'node:path';

/** Keys whose literal value is treated as a secret wherever they appear in the config. */
export const SECRET_KEY = /(password|passwd|passphrase|token|secret|api[-_]?key|private[-_]?key)/i;

/** Message and hint for a secret written in the config; names the key, never the value. */
export function literalSecretMessage(key: string): { message: string; hint: string } {
  const example = `REGPLAN_${key.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}`;
  return {
    message: `literal secret in "${key}": secrets are never written in the config (the value is not shown)`,
    hint: `write ${key}: { env: ${example} } (or { file: ./path }) and set that variable in CI; if this file was committed, rotate the secret`,
  };
}

/** The largest secret file read (a token or password is bytes; a key file a few kilobytes). */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/**
 * The secret a reference points at: the env var's value, or the file's contents with surrounding whitespace
 * trimmed (relative files resolve against `baseDir`, the config's directory). Undefined when the env var or file is
 * empty or the env var unset; a file that cannot be read is a CredentialsError naming the file, not its contents.
 * Only a regular file of at most 1 MiB is read: a FIFO would block the plan, a device would never end.
 */
export async function readSecret(ref: SecretRef, env: Readonly<Record<string, string | undefined>>, baseDir: string): Promise<string | undefined> {
  if ('env' in ref) {
    const value = env[ref.env];
    return value === undefined || value === '' ? undefined : value;
  }
  const file = path.resolve(baseDir, ref.file);
  try {
    const text = (await readTextFileCapped(file, { maxBytes: MAX_SECRET_FILE_BYTES, regularOnly: true })).trim();
    return text === '' ? undefined : text;
  } catch (error) {
    const why = error instanceof FileRefusedError
      ? (error.reason.kind === 'not-regular' ? `it is a ${error.reason.type}, not a regular file` : `it is larger than ${MAX_SECRET_FILE_BYTES / 1024} KiB`)
      : (error as NodeJS.ErrnoException).code ?? 'read failed';
    throw new CredentialsError(`cannot read the secret file "${file}": ${why}`, {
      hint: 'create the file (mode 0600) or point { file: ... } at the right path, relative to the config file',
      cause: error,
    });
  }
}
