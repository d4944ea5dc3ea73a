/**
 * `regplan ci-env gitlab|github|auto`: gives a CI job its own private Docker config (a copy of the user's, or
 * $DOCKER_AUTH_CONFIG) logged in to the CI registry, and prints the shell lines that point later steps at it.
 */
import { describeStoredLogin } from '../credentials/docker-login.ts';
import {
  CI_MARKERS,
  CI_SYSTEMS,
  ciEnvLines,
  detectCiSystem,
  isGithubEnvFile,
  prepareCiEnv,
  renderCiEnv,
  writeCiEnvFile,
  type CiEnvFormat,
  type CiEnvResult,
  type CiSystem,
} from '../credentials/ci-env.ts';
import { resolveDockerConfigDir } from '../credentials/docker-config.ts';
import { detectRegistry } from '../drivers/detect.ts';
import { UsageError } from '../errors.ts';
import { homeDir, type Io, removeTree } from '../runtime.ts';
import type { Command, GlobalOptions } from './command.ts';
import { parseCommandArgs } from './args.ts';

/** Parsed `ci-env` arguments. */
interface CiEnvArgs {
  /** `auto` is resolved from the job's variables when the command runs. */
  system: CiSystem | 'auto';
  login: boolean;
  registry?: string;
  useDockerAuthConfig: boolean;
  /** Absent: sh, or env-file when `asFile` is $GITHUB_ENV. */
  format?: CiEnvFormat;
  asFile?: string;
}

const USAGE = 'usage: regplan ci-env gitlab|github|auto [--no-login] [--registry HOST] [--use-docker-auth-config] [--shell sh|powershell] [--as-env-file] [--as-file PATH]';

const HELP = `Usage: regplan ci-env gitlab|github|auto [flags]

Makes a private Docker config for this CI job and logs in to the CI registry, then prints shell lines that
point docker, oras, skopeo and regplan at it. Every run makes a new directory ($TMPDIR/regplan-docker-config-*,
mode 0700), so parallel jobs on one machine never share a config.

The directory starts as a copy of the Docker config dir (--docker-config > $REGPLAN_DOCKER_CONFIG >
$DOCKER_CONFIG > ~/.docker; missing = empty): regular files and directories only, files 0600, without
cli-plugins, buildx, machine, desktop, run, mutagen, scout, sockets and fifos. --use-docker-auth-config starts
it from $DOCKER_AUTH_CONFIG (JSON) instead: a clean config without inherited credential helpers.

The login is written as docker login writes it: an auths entry in config.json, or, when the copied config
routes the registry to a credential helper (credHelpers or credsStore), through that helper's "store" (the
helper's store is the machine's, not the job's: use --use-docker-auth-config to keep logins per job).
  gitlab   $CI_REGISTRY (or the host of $CI_REGISTRY_IMAGE) as gitlab-ci-token with $CI_JOB_TOKEN
  github   ghcr.io as $GITHUB_ACTOR with $GITHUB_TOKEN
  auto     gitlab when GITLAB_CI=true, github when GITHUB_ACTIONS=true (both CIs set them in every job)
Output: DOCKER_CONFIG and REGPLAN_DOCKER_CONFIG; for github REGPLAN_REPO_GITHUB_TOKEN="\${GITHUB_TOKEN}"
(a reference: no secret is ever printed). GitLab cleanup uses REGPLAN_REPO_GITLAB_TOKEN (api scope) when set,
else CI_JOB_TOKEN (sent as JOB-TOKEN; GitLab 13.12+, the job's own project only). On failure the shell output
is "exit 1", so an eval stops the job.

Flags:
      --no-login                 only make the private config
      --registry HOST            log in to HOST instead (e.g. docker.pkg.github.com)
      --use-docker-auth-config   start from $DOCKER_AUTH_CONFIG instead of a copy
      --shell sh|powershell      export syntax (default sh; powershell prints $Env:K = "V")
      --as-env-file              K=V lines for docker --env-file, $GITHUB_ENV or a GitLab dotenv report
      --as-file PATH             write the lines to PATH (0600, replaced atomically) instead of stdout;
                                 PATH = $GITHUB_ENV keeps its earlier lines and gets the env-file format

Examples:
  eval "$(regplan ci-env gitlab)"                       # GitLab CI script
  regplan ci-env auto --as-file "$GITHUB_ENV"           # GitHub Actions step: later steps see the variables
  regplan ci-env auto --as-file ci.env && . ./ci.env     # either CI, through a file
  regplan ci-env github --as-env-file >> "$GITHUB_ENV"   # GitHub Actions step (env: GITHUB_TOKEN: \${{ secrets.GITHUB_TOKEN }})
  regplan ci-env gitlab --shell powershell | Out-String | Invoke-Expression
  rm -rf "$DOCKER_CONFIG"                               # at the end of the job`;

