/**
 * Writing and erasing a registry login in a Docker config dir exactly where `docker login` / `docker logout` put
 * it: through `credHelpers[key]`, else `credsStore`, else an `auths` entry in config.json. config.json is
 * rewritten atomically (temp file + rename, 0600) with every other key kept; a symlinked config.json stays a link.
 */
import { CredentialsError } from '../errors.ts';
import { DOCKER_HUB_CONFIG_KEY } from '../registry/reference.ts';
import { path, readTextFile, symlinkTarget, writeFileAtomic } from '../runtime.ts';
import { convertToHostname, type DockerConfigFile, type Env, readDockerConfig } from './docker-config.ts';
import { helperErase, helperProgram, helperStore } from './helper.ts';
import { isDockerHubHost } from './lookup.ts';

/** A registry login to record: basic auth for `host`. */
export interface RegistryLogin {
  host: string;
  username: string;
  password: string;
}

/** Where a login was recorded: the dir's config.json `auths`, or a credential helper the config names. */
export type StoredLoginPlace = { kind: 'auths'; file: string; key: string } | { kind: 'helper'; helper: string; via: 'credHelpers' | 'credsStore'; key: string };

/** Options for `storeLogin` and `eraseLogin`: the env (PATH for helpers) and an optional hint replacing the default "remove the helper" advice. */
export interface LoginStoreOptions {
  env: Env;
  removeHint?: string;
}

/**
 * The config key docker files a login under: `https://index.docker.io/v1/` for Docker Hub, else the host[:port]
 * (a scheme or path the user typed is dropped, as docker's ConvertToHostname does).
 */
export const loginKey = (host: string): string => (isDockerHubHost(convertToHostname(host)) ? DOCKER_HUB_CONFIG_KEY : convertToHostname(host));

/** The helper docker routes `key` to: `credHelpers[key]` (even empty, which means the file), else `credsStore`. */
function routedHelper(config: DockerConfigFile, key: string): { helper: string; via: 'credHelpers' | 'credsStore' } | undefined {
  const viaHelpers = Object.hasOwn(config.credHelpers, key);
  const helper = viaHelpers ? config.credHelpers[key]! : (config.credsStore ?? '');
  return helper === '' ? undefined : { helper, via: viaHelpers ? 'credHelpers' : 'credsStore' };
}

const helperOptions = (config: DockerConfigFile, key: string, via: 'credHelpers' | 'credsStore', options: LoginStoreOptions) => ({
  env: options.env,
  configuredAs: `${via === 'credHelpers' ? `credHelpers[${JSON.stringify(key)}]` : 'credsStore'} in ${config.file}`,
  removeHint: options.removeHint ?? (via === 'credHelpers' ? `remove ${JSON.stringify(key)} from credHelpers in ${config.file}` : `remove "credsStore" from ${config.file}`),
});

/**
 * Records a login in the config dir as `docker login` does: through `credHelpers[key]` or `credsStore` when the
 * config routes the key to a helper (`docker-credential-<name> store`), else as an `auths` entry (`auth` = base64
 * user:password). Either way the file keeps an `auths` entry for the key (empty when a helper holds the secret),
 * as docker's does.
 */
export async function storeLogin(dir: string, login: RegistryLogin, options: LoginStoreOptions): Promise<StoredLoginPlace> {
  const config = await readDockerConfig(dir);
  const key = loginKey(login.host);
  const text = config.exists ? await readTextFile(config.file) : '';
  const routed = routedHelper(config, key);
  if (routed !== undefined) {
    await helperStore(routed.helper, { serverUrl: key, username: login.username, secret: login.password }, helperOptions(config, key, routed.via, options));
    await writeConfigText(config.file, withAuthEntry(text, key, undefined));
    return { kind: 'helper', ...routed, key };
  }
  await writeConfigText(config.file, withAuthEntry(text, key, encodeAuth(login.username, login.password)));
  return { kind: 'auths', file: config.file, key };
}

/** What `eraseLogin` did: the name docker prints for the registry, and every place a login was removed from. */
export interface ErasedLogin {
  shownAs: string;
  erased: StoredLoginPlace[];
}

