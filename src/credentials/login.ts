/**
 * `regplan login` as one function: check the credentials against the registry exactly as `docker login` does
 * (Basic auth, or a token for no scope), and only then record them where docker would (docker-login.ts). A
 * refused password writes nothing.
 */
import { AuthError, isAuthError } from '../errors.ts';
import { RegistryClient } from '../registry/client.ts';
import { registerCredential } from '../registry/redact.ts';
import { DOCKER_HUB_CONFIG_KEY, DOCKER_HUB_HOST } from '../registry/reference.ts';
import type { Env } from './docker-config.ts';
import { loginKey, storeLogin, type RegistryLogin, type StoredLoginPlace } from './docker-login.ts';

/** Where the login goes and how to reach the registry. */
export interface LogInOptions {
  configDir: string;
  env: Env;
  /** Where the password came from, for messages (never the password). */
  passwordFrom: string;
  /** Request trace lines (--debug). */
  debug?: (line: string) => void;
  /** For tests only; default global fetch. */
  fetch?: typeof fetch;
}

/**
 * Verifies `login` against its registry, then stores it; returns where it went. An AuthError (nothing written)
 * when the registry refuses the credentials; other registry or network errors pass through as they are.
 */
export async function logIn(login: RegistryLogin, options: LogInOptions): Promise<StoredLoginPlace> {
  registerCredential(login);
  const key = loginKey(login.host);
  const client = new RegistryClient({
    host: key === DOCKER_HUB_CONFIG_KEY ? DOCKER_HUB_HOST : key,
    credentials: async () => ({ username: login.username, password: login.password, source: options.passwordFrom }),
    ...(options.debug === undefined ? {} : { debug: options.debug }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  try {
    await client.checkLogin();
  } catch (error) {
    if (!isAuthError(error)) throw error;
    throw new AuthError(`cannot log in to ${key} as "${login.username}": ${error.message}`, {
      status: error.status,
      errors: error.errors,
      registry: key,
      hint: `check the username and the password given on stdin; nothing was saved`,
      cause: error,
    });
  }
  return storeLogin(options.configDir, login, { env: options.env });
}
