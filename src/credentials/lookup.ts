/**
 * Finds Registry API credentials for a repository exactly as the docker CLI (through go-containerregistry's
 * keychain, which werf uses) would: repository-path keys before the host key, Docker Hub under
 * `https://index.docker.io/v1/`, and for each key `DOCKER_AUTH_CONFIG` > `credHelpers[key]` > `credsStore` > `auths`.
 */
import { registerCredential } from '../registry/redact.ts';
import { DOCKER_HUB_CONFIG_KEY, DOCKER_HUB_HOST } from '../registry/reference.ts';
import { findExecutable } from '../runtime.ts';
import {
  convertToHostname,
  decodeAuthField,
  parseDockerAuthConfigEnv,
  readDockerConfig,
  type DockerAuthEntry,
  type DockerConfigFile,
  type Env,
} from './docker-config.ts';
import { helperGet, helperProgram } from './helper.ts';
import { credentialKind, type Credential, type CredentialProvider } from './types.ts';

/** Where to look: the resolved Docker config dir and the environment (PATH for helpers, DOCKER_AUTH_CONFIG). */
export interface LookupOptions {
  configDir: string;
  env: Env;
  /** Shares helper answers between lookups of one run (see `createHelperCache`); omitted = no sharing. */
  helperCache?: HelperCache;
}

/** The repository whose credentials are wanted (as `parseRepo` gives it; an empty host means Docker Hub). */
export interface CredentialTarget {
  host: string;
  name: string;
}

/** Helper answers keyed by helper and server URL, so 100 repos on one host ask the helper for the host once. */
export type HelperCache = Map<string, Promise<Credential | undefined>>;

/** A fresh helper-answer cache for one regplan run. */
export const createHelperCache = (): HelperCache => new Map();

