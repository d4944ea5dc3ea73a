/**
 * The docker credential-helper protocol: `get` sends the server URL on stdin to `docker-credential-<name> get`
 * and reads `{"ServerURL","Username","Secret"}` from stdout; `store` sends that JSON the other way (login, ci-env)
 * and `erase` sends the server URL (logout).
 * Helpers report errors on stdout; regplan quotes that text in its error (never anything holding the secret).
 */
import { CredentialsError } from '../errors.ts';
import { findExecutable, runCommand } from '../runtime.ts';
import type { Env } from './docker-config.ts';
import type { Credential } from './types.ts';

/** The exact text (after trimming) a helper prints with a non-zero exit when it has nothing for the URL. */
export const HELPER_NOT_FOUND_MESSAGE = 'credentials not found in native keychain';
/** The Username a helper returns when Secret is an identity (refresh) token rather than a password. */
export const IDENTITY_TOKEN_USERNAME = '<token>';
/** How long a helper may take (it may be waiting for a keyring unlock) before regplan gives up. */
export const HELPER_TIMEOUT_MS = 120_000;

const MAX_QUOTED_CHARS = 400;

/** Options for `helperGet`; `configuredAs` says where the helper was named, for hints (e.g. `credHelpers["ghcr.io"] in /x/config.json`). */
export interface HelperGetOptions {
  env: Env;
  configuredAs?: string;
  /** What to tell the user to remove when the helper is missing, e.g. `remove "ghcr.io" from credHelpers in /x/config.json`. */
  removeHint?: string;
  timeoutMs?: number;
}

/** The program name for a helper suffix (`gcloud` -> `docker-credential-gcloud`). */
export const helperProgram = (helper: string): string => `docker-credential-${helper}`;

/**
 * Asks a credential helper for the credentials of `serverUrl`. Undefined when the helper has none (its
 * "not found" answer, or empty fields); CredentialsError when it is missing, fails or answers garbage.
 */
export async function helperGet(helper: string, serverUrl: string, options: HelperGetOptions): Promise<Credential | undefined> {
  const program = helperProgram(helper);
  const where = options.configuredAs === undefined ? '' : ` (configured as ${options.configuredAs})`;
  const executable = await findExecutable(program, options.env);
  if (executable === undefined) {
    throw new CredentialsError(`credential helper ${program} is not on PATH${where}`, {
      hint: `install ${program}${options.removeHint === undefined ? '' : `, or ${options.removeHint}`}`,
    });
  }
  const timeoutMs = options.timeoutMs ?? HELPER_TIMEOUT_MS;
  const started = Date.now();
  let result;
  try {
    result = await runCommand(executable, ['get'], { input: serverUrl, env: options.env, timeoutMs });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CredentialsError(`cannot run credential helper ${executable}${where}: ${typeof code === 'string' ? code : 'start failed'}`, {
      hint: `check that ${executable} is an executable program`,
    });
  }
  if (result.code !== 0) {
    const said = result.stdout.trim();
    if (said === HELPER_NOT_FOUND_MESSAGE) return undefined;
    if (Date.now() - started >= timeoutMs) {
      throw new CredentialsError(`credential helper ${program} did not answer for "${serverUrl}" within ${timeoutMs / 1000}s${where}`, {
        hint: `check that ${program} works on its own (a locked keyring may be waiting for a password)`,
      });
    }
    const quoted = quoteHelperText(said || result.stderr.trim());
    throw new CredentialsError(`credential helper ${program} failed for "${serverUrl}" (exit ${result.code})${quoted ? `: ${quoted}` : ''}${where}`, {
      hint: `check that ${program} works and holds a login for ${serverUrl} (log in again with docker login)`,
    });
  }
  return parseHelperAnswer(result.stdout, { program, serverUrl });
}

/** What `helperStore` saves: the server URL docker would key it by, the user and the password or token. */
export interface HelperStoreRequest {
  serverUrl: string;
  username: string;
  secret: string;
}

/**
 * Saves a login through `docker-credential-<name> store` (stdin `{"ServerURL","Username","Secret"}`), as
 * `docker login` does when the config routes the host to a helper. Throws CredentialsError when the helper is
 * missing or fails; its error text is quoted only when it cannot carry the secret.
 */
