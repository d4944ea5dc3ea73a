/**
 * The per-job Docker config `regplan ci-env` makes: a fresh private copy of the user's config dir (or the
 * `DOCKER_AUTH_CONFIG` JSON), and a login written into it the way `docker login` would. Parallel jobs each get
 * their own directory, so one job's login never lands in another's config.
 */
import { CredentialsError } from '../errors.ts';
import { DOCKER_HUB_CONFIG_KEY } from '../registry/reference.ts';
import { copyTree, makeTempDir, path, readTextFile, removeTree, type SkippedEntry, writeFileAtomic } from '../runtime.ts';
import { type Env, readDockerConfig } from './docker-config.ts';
import { helperProgram, helperStore } from './helper.ts';
import { isDockerHubHost } from './lookup.ts';

/** Top-level entries of a Docker config dir that are never copied: plugins, runtime state and sockets (werf #3255). */
export const SKIPPED_DOCKER_CONFIG_ENTRIES: readonly string[] = ['cli-plugins', 'buildx', 'machine', 'desktop', 'run', 'mutagen', 'scout'];

/** Name prefix of every per-job config dir, so leftovers are easy to find and remove. */
export const JOB_DOCKER_CONFIG_PREFIX = 'regplan-docker-config-';

/** A new per-job config dir and what went into it. */
export interface JobDockerConfig {
  dir: string;
  /** `copy` of `source`, or `DOCKER_AUTH_CONFIG` written as config.json. */
  origin: { kind: 'copy'; source: string } | { kind: 'docker-auth-config' };
  /** Entries left out of the copy and why. */
  skipped: SkippedEntry[];
}

/** A registry login to record: basic auth for `host`. */
export interface RegistryLogin {
  host: string;
  username: string;
  password: string;
}

/** Where a login was recorded: the dir's config.json `auths`, or a credential helper the config names. */
export type StoredLoginPlace = { kind: 'auths'; file: string; key: string } | { kind: 'helper'; helper: string; via: 'credHelpers' | 'credsStore'; key: string };

/**
 * Makes a fresh 0700 temp dir holding either a copy of `sourceDir` (regular files and directories only, files
 * 0600, plugin and runtime folders skipped; a missing source gives an empty dir) or, with `useDockerAuthConfig`,
 * `$DOCKER_AUTH_CONFIG` as config.json (0600). The dir is removed again when this fails.
 */
export async function createJobDockerConfig(options: { sourceDir: string; useDockerAuthConfig?: boolean; env: Env }): Promise<JobDockerConfig> {
  const authConfig = options.useDockerAuthConfig ? dockerAuthConfigText(options.env) : undefined;
  const dir = await makeTempDir(JOB_DOCKER_CONFIG_PREFIX);
  try {
    if (authConfig !== undefined) {
      await writeFileAtomic(path.join(dir, 'config.json'), authConfig, { mode: 0o600 });
      return { dir, origin: { kind: 'docker-auth-config' }, skipped: [] };
    }
    const skip = (relative: string) => SKIPPED_DOCKER_CONFIG_ENTRIES.includes(relative);
    let skipped: SkippedEntry[];
    try {
      ({ skipped } = await copyTree(options.sourceDir, dir, { skip, fileMode: 0o600, dirMode: 0o700 }));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new CredentialsError(`cannot copy the Docker config dir ${options.sourceDir}: ${typeof code === 'string' ? code : String(error)}`, {
        hint: 'point --docker-config / DOCKER_CONFIG at a readable directory, or use --use-docker-auth-config',
        context: { file: options.sourceDir },
      });
    }
    return { dir, origin: { kind: 'copy', source: options.sourceDir }, skipped };
  } catch (error) {
    await removeTree(dir);
    throw error;
  }
}