function parseCiEnvArgs(args: string[]): CiEnvArgs {
  const parsed = parseCommandArgs('ci-env', {
    args,
    allowPositionals: true,
    strict: true,
    options: {
      'no-login': { type: 'boolean', default: false },
      registry: { type: 'string' },
      'use-docker-auth-config': { type: 'boolean', default: false },
      shell: { type: 'string' },
      'as-env-file': { type: 'boolean', default: false },
      'as-file': { type: 'string' },
    },
  }, USAGE);
  const [system, ...extra] = parsed.positionals;
  if (system === undefined) throw new UsageError('regplan ci-env needs a CI system: gitlab, github or auto', { hint: USAGE });
  if (system !== 'auto' && !(CI_SYSTEMS as readonly string[]).includes(system)) {
    throw new UsageError(`regplan ci-env: CI system "${system}" is not supported`, { hint: `use one of: ${[...CI_SYSTEMS, 'auto'].join(', ')}` });
  }
  if (extra.length > 0) throw new UsageError(`regplan ci-env takes one CI system, got ${parsed.positionals.join(' ')}`, { hint: USAGE });
  const shell = parsed.values.shell;
  if (shell !== undefined && shell !== 'sh' && shell !== 'powershell') {
    throw new UsageError(`regplan ci-env: unknown --shell "${shell}"`, { hint: 'use --shell sh or --shell powershell', flag: '--shell' });
  }
  const envFile = parsed.values['as-env-file'] === true;
  if (envFile && shell !== undefined) throw new UsageError('regplan ci-env: --as-env-file and --shell cannot be combined', { hint: USAGE });
  const registry = parsed.values.registry;
  if (registry === '') throw new UsageError('regplan ci-env: --registry needs a host', { flag: '--registry' });
  const asFile = parsed.values['as-file'];
  if (asFile === '') throw new UsageError('regplan ci-env: --as-file needs a path', { flag: '--as-file' });
  const format: CiEnvFormat | undefined = envFile ? 'env-file' : shell === 'powershell' ? 'powershell' : shell === 'sh' || asFile === undefined ? 'sh' : undefined;
  return {
    system: system as CiSystem | 'auto',
    login: parsed.values['no-login'] !== true,
    useDockerAuthConfig: parsed.values['use-docker-auth-config'] === true,
    ...(format === undefined ? {} : { format }),
    ...(registry === undefined ? {} : { registry }),
    ...(asFile === undefined ? {} : { asFile }),
  };
}

/** Whether regplan's own detection already treats `host` as GitLab (so no config hint is needed). */
function detectedAsGitlab(host: string): boolean {
  try {
    return detectRegistry(`${host}/ci-env`, { env: {} }).type === 'gitlab';
  } catch {
    return false;
  }
}