export async function helperStore(helper: string, request: HelperStoreRequest, options: HelperGetOptions): Promise<void> {
  const program = helperProgram(helper);
  const where = options.configuredAs === undefined ? '' : ` (configured as ${options.configuredAs})`;
  const input = JSON.stringify({ ServerURL: request.serverUrl, Username: request.username, Secret: request.secret });
  const result = await runHelperAction(helper, 'store', input, options, `so the login to "${request.serverUrl}" cannot be stored`);
  if (result.code === 0) return;
  const said = result.stdout.trim() || result.stderr.trim();
  const quoted = request.secret !== '' && said.includes(request.secret) ? '' : quoteHelperText(said);
  throw new CredentialsError(`credential helper ${program} could not store the login for "${request.serverUrl}" (exit ${result.code})${quoted ? `: ${quoted}` : ''}${where}`, {
    hint: `check that ${program} works on its own (a locked keyring may need unlocking)${options.removeHint === undefined ? '' : `, or ${options.removeHint}`}`,
  });
}

/**
 * Removes the login for `serverUrl` through `docker-credential-<name> erase` (stdin: the URL), as `docker logout`
 * does. True when the helper erased it, false when it had none (its "not found" answer); CredentialsError otherwise.
 */
export async function helperErase(helper: string, serverUrl: string, options: HelperGetOptions): Promise<boolean> {
  const program = helperProgram(helper);
  const where = options.configuredAs === undefined ? '' : ` (configured as ${options.configuredAs})`;
  const result = await runHelperAction(helper, 'erase', serverUrl, options, `so the login to "${serverUrl}" cannot be erased`);
  if (result.code === 0) return true;
  const said = result.stdout.trim() || result.stderr.trim();
  if (said === HELPER_NOT_FOUND_MESSAGE) return false;
  const quoted = quoteHelperText(said);
  throw new CredentialsError(`credential helper ${program} could not erase the login for "${serverUrl}" (exit ${result.code})${quoted ? `: ${quoted}` : ''}${where}`, {
    hint: `check that ${program} works on its own (a locked keyring may need unlocking)${options.removeHint === undefined ? '' : `, or ${options.removeHint}`}`,
  });
}

/** Runs `docker-credential-<name> <action>` with `input` on stdin; a missing or unstartable helper is a CredentialsError. */
async function runHelperAction(helper: string, action: 'store' | 'erase', input: string, options: HelperGetOptions, consequence: string) {
  const program = helperProgram(helper);
  const where = options.configuredAs === undefined ? '' : ` (configured as ${options.configuredAs})`;
  const executable = await findExecutable(program, options.env);
  if (executable === undefined) {
    throw new CredentialsError(`credential helper ${program} is not on PATH${where}, ${consequence}`, {
      hint: `install ${program}${options.removeHint === undefined ? '' : `, or ${options.removeHint}`}`,
    });
  }
  try {
    return await runCommand(executable, [action], { input, env: options.env, timeoutMs: options.timeoutMs ?? HELPER_TIMEOUT_MS });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CredentialsError(`cannot run credential helper ${executable}${where}: ${typeof code === 'string' ? code : 'start failed'}`, {
      hint: `check that ${executable} is an executable program`,
    });
  }
}

/** Turns a helper's `get` stdout into a Credential (pure). `<token>` as Username means Secret is an identity token. */
export function parseHelperAnswer(stdout: string, context: { program: string; serverUrl: string }): Credential | undefined {
  const garbage = () =>
    new CredentialsError(`credential helper ${context.program} answered "${context.serverUrl}" with something other than {"ServerURL","Username","Secret"} JSON`, {
      hint: `check that ${context.program} is a docker credential helper and is up to date`,
    });
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw garbage();
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw garbage();
  const { Username: username = '', Secret: secret = '' } = data as Record<string, unknown>;
  if (typeof username !== 'string' || typeof secret !== 'string') throw garbage();
  const source = `${context.program} for "${context.serverUrl}"`;
  if (username === IDENTITY_TOKEN_USERNAME) return secret === '' ? undefined : { identityToken: secret, source };
  if (username === '' && secret === '') return undefined;
  return { ...(username === '' ? {} : { username }), ...(secret === '' ? {} : { password: secret }), source };
}

/** A helper's own error text, shortened to one line; dropped entirely when it looks like it carries a credential. */
function quoteHelperText(text: string): string {
  if (text === '' || /"?(Secret|Password|Username)"?\s*:/i.test(text)) return '';
  const oneLine = text.replace(/\s*\n\s*/g, ' ');
  return oneLine.length > MAX_QUOTED_CHARS ? `${oneLine.slice(0, MAX_QUOTED_CHARS)}…` : oneLine;
}
