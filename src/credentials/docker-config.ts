/**
 * The Docker client config (`<dir>/config.json`) as the docker CLI reads it: which directory, the file's shape,
 * the `auth` field's encoding and the `DOCKER_AUTH_CONFIG` overlay. Nothing here ever echoes file content or an
 * env value into a message, because both may hold secrets.
 */
import { CredentialsError } from '../errors.ts';
import { path, readTextFile } from '../runtime.ts';

/** One `auths` entry as written by `docker login` (and older clients: `username`/`password`). */
export interface DockerAuthEntry {
  /** base64 (standard) of `username:password`. */
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** The parts of config.json credential lookup uses; `file` is its path whether or not it exists. */
export interface DockerConfigFile {
  file: string;
  exists: boolean;
  /** Keys in file order (legacy URL keys are matched in that order). */
  auths: Readonly<Record<string, DockerAuthEntry>>;
  credsStore?: string;
  credHelpers: Readonly<Record<string, string>>;
}

/** Environment variables, as `Io.env` gives them. */
export type Env = Readonly<Record<string, string | undefined>>;

const ENTRY_FIELDS = ['auth', 'username', 'password', 'identitytoken', 'registrytoken'] as const;

/**
 * Picks the Docker config directory: `--docker-config` > `REGPLAN_DOCKER_CONFIG` > `DOCKER_CONFIG` > `~/.docker`.
 * `reason` says which one won (for `regplan detect`); relative paths resolve against `cwd` when given.
 */
export function resolveDockerConfigDir(options: { flag?: string; env: Env; home: string; cwd?: string }): { dir: string; reason: string } {
  const choices: Array<[string | undefined, string]> = [
    [options.flag, 'from --docker-config'],
    [options.env['REGPLAN_DOCKER_CONFIG'], 'from $REGPLAN_DOCKER_CONFIG'],
    [options.env['DOCKER_CONFIG'], 'from $DOCKER_CONFIG'],
  ];
  for (const [value, reason] of choices) {
    if (value) return { dir: options.cwd === undefined ? value : path.resolve(options.cwd, value), reason };
  }
  return { dir: path.join(options.home, '.docker'), reason: 'default ~/.docker' };
}

/** Reads `<dir>/config.json`; a missing file (or directory) is an empty config, anything unreadable is a CredentialsError. */
export async function readDockerConfig(dir: string): Promise<DockerConfigFile> {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { file, exists: false, auths: {}, credHelpers: {} };
    throw new CredentialsError(`cannot read Docker config ${file}: ${typeof code === 'string' ? code : 'read failed'}`, {
      hint: 'check the file permissions, or point --docker-config / DOCKER_CONFIG at another directory',
      context: { file },
    });
  }
  return parseDockerConfig(text, file);
}

/** Parses config.json text (pure; `file` only names it in errors). Whitespace-only text is an empty config, as in docker. */
export function parseDockerConfig(text: string, file: string): DockerConfigFile {
  const empty: DockerConfigFile = { file, exists: true, auths: {}, credHelpers: {} };
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') return empty;
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    // V8's message may quote the text around the error, so only the position is kept.
    const at = /line (\d+) column (\d+)/.exec(error instanceof Error ? error.message : '');
    throw new CredentialsError(`cannot read Docker config ${file}: not valid JSON${at ? ` (line ${at[1]}, column ${at[2]})` : ''}`, {
      hint: 'fix the JSON (docker login rewrites it), or point --docker-config / DOCKER_CONFIG at another directory',
      context: { file },
    });
  }
  const shapeError = (what: string) =>
    new CredentialsError(`cannot read Docker config ${file}: ${what}`, {
      hint: 'fix the file (see "docker login --help"), or point --docker-config / DOCKER_CONFIG at another directory',
      context: { file },
    });
  if (data === null) return empty;
  if (!isObject(data)) throw shapeError('the top level must be a JSON object');
  const auths: Array<[string, DockerAuthEntry]> = [];
  for (const [key, value] of objectEntries(data['auths'], () => shapeError('"auths" must be an object'))) {
    if (value === null) {
      auths.push([key, {}]);
      continue;
    }
    if (!isObject(value)) throw shapeError(`auths[${JSON.stringify(key)}] must be an object`);
    const entry: DockerAuthEntry = {};
    for (const field of ENTRY_FIELDS) {
      const fieldValue = value[field];
      if (fieldValue === undefined || fieldValue === null) continue;
      if (typeof fieldValue !== 'string') throw shapeError(`auths[${JSON.stringify(key)}].${field} must be a string`);
      entry[field] = fieldValue;
    }
    auths.push([key, entry]);
  }
  const credHelpers: Array<[string, string]> = [];
  for (const [key, value] of objectEntries(data['credHelpers'], () => shapeError('"credHelpers" must be an object'))) {
    if (typeof value !== 'string') throw shapeError(`credHelpers[${JSON.stringify(key)}] must be a string (a helper name such as "gcloud")`);
    credHelpers.push([key, value]);
  }
  const credsStore = data['credsStore'];
  if (credsStore !== undefined && credsStore !== null && typeof credsStore !== 'string') throw shapeError('"credsStore" must be a string');
  return {
    file,
    exists: true,
    // Object.fromEntries defines own properties, so a key such as "__proto__" stays a plain key.
    auths: Object.fromEntries(auths),
    credHelpers: Object.fromEntries(credHelpers),
    ...(credsStore ? { credsStore } : {}),
  };
}