/** `$DOCKER_AUTH_CONFIG`, checked to be a JSON object (its text is never quoted: it holds credentials). */
function dockerAuthConfigText(env: Env): string {
  const text = env['DOCKER_AUTH_CONFIG'];
  const hint = 'set DOCKER_AUTH_CONFIG to a Docker config JSON such as {"auths":{"<host>":{"auth":"<base64 of user:password>"}}}, or drop --use-docker-auth-config';
  if (text === undefined || text.trim() === '') throw new CredentialsError('--use-docker-auth-config needs $DOCKER_AUTH_CONFIG, which is not set', { hint });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CredentialsError('cannot use $DOCKER_AUTH_CONFIG: not valid JSON', { hint });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CredentialsError('cannot use $DOCKER_AUTH_CONFIG: the top level must be a JSON object', { hint });
  }
  return text;
}

/** The config key docker files a login under: `https://index.docker.io/v1/` for Docker Hub, else the host. */
export const loginKey = (host: string): string => (isDockerHubHost(host) ? DOCKER_HUB_CONFIG_KEY : host);

/**
 * Records a login in the config dir as `docker login` does: through `credHelpers[host]` or `credsStore` when the
 * config routes the host to a helper (`docker-credential-<name> store`; the helper's store may be shared with
 * other jobs on the machine), else as an `auths` entry (`auth` = base64 user:password) in config.json, written
 * atomically, 0600, tab-indented. Either way the file keeps an `auths` entry for the key, as docker's does.
 */
export async function storeLogin(dir: string, login: RegistryLogin, options: { env: Env }): Promise<StoredLoginPlace> {
  const config = await readDockerConfig(dir);
  const key = loginKey(login.host);
  const viaHelpers = Object.hasOwn(config.credHelpers, key);
  const helper = viaHelpers ? config.credHelpers[key]! : (config.credsStore ?? '');
  const file = path.join(dir, 'config.json');
  const text = config.exists ? await readTextFile(file) : '';
  if (helper !== '') {
    const via = viaHelpers ? 'credHelpers' : 'credsStore';
    await helperStore(helper, { serverUrl: key, username: login.username, secret: login.password }, {
      env: options.env,
      configuredAs: `${via === 'credHelpers' ? `credHelpers[${JSON.stringify(key)}]` : 'credsStore'} in ${file}`,
      removeHint: `use --use-docker-auth-config for a config without helpers`,
    });
    await writeFileAtomic(file, withAuthEntry(text, key, undefined), { mode: 0o600 });
    return { kind: 'helper', helper, via, key };
  }
  await writeFileAtomic(file, withAuthEntry(text, key, encodeAuth(login.username, login.password)), { mode: 0o600 });
  return { kind: 'auths', file, key };
}

/** base64 (standard) of `username:password`, the `auth` field docker writes. */
export const encodeAuth = (username: string, password: string): string => {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
};

/**
 * config.json text with `auths[key]` replaced (pure): `{auth}`, or `{}` when a helper holds the secret. Every
 * other key is kept as it was; the result is tab-indented like docker's. `text` is known to parse (read before).
 */
export function withAuthEntry(text: string, key: string, auth: string | undefined): string {
  const body = text.replace(/^\uFEFF/, '').trim();
  const parsed: unknown = body === '' ? {} : JSON.parse(body);
  const data = (parsed ?? {}) as Record<string, unknown>;
  const auths = typeof data['auths'] === 'object' && data['auths'] !== null ? (data['auths'] as Record<string, unknown>) : {};
  const entry = auth === undefined ? {} : { auth };
  const updated = { ...data, auths: Object.fromEntries([...Object.entries(auths).filter(([k]) => k !== key), [key, entry]]) };
  return JSON.stringify(updated, null, '\t');
}

/** A one-line, secret-free account of where a login went, for the command's stderr. */
export function describeStoredLogin(place: StoredLoginPlace): string {
  return place.kind === 'auths'
    ? `auths[${JSON.stringify(place.key)}] in ${place.file}`
    : `${helperProgram(place.helper)} (${place.via}) for ${JSON.stringify(place.key)}`;
}
