/**
 * `regplan ci-env gitlab|github` as data: which registry a CI job logs in to with which of its variables, the
 * per-job Docker config that login goes into, and the shell lines that point later steps at it. Secrets are
 * only ever written into the private config (or a helper); the printed lines carry paths and variable names.
 */
import { CredentialsError, UsageError } from '../errors.ts';
import { createJobDockerConfig, type JobDockerConfig } from './ci-docker-config.ts';
import { storeLogin, type StoredLoginPlace } from './docker-login.ts';
import { convertToHostname, type Env } from './docker-config.ts';
import { registerCredential } from '../registry/redact.ts';
import { path, readTextFileWithTime, removeTree, writeFileAtomic } from '../runtime.ts';

/** The CI systems `ci-env` knows. */
export const CI_SYSTEMS = ['gitlab', 'github'] as const;
/** One of `CI_SYSTEMS`. */
export type CiSystem = (typeof CI_SYSTEMS)[number];

/** The variable each CI system sets to "true" in every job, which `ci-env auto` reads. */
export const CI_MARKERS = { gitlab: 'GITLAB_CI', github: 'GITHUB_ACTIONS' } as const satisfies Record<CiSystem, string>;

/**
 * The CI system this job runs on, from GITLAB_CI=true / GITHUB_ACTIONS=true (`ci-env auto`). Neither, or both,
 * is a usage error naming the variables, since guessing would log in to the wrong registry.
 */
export function detectCiSystem(env: Env): CiSystem {
  const found = CI_SYSTEMS.filter((system) => env[CI_MARKERS[system]] === 'true');
  const markers = CI_SYSTEMS.map((system) => `${CI_MARKERS[system]}=true (${system})`).join(' or ');
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw new UsageError(`regplan ci-env auto: no CI system detected: neither GITLAB_CI nor GITHUB_ACTIONS is "true"`, {
      hint: `auto looks for ${markers}; outside those, name the system: regplan ci-env gitlab|github`,
    });
  }
  throw new UsageError(`regplan ci-env auto: both GITLAB_CI and GITHUB_ACTIONS are "true", so the CI system is ambiguous`, {
    hint: 'name the system: regplan ci-env gitlab|github',
  });
}

/** The user GitLab's job token logs in as. */
export const GITLAB_CI_USER = 'gitlab-ci-token';
/** GitHub's container registry, the default login target for `ci-env github`. */
export const GITHUB_REGISTRY = 'ghcr.io';

/** A CI registry login taken from the job's variables; `passwordFrom` names the variable, for messages. */
export interface CiLogin {
  host: string;
  username: string;
  password: string;
  hostFrom: string;
  passwordFrom: string;
}

const value = (env: Env, name: string): string | undefined => {
  const text = env[name];
  return text === undefined || text === '' ? undefined : text;
};

/** The registry host a job logs in to: `--registry`, else GitLab's CI_REGISTRY / CI_REGISTRY_IMAGE host, else ghcr.io. */
export function ciRegistryHost(system: CiSystem, env: Env, registry?: string): { host: string; from: string } | undefined {
  if (registry !== undefined && registry !== '') return { host: convertToHostname(registry), from: '--registry' };
  if (system === 'github') return { host: GITHUB_REGISTRY, from: 'the default' };
  const ciRegistry = value(env, 'CI_REGISTRY');
  if (ciRegistry !== undefined) return { host: convertToHostname(ciRegistry), from: '$CI_REGISTRY' };
  const image = value(env, 'CI_REGISTRY_IMAGE');
  if (image !== undefined) return { host: convertToHostname(image), from: 'the host of $CI_REGISTRY_IMAGE' };
  return undefined;
}

/**
 * The login a CI job's variables give: GitLab `gitlab-ci-token` / $CI_JOB_TOKEN on CI_REGISTRY, GitHub
 * $GITHUB_ACTOR / $GITHUB_TOKEN on ghcr.io. Throws CredentialsError naming every missing variable.
 */