/**
 * Parses `DOCKER_AUTH_CONFIG` (`{"auths":{"<key>":{"auth":"<base64 user:pass>"}}}`), which the docker CLI layers over
 * the file and helpers. Unset or empty means none; other top-level keys are ignored; entries allow only `auth`.
 */
export function parseDockerAuthConfigEnv(env: Env): Readonly<Record<string, DockerAuthEntry>> {
  const value = env['DOCKER_AUTH_CONFIG'];
  if (value === undefined || value.trim() === '') return {};
  const problem = (what: string) =>
    new CredentialsError(`cannot use $DOCKER_AUTH_CONFIG: ${what}`, {
      hint: 'set it to {"auths":{"<registry host>":{"auth":"<base64 of user:password>"}}}, or unset it',
    });
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    throw problem('not valid JSON');
  }
  if (!isObject(data)) throw problem('the top level must be a JSON object');
  const entries: Array<[string, DockerAuthEntry]> = [];
  for (const [key, entry] of objectEntries(data['auths'], () => problem('"auths" must be an object'))) {
    if (!isObject(entry)) throw problem(`auths[${JSON.stringify(key)}] must be an object`);
    const unknown = Object.keys(entry).filter((field) => field !== 'auth');
    if (unknown.length > 0) throw problem(`auths[${JSON.stringify(key)}] has ${unknown.map((f) => `"${f}"`).join(', ')}; only "auth" is allowed`);
    if (typeof entry['auth'] !== 'string' || entry['auth'] === '') throw problem(`auths[${JSON.stringify(key)}] is missing "auth"`);
    entries.push([key, { auth: entry['auth'] }]);
  }
  return Object.fromEntries(entries);
}

/**
 * Decodes an `auth` field as docker does: standard base64, split at the first `:`, user must not be empty,
 * NUL bytes trimmed from the password. `where` names the entry in errors (never the value).
 */
export function decodeAuthField(auth: string, where: string): { username: string; password: string } {
  const compact = auth.replace(/[\r\n]/g, '');
  const invalid = (what: string) =>
    new CredentialsError(`the "auth" value in ${where} ${what}`, {
      hint: 'log in again (docker login / regplan login) to rewrite it; it must be base64 of "username:password"',
    });
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw invalid('is not valid base64');
  const decoded = new TextDecoder().decode(Uint8Array.from(atob(compact), (c) => c.charCodeAt(0)));
  const colon = decoded.indexOf(':');
  if (colon === -1) throw invalid('has no ":" between username and password');
  if (colon === 0) throw invalid('has an empty username');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/^\0+|\0+$/g, '') };
}

/**
 * The host part of a config key, as docker's ConvertToHostname: a URL key (`https://myreg:5000/v1/`) gives its
 * host[:port]; anything else is cut at the first `/`.
 */
export function convertToHostname(key: string): string {
  const scheme = key.indexOf('://');
  if (scheme !== -1) {
    const authority = key.slice(scheme + 3).split(/[/?#]/, 1)[0]!;
    const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
    const bracketed = /^\[([^\]]*)\](?::(\d*))?$/.exec(hostPort);
    if (bracketed) {
      const [, host = '', port] = bracketed;
      if (host) return port ? `[${host}]:${port}` : host;
    } else if (hostPort) {
      const colon = hostPort.lastIndexOf(':');
      if (colon === -1 || hostPort.slice(colon + 1) === '') return colon === -1 ? hostPort : hostPort.slice(0, colon);
      return hostPort;
    }
  }
  const slash = key.indexOf('/');
  return slash === -1 ? key : key.slice(0, slash);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectEntries(value: unknown, wrongType: () => Error): Array<[string, unknown]> {
  if (value === undefined || value === null) return [];
  if (!isObject(value)) throw wrongType();
  return Object.entries(value);
}