/**
 * Removes the login for `host` as `docker logout` does: the key docker would have written plus the older forms
 * (`host`, `http://host`, `https://host`) are erased from the helper each routes to, and every `auths` key that
 * names the same host is dropped from config.json, so no lookup finds the login afterwards. `erased` is empty
 * when there was nothing to remove ("Not logged in"); a helper that fails leaves config.json untouched.
 */
export async function eraseLogin(dir: string, host: string, options: LoginStoreOptions): Promise<ErasedLogin> {
  const config = await readDockerConfig(dir);
  const key = loginKey(host);
  const hub = key === DOCKER_HUB_CONFIG_KEY;
  const keys = hub ? [key] : [...new Set([key, `http://${key}`, `https://${key}`])];
  const fileKeys = Object.keys(config.auths).filter((k) => keys.includes(k) || (!hub && convertToHostname(k) === key));
  const erased: StoredLoginPlace[] = [];
  for (const candidate of new Set([...keys, ...fileKeys])) {
    const routed = routedHelper(config, candidate);
    if (routed === undefined) continue;
    if (await helperErase(routed.helper, candidate, helperOptions(config, candidate, routed.via, options))) erased.push({ kind: 'helper', ...routed, key: candidate });
  }
  if (fileKeys.length > 0) {
    await writeConfigText(config.file, withoutAuthEntries(await readTextFile(config.file), fileKeys));
    for (const fileKey of fileKeys) erased.push({ kind: 'auths', file: config.file, key: fileKey });
  }
  return { shownAs: key, erased };
}

/** Writes config.json atomically and private (0600); a symlinked config.json has its target replaced, the link kept. */
async function writeConfigText(file: string, text: string): Promise<void> {
  const target = await symlinkTarget(file);
  try {
    await writeFileAtomic(target, text, { mode: 0o600, dirMode: 0o700 });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CredentialsError(`cannot write Docker config ${target}: ${typeof code === 'string' ? code : 'write failed'}`, {
      hint: `check the permissions of ${path.dirname(target)}, or point --docker-config / DOCKER_CONFIG at another directory`,
      context: { file: target },
    });
  }
}

/** base64 (standard) of `username:password`, the `auth` field docker writes. */
export const encodeAuth = (username: string, password: string): string => {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
};

/** The parsed config.json object (pure); `text` is known to parse (readDockerConfig read it first). */
function configObject(text: string): Record<string, unknown> {
  const body = text.replace(/^\uFEFF/, '').trim();
  const parsed: unknown = body === '' ? {} : JSON.parse(body);
  return (parsed ?? {}) as Record<string, unknown>;
}

const authsOf = (data: Record<string, unknown>): Record<string, unknown> =>
  typeof data['auths'] === 'object' && data['auths'] !== null ? (data['auths'] as Record<string, unknown>) : {};

/**
 * config.json text with `auths[key]` replaced (pure): `{auth}`, or `{}` when a helper holds the secret. Every
 * other key is kept as it was; the result is tab-indented like docker's.
 */
export function withAuthEntry(text: string, key: string, auth: string | undefined): string {
  const data = configObject(text);
  const entry = auth === undefined ? {} : { auth };
  const auths = Object.fromEntries([...Object.entries(authsOf(data)).filter(([k]) => k !== key), [key, entry]]);
  return JSON.stringify({ ...data, auths }, null, '\t');
}

/** config.json text without the `auths` entries in `keys` (pure); everything else kept, tab-indented like docker's. */
export function withoutAuthEntries(text: string, keys: readonly string[]): string {
  const data = configObject(text);
  const auths = Object.fromEntries(Object.entries(authsOf(data)).filter(([k]) => !keys.includes(k)));
  return JSON.stringify({ ...data, auths }, null, '\t');
}

/** A one-line, secret-free account of where a login went, for the command's stderr. */
export function describeStoredLogin(place: StoredLoginPlace): string {
  return place.kind === 'auths'
    ? `auths[${JSON.stringify(place.key)}] in ${place.file}`
    : `${helperProgram(place.helper)} (${place.via}) for ${JSON.stringify(place.key)}`;
}