export function ciLoginFromEnv(system: CiSystem, env: Env, options: { registry?: string } = {}): CiLogin {
  const target = ciRegistryHost(system, env, options.registry);
  const missing: string[] = [];
  if (target === undefined) missing.push('CI_REGISTRY (or CI_REGISTRY_IMAGE)');
  const [userVar, passwordVar] = system === 'gitlab' ? [undefined, 'CI_JOB_TOKEN'] : ['GITHUB_ACTOR', 'GITHUB_TOKEN'];
  const username = userVar === undefined ? GITLAB_CI_USER : value(env, userVar);
  if (username === undefined) missing.push(userVar!);
  const password = value(env, passwordVar);
  if (password === undefined) missing.push(passwordVar);
  if (target === undefined || username === undefined || password === undefined) {
    const names = missing.length === 1 ? `${missing[0]} is` : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)} are`;
    const where =
      system === 'gitlab'
        ? 'GitLab CI predefines them in every job'
        : 'GitHub Actions sets GITHUB_ACTOR; pass the token with "env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}"';
    throw new CredentialsError(`cannot log in to the ${system === 'gitlab' ? 'GitLab' : 'GitHub'} registry: ${names} not set`, {
      hint: `${where}; or pass --no-login to only make the private Docker config`,
    });
  }
  registerCredential({ username, password }); // a job token is a secret wherever it might be echoed
  return { host: target.host, username, password, hostFrom: target.from, passwordFrom: `$${passwordVar}` };
}

/** One printed line: an export of a literal value, an export that refers to another variable, or a comment. */
export type CiEnvLine =
  | { kind: 'export'; name: string; value: string }
  | { kind: 'reference'; name: string; variable: string }
  | { kind: 'comment'; text: string };

/**
 * What `ci-env` exports: DOCKER_CONFIG and REGPLAN_DOCKER_CONFIG (the private dir); for GitHub the cleanup token
 * as a reference to $GITHUB_TOKEN (never its value), unless REGPLAN_REPO_GITHUB_TOKEN is already set; for GitLab
 * a comment on which token cleanup uses (the job token reaches only the job's own project). `gitlabDetected` says
 * whether the host is auto-detected.
 */
export function ciEnvLines(system: CiSystem, options: { configDir: string; env: Env; registryHost?: string; gitlabDetected?: boolean }): CiEnvLine[] {
  const lines: CiEnvLine[] = [
    { kind: 'export', name: 'DOCKER_CONFIG', value: options.configDir },
    { kind: 'export', name: 'REGPLAN_DOCKER_CONFIG', value: options.configDir },
  ];
  if (system === 'github') {
    if (value(options.env, 'REGPLAN_REPO_GITHUB_TOKEN') !== undefined) {
      lines.push({ kind: 'comment', text: 'skip export REGPLAN_REPO_GITHUB_TOKEN (already set)' });
    } else if (value(options.env, 'GITHUB_TOKEN') !== undefined) {
      lines.push({ kind: 'reference', name: 'REGPLAN_REPO_GITHUB_TOKEN', variable: 'GITHUB_TOKEN' });
    }
    return lines;
  }
  lines.push({
    kind: 'comment',
    text:
      value(options.env, 'REGPLAN_REPO_GITLAB_TOKEN') !== undefined
        ? 'cleanup uses REGPLAN_REPO_GITLAB_TOKEN (already set)'
        : 'cleanup uses CI_JOB_TOKEN (as JOB-TOKEN, GitLab 13.12+) in this project only; for other projects set REGPLAN_REPO_GITLAB_TOKEN to a token with api scope',
  });
  if (options.registryHost !== undefined && options.gitlabDetected === false) {
    lines.push({ kind: 'comment', text: `${options.registryHost} is not detected as GitLab: add "registries: {${options.registryHost}: {type: gitlab}}" to the config` });
  }
  return lines;
}

/** How `ci-env` prints: POSIX shell (`export K="V"`), PowerShell (`$Env:K = "V"`), or an env file (`K=V`). */
export type CiEnvFormat = 'sh' | 'powershell' | 'env-file';

const shQuote = (text: string): string => `"${text.replace(/[\\"$`]/g, '\\$&')}"`;
// PowerShell also treats the typographic double quotes as quotes.
const psQuote = (text: string): string => `"${text.replace(/[`"$\u201C\u201D\u201E]/g, '`$&')}"`;

/**
 * Renders lines for one format. Env files (docker --env-file, $GITHUB_ENV, GitLab dotenv) take values literally
 * and allow no comments, so references and comments are left out there and returned as `notes` for stderr.
 */
export function renderCiEnv(lines: readonly CiEnvLine[], format: CiEnvFormat): { text: string; notes: string[] } {
  const out: string[] = [];
  const notes: string[] = [];
  for (const line of lines) {
    if (line.kind === 'comment') {
      if (format === 'env-file') notes.push(line.text);
      else out.push(`# ${line.text.replace(/\n/g, ' ')}`);
    } else if (line.kind === 'reference') {
      if (format === 'sh') out.push(`export ${line.name}="\${${line.variable}}"`);
      else if (format === 'powershell') out.push(`$Env:${line.name} = $Env:${line.variable}`);
      else notes.push(`an env file cannot refer to $${line.variable}: set ${line.name} from it in the job yourself`);
    } else if (format === 'sh') {
      out.push(`export ${line.name}=${shQuote(line.value)}`);
    } else if (format === 'powershell') {
      out.push(`$Env:${line.name} = ${psQuote(line.value)}`);
    } else {
      if (/[\r\n]/.test(line.value)) {
        throw new CredentialsError(`cannot write ${line.name} to an env file: its value contains a line break`, { hint: 'use --shell sh or --shell powershell instead' });
      }
      out.push(`${line.name}=${line.value}`);
    }
  }
  return { text: out.length === 0 ? '' : `${out.join('\n')}\n`, notes };
}

