/**
 * Opens the driver for a repo address: detection (flag > env > config > host rules), the driver factory, Docker
 * credentials for the Registry API, and native secrets from env or the config's `{env}`/`{file}` references.
 * Plan and apply both go through here, so they always talk to a repo the same way.
 */
import { readSecret, SECRET_KEY } from '../config/secrets.ts';
import type { Config, RegistryCredentialsConfig } from '../config/types.ts';
import { resolveDockerConfigDir } from '../credentials/docker-config.ts';
import { createHelperCache, credentialProvider } from '../credentials/lookup.ts';
import { registerCredential, registerSecret } from '../registry/redact.ts';
import type { RepoRef } from '../registry/reference.ts';
import { homeDir, type Io } from '../runtime.ts';
import { detectRegistry, registryConfigFor } from './detect.ts';
import type { Driver } from './driver.ts';
import { driverFactory } from './index.ts';

/** A repo ready to read and change: its parsed address, the name on the registry, and its driver. */
export interface OpenedRepo {
  repo: string;
  ref: RepoRef;
  /** Repository path on the registry (`acme/api`), empty for an OCI layout. */
  name: string;
  /** Key for per-host limits: the registry host, or `oci:<dir>`. */
  hostKey: string;
  driver: Driver;
}

/** What opening repos needs from the command line and environment. */
export interface OpenOptions {
  config: Config;
  io: Io;
  /** `--repo-container-registry`. */
  registryFlag?: string;
  /** `--docker-config`. */
  dockerConfig?: string;
  debug?: (line: string) => void;
}

/** Builds a function that opens repos, sharing credential helper answers and drivers per host. */
export function repoOpener(options: OpenOptions): (address: string) => OpenedRepo {
  const { config, io } = options;
  const { dir: configDir } = resolveDockerConfigDir({
    env: io.env,
    home: io.env['HOME'] || homeDir(),
    cwd: io.cwd,
    ...(options.dockerConfig === undefined ? {} : { flag: options.dockerConfig }),
  });
  const helperCache = createHelperCache();
  const drivers = new Map<string, Driver>();
  return (address) => {
    const detection = detectRegistry(address, {
      env: io.env,
      config,
      ...(options.registryFlag === undefined ? {} : { flag: options.registryFlag }),
    });
    const { ref } = detection;
    const host = ref.kind === 'registry' ? ref.host : ref.address;
    const name = ref.kind === 'registry' ? ref.name : '';
    const key = `${detection.type} ${host}`;
    let driver = drivers.get(key);
    if (!driver) {
      const registry = ref.kind === 'registry' ? registryConfigFor(config, ref.host)?.config : undefined;
      driver = driverFactory(detection.type).create({
        host,
        type: detection.type,
        ...(registry === undefined ? {} : { registry }),
        credentials: ref.kind === 'registry' ? credentialProvider({ host: ref.host, name: ref.name }, { configDir, env: io.env, helperCache }) : async () => undefined,
        nativeSecret: nativeSecretReader({ env: io.env, configDir: config.dir, ...(registry?.credentials ? { configured: registry.credentials } : {}) }),
        ...(options.debug === undefined ? {} : { debug: options.debug }),
        notice: (line) => io.stderr(`Note: ${line}\n`),
      });
      drivers.set(key, driver);
    }
    return { repo: address, ref, name, hostKey: host, driver };
  };
}

/** Where a host's native secrets come from: the environment, and the config's `{env}`/`{file}` references. */
export interface NativeSecretSources {
  env: Readonly<Record<string, string | undefined>>;
  /** The config file's directory (`{file}` references are relative to it). */
  configDir: string;
  configured?: RegistryCredentialsConfig;
}

/**
 * The native-secret resolver drivers get as `nativeSecret`: the `REGPLAN_REPO_*` env var first, else the config's
 * reference of the same kind. It is where native credentials are read, so it is where they are registered with
 * the process-wide redactor: every value of a secret-named variable (token, password, secret, key) and the AWS
 * access key id, and for a password also `user:password` and its base64 — the Basic header a server might echo.
 * Drivers need not.
 */
export function nativeSecretReader(sources: NativeSecretSources): (envName: string) => Promise<string | undefined> {
  return async (envName) => {
    const value = await readNativeValue(envName, sources);
    if (value !== undefined && isSecretName(envName)) {
      registerSecret(value);
      registerSecret(value.trim());
      if (/_PASSWORD$/.test(envName)) {
        const username = await readNativeValue(envName.replace(/_PASSWORD$/, '_USERNAME'), sources);
        registerCredential({ username, password: value });
        registerCredential({ username: username?.trim(), password: value.trim() });
      }
    }
    return value;
  };
}

/**
 * Identifiers masked like secrets: an AWS access key id names the key a leaked secret would unlock, and AWS itself
 * shows only its last four characters (`aws configure list`).
 */
const SECRET_IDS = new Set(['AWS_ACCESS_KEY_ID']);

/** A variable holding a secret (not a username, id or file path). */
const isSecretName = (envName: string): boolean => SECRET_IDS.has(envName) || (SECRET_KEY.test(envName) && !/_FILE$/.test(envName));

async function readNativeValue(envName: string, sources: NativeSecretSources): Promise<string | undefined> {
  const direct = sources.env[envName];
  if (direct) return direct;
  const kind = /_TOKEN$/.test(envName) ? 'token' : /_USERNAME$/.test(envName) ? 'username' : /_PASSWORD$/.test(envName) ? 'password' : undefined;
  const ref = kind === undefined ? undefined : sources.configured?.[kind];
  return ref === undefined ? undefined : readSecret(ref, sources.env, sources.configDir);
}