/** The stderr account of a run: where the config came from and where the login went (never a secret). */
function renderSummary(result: CiEnvResult, reason: string, debug: boolean): string {
  const { config, login } = result;
  const lines = [
    `regplan ci-env: Docker config for this job: ${config.dir} (${config.origin.kind === 'copy' ? `a copy of ${config.origin.source}, ${reason}` : 'from $DOCKER_AUTH_CONFIG'})`,
  ];
  if (debug && config.skipped.length > 0) lines.push(`regplan ci-env: left out of the copy: ${config.skipped.map((s) => `${s.path} (${s.reason})`).join(', ')}`);
  lines.push(
    login === undefined
      ? 'regplan ci-env: no registry login (--no-login)'
      : `regplan ci-env: logged in to ${login.host} (${login.hostFrom}) as ${login.username} with ${login.passwordFrom}, stored in ${describeStoredLogin(login.place)}`,
  );
  return `${lines.join('\n')}\n`;
}

/** The output format: as asked, else env-file for $GITHUB_ENV (which reads K=V lines only), else sh. */
function outputFormat(parsed: CiEnvArgs, io: Io): CiEnvFormat {
  if (parsed.asFile === undefined || !isGithubEnvFile(parsed.asFile, io)) return parsed.format ?? 'sh';
  if (parsed.format !== undefined && parsed.format !== 'env-file') {
    throw new UsageError(`regplan ci-env: --as-file "${parsed.asFile}" is $GITHUB_ENV, which takes K=V lines, not --shell ${parsed.format}`, {
      hint: 'leave out --shell (the env-file format is used), or write a script to another path',
      flag: '--shell',
    });
  }
  return 'env-file';
}

/** The `ci-env` command. */
export const command: Command = {
  name: 'ci-env',
  summary: 'make a private per-job Docker config logged in to the CI registry (gitlab, github, auto)',
  help: HELP,
  checkArgs: (args) => void parseCiEnvArgs(args),
  async run(args: string[], io: Io, globals: GlobalOptions) {
    const parsed = parseCiEnvArgs(args);
    try {
      const system = parsed.system === 'auto' ? detectCiSystem(io.env) : parsed.system;
      const format = outputFormat(parsed, io);
      const source = resolveDockerConfigDir({
        env: io.env,
        home: io.env['HOME'] || homeDir(),
        cwd: io.cwd,
        ...(globals.dockerConfig === undefined ? {} : { flag: globals.dockerConfig }),
      });
      const result = await prepareCiEnv(system, {
        env: io.env,
        sourceDir: source.dir,
        login: parsed.login,
        useDockerAuthConfig: parsed.useDockerAuthConfig,
        ...(parsed.registry === undefined ? {} : { registry: parsed.registry }),
      });
      const host = result.login?.host;
      const lines = ciEnvLines(system, {
        configDir: result.config.dir,
        env: io.env,
        ...(host === undefined ? {} : { registryHost: host, gitlabDetected: detectedAsGitlab(host) }),
      });
      let written: 'appended' | 'written' | undefined;
      let notes: string[];
      try {
        const rendered = renderCiEnv(lines, format);
        notes = rendered.notes;
        if (parsed.asFile === undefined) io.stdout(rendered.text);
        else written = await writeCiEnvFile(parsed.asFile, rendered.text, io);
      } catch (error) {
        await removeTree(result.config.dir);
        throw error;
      }
      if (parsed.system === 'auto') io.stderr(`regplan ci-env: auto: ${system} (${CI_MARKERS[system]}=true)\n`);
      io.stderr(renderSummary(result, source.reason, globals.debug));
      for (const note of notes) io.stderr(`regplan ci-env: note: ${note}\n`);
      if (written !== undefined) io.stderr(`regplan ci-env: ${written === 'appended' ? 'added the variables to' : 'wrote the variables to'} ${parsed.asFile} (0600)\n`);
      return 0;
    } catch (error) {
      // `eval "$(regplan ci-env ...)"` must fail the job, not carry on without the login.
      if (parsed.format !== 'env-file' && parsed.asFile === undefined) io.stdout('exit 1\n');
      throw error;
    }
  },
};