const HUB_HOSTS = new Set(['', DOCKER_HUB_HOST, 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** True when `host` is Docker Hub under any of its names. */
export const isDockerHubHost = (host: string): boolean => HUB_HOSTS.has(host.toLowerCase());

/**
 * The config keys tried, in order: `host/full/name`, then each shorter path prefix, then the host key
 * (`https://index.docker.io/v1/` for Docker Hub, whose path keys are written `docker.io/<path>`).
 */
export function credentialKeys(target: CredentialTarget): string[] {
  const hub = isDockerHubHost(target.host);
  const host = hub ? DOCKER_HUB_HOST : target.host;
  const parts = target.name.split('/').filter((part) => part !== '');
  const keys: string[] = [];
  for (let length = parts.length; length > 0; length--) keys.push(`${host}/${parts.slice(0, length).join('/')}`);
  keys.push(hub ? DOCKER_HUB_CONFIG_KEY : host);
  return keys;
}

/** Which store answers for one key: an env entry, a helper (credHelpers / credsStore), or the file's `auths`. */
type KeyStore =
  | { kind: 'env'; key: string; entry: DockerAuthEntry }
  | { kind: 'helper'; key: string; helper: string; via: 'credHelpers' | 'credsStore'; fileEntry: DockerAuthEntry | undefined }
  | { kind: 'file'; key: string; match: { key: string; entry: DockerAuthEntry } | undefined };

function storeFor(key: string, config: DockerConfigFile, envAuths: Readonly<Record<string, DockerAuthEntry>>): KeyStore {
  if (Object.hasOwn(envAuths, key)) return { kind: 'env', key, entry: envAuths[key]! };
  const match = findAuthEntry(config, key);
  // docker: credHelpers[key] even when empty (an empty name selects the file store), else credsStore.
  const helper = Object.hasOwn(config.credHelpers, key) ? config.credHelpers[key]! : (config.credsStore ?? '');
  if (helper !== '') {
    const via = Object.hasOwn(config.credHelpers, key) ? 'credHelpers' : 'credsStore';
    return { kind: 'helper', key, helper, via, fileEntry: match?.entry };
  }
  return { kind: 'file', key, match };
}

/** docker's file-store Get: the exact key, else the first key (in file order) whose ConvertToHostname equals it. */
export function findAuthEntry(config: DockerConfigFile, key: string): { key: string; entry: DockerAuthEntry } | undefined {
  if (Object.hasOwn(config.auths, key)) return { key, entry: config.auths[key]! };
  for (const [candidate, entry] of Object.entries(config.auths)) {
    if (convertToHostname(candidate) === key) return { key: candidate, entry };
  }
  return undefined;
}

/** Turns an `auths` entry into a Credential (`auth` wins over legacy username/password); undefined when it holds nothing. */
export function entryCredential(entry: DockerAuthEntry, source: string): Credential | undefined {
  const basic = entry.auth ? decodeAuthField(entry.auth, source) : { username: entry.username ?? '', password: entry.password ?? '' };
  const credential: Credential = {
    ...(basic.username === '' ? {} : { username: basic.username }),
    ...(basic.password === '' ? {} : { password: basic.password }),
    ...(entry.identitytoken ? { identityToken: entry.identitytoken } : {}),
    ...(entry.registrytoken ? { registryToken: entry.registrytoken } : {}),
    source,
  };
  return credentialKind(credential) === 'none' ? undefined : credential;
}

const quote = (key: string): string => JSON.stringify(key);
const helperSource = (store: { key: string; helper: string; via: string }): string =>
  store.via === 'credHelpers' ? `credHelpers[${quote(store.key)}] -> ${helperProgram(store.helper)}` : `credsStore -> ${helperProgram(store.helper)} for ${quote(store.key)}`;

/**
 * Looks up the credentials docker would send for `target`; undefined means anonymous access. Throws
 * CredentialsError for a broken config, a missing or failing helper, or an undecodable `auth`. Every secret
 * found is registered with the process-wide redactor before anyone can send it.
 */
export async function lookupCredential(target: CredentialTarget, options: LookupOptions): Promise<Credential | undefined> {
  const found = await findCredential(target, options);
  if (found !== undefined) registerCredential(found);
  return found;
}

async function findCredential(target: CredentialTarget, options: LookupOptions): Promise<Credential | undefined> {
  const config = await readDockerConfig(options.configDir);
  const envAuths = parseDockerAuthConfigEnv(options.env);
  for (const key of credentialKeys(target)) {
    const store = storeFor(key, config, envAuths);
    if (store.kind === 'env') {
      const found = entryCredential(store.entry, `DOCKER_AUTH_CONFIG[${quote(key)}]`);
      if (found) return found;
      continue;
    }
    if (store.kind === 'file') {
      const found = store.match && entryCredential(store.match.entry, `auths[${quote(store.match.key)}] in ${config.file}`);
      if (found) return found;
      continue;
    }
    const source = helperSource(store);
    const answer = await cachedHelperGet(store.helper, key, {
      env: options.env,
      configuredAs: `${store.via === 'credHelpers' ? `credHelpers[${quote(key)}]` : 'credsStore'} in ${config.file}`,
      removeHint: store.via === 'credHelpers' ? `remove ${quote(key)} from credHelpers in ${config.file}` : `remove "credsStore" from ${config.file}`,
      ...(options.helperCache === undefined ? {} : { cache: options.helperCache }),
    });
    // docker's native store keeps the file entry's registrytoken next to what the helper returns.
    const registryToken = store.fileEntry?.registrytoken;
    if (answer === undefined && !registryToken) continue;
    const { source: _helperSource, ...secrets } = answer ?? { source };
    return { ...secrets, ...(registryToken ? { registryToken } : {}), source };
  }
  return undefined;
}

async function cachedHelperGet(
  helper: string,
  serverUrl: string,
  options: Parameters<typeof helperGet>[2] & { cache?: HelperCache },
): Promise<Credential | undefined> {
  const { cache, ...rest } = options;
  if (cache === undefined) return helperGet(helper, serverUrl, rest);
  const cacheKey = `${helper}\n${serverUrl}`;
  let pending = cache.get(cacheKey);
  if (pending === undefined) {
    pending = helperGet(helper, serverUrl, rest);
    cache.set(cacheKey, pending);
  }
  return pending;
}

/**
 * Says where credentials for `target` would come from, without running any helper and without any secret or
 * username (only the kind: basic auth, identity token, registry token). For `regplan detect` and error hints.
 */
export async function describeCredentialSource(target: CredentialTarget, options: LookupOptions): Promise<string> {
  const config = await readDockerConfig(options.configDir);
  const envAuths = parseDockerAuthConfigEnv(options.env);
  const steps: string[] = [];
  // Consecutive keys sent to the credsStore are described as one step.
  let storeStep: { helper: string; keys: string[] } | undefined;
  /** Adds a helper step; false when the helper is missing, where a lookup would stop with an error. */
  const pushHelperStep = async (helper: string, text: string): Promise<boolean> => {
    const found = await findExecutable(helperProgram(helper), options.env);
    steps.push(`${text} (${found ?? 'not found on PATH'})`);
    return found !== undefined;
  };
  const flushStoreStep = async (): Promise<boolean> => {
    if (storeStep === undefined) return true;
    const { helper, keys } = storeStep;
    storeStep = undefined;
    return pushHelperStep(helper, `credsStore -> ${helperProgram(helper)} for ${keys.map(quote).join(', ')}`);
  };
  const described = () => steps.join(', then ');
  for (const key of credentialKeys(target)) {
    const store = storeFor(key, config, envAuths);
    if (store.kind === 'helper' && store.via === 'credsStore' && !store.fileEntry?.registrytoken) {
      if (storeStep !== undefined && storeStep.helper !== store.helper && !(await flushStoreStep())) return described();
      storeStep ??= { helper: store.helper, keys: [] };
      storeStep.keys.push(key);
      continue;
    }
    if (!(await flushStoreStep())) return described();
    if (store.kind === 'helper') {
      if (!(await pushHelperStep(store.helper, helperSource(store)))) return described();
      if (store.fileEntry?.registrytoken) {
        steps[steps.length - 1] += ` with the registry token from auths in ${config.file}`;
        return described();
      }
      continue;
    }
    const source = store.kind === 'env' ? `DOCKER_AUTH_CONFIG[${quote(key)}]` : store.match && `auths[${quote(store.match.key)}] in ${config.file}`;
    const entry = store.kind === 'env' ? store.entry : store.match?.entry;
    const found = source !== undefined && entry !== undefined ? describeEntry(entry, source) : undefined;
    if (found !== undefined) {
      steps.push(found);
      return described();
    }
  }
  if (!(await flushStoreStep())) return described();
  if (steps.length > 0) return `${described()}, else anonymous access`;
  return `none: anonymous access (run ${isDockerHubHost(target.host) ? 'docker login' : `docker login ${target.host}`})`;
}

/** Describes an entry by kind only; an undecodable `auth` is reported as such rather than thrown. */
function describeEntry(entry: DockerAuthEntry, source: string): string | undefined {
  try {
    const found = entryCredential(entry, source);
    return found && `${source} (${credentialKind(found)})`;
  } catch {
    return `${source} (unusable: its "auth" value cannot be decoded)`;
  }
}

/** A lazy, memoized CredentialProvider for the registry client: the lookup runs on first use, once. */
export function credentialProvider(target: CredentialTarget, options: LookupOptions): CredentialProvider {
  let pending: Promise<Credential | undefined> | undefined;
  return () => (pending ??= lookupCredential(target, options));
}