/** What `prepareCiEnv` needs: the CI system, the source config dir, and the login switches. */
export interface CiEnvOptions {
  env: Env;
  sourceDir: string;
  login: boolean;
  registry?: string;
  useDockerAuthConfig?: boolean;
}

/** The prepared job config: the dir, where it came from, and the login recorded in it (absent with --no-login). */
export interface CiEnvResult {
  config: JobDockerConfig;
  login?: { host: string; username: string; hostFrom: string; passwordFrom: string; place: StoredLoginPlace };
}

/**
 * Makes the per-job Docker config and logs in to the CI registry. The CI variables are checked before anything
 * is created; a failed login removes the new dir again.
 */
export async function prepareCiEnv(system: CiSystem, options: CiEnvOptions): Promise<CiEnvResult> {
  const login = options.login ? ciLoginFromEnv(system, options.env, options.registry === undefined ? {} : { registry: options.registry }) : undefined;
  const config = await createJobDockerConfig({ sourceDir: options.sourceDir, env: options.env, useDockerAuthConfig: options.useDockerAuthConfig === true });
  if (login === undefined) return { config };
  try {
    const place = await storeLogin(config.dir, login, { env: options.env, removeHint: 'use --use-docker-auth-config for a config without helpers' });
    const { password: _secret, ...shown } = login;
    return { config, login: { ...shown, place } };
  } catch (error) {
    await removeTree(config.dir);
    throw error;
  }
}

/** Whether `file` is the job's $GITHUB_ENV, which takes env-file lines and keeps what earlier steps wrote. */
export function isGithubEnvFile(file: string, options: { env: Env; cwd: string }): boolean {
  const githubEnv = value(options.env, 'GITHUB_ENV');
  return githubEnv !== undefined && path.resolve(options.cwd, githubEnv) === path.resolve(options.cwd, file);
}

/**
 * `--as-file PATH`: writes the rendered lines to a file instead of stdout, atomically (a temp file renamed into
 * place, so a reader never sees half of it) and 0600. $GITHUB_ENV keeps the variables earlier steps wrote: the
 * new lines go after them. Returns whether earlier content was kept, for the stderr account.
 */
export async function writeCiEnvFile(file: string, text: string, options: { env: Env; cwd: string }): Promise<'appended' | 'written'> {
  const target = path.resolve(options.cwd, file);
  if (!isGithubEnvFile(target, options)) {
    await writeFileAtomic(target, text, { mode: 0o600 });
    return 'written';
  }
  const earlier = (await readTextFileWithTime(target))?.text ?? '';
  const separator = earlier !== '' && !earlier.endsWith('\n') ? '\n' : '';
  await writeFileAtomic(target, earlier + separator + text, { mode: 0o600 });
  return 'appended';
}
