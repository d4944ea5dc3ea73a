/**
 * The per-job Docker config `regplan ci-env` makes: a fresh private copy of the user's config dir (or the
 * `DOCKER_AUTH_CONFIG` JSON), into which ci-env records its login (docker-login.ts). Parallel jobs each get
 * their own directory, so one job's login never lands in another's config.
 */
import { CredentialsError } from '../errors.ts';
import { copyTree, makeTempDir, path, removeTree, type SkippedEntry, writeFileAtomic } from '../runtime.ts';
import type { Env } from './docker-config.ts';

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
