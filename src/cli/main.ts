/**
 * The CLI entry: splits global flags from the command line, dispatches to a command, and is the only place
 * that maps errors to exit codes (0 success, 1 failure, 2 usage error).
 */
import { UsageError } from '../errors.ts';
import { scrubSecrets } from '../registry/redact.ts';
import { type Io, path, runtimeVersion } from '../runtime.ts';
import { REGPLAN_VERSION } from '../version.ts';
import type { GlobalOptions } from './command.ts';
import { COMMAND_NAMES, loadCommand, loadCommands } from './commands.ts';
import { renderError } from './render-error.ts';

const GLOBAL_HELP = `Global flags:
  -c, --config FILE       config file (default: $REGPLAN_CONFIG or ./registry.config.yaml)
      --docker-config DIR Docker config directory (default: $REGPLAN_DOCKER_CONFIG, $DOCKER_CONFIG, ~/.docker)
      --repo-<name> VALUE native API credential, same as $REGPLAN_REPO_<NAME> (e.g. --repo-github-token;
                          prefer the env var in CI: flags show in process listings)
      --debug             print request traces and stack traces (never secrets)
      --no-color          plain output (also NO_COLOR=1)
  -h, --help              help for regplan or a command
      --version           print the version and the runtime`;

/** Pulls the global flags out of argv wherever they appear; the rest goes to the command. */
export function splitGlobalFlags(
  argv: readonly string[],
  io: Io,
): { globals: GlobalOptions; rest: string[]; help: boolean; version: boolean; nativeEnv: Record<string, string> } {
  const rest: string[] = [];
  let debug = false;
  let color = !io.env['NO_COLOR'] && io.stdoutIsTTY;
  let config: string | undefined;
  let dockerConfig: string | undefined;
  let help = false;
  let version = false;
  const nativeEnv: Record<string, string> = {};
  const valueOf = (flag: string, i: number): string => {
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('-')) throw new UsageError(`flag ${flag} needs a value`, { flag });
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    switch (flag) {
      case '--debug': debug = true; break;
      case '--no-color': color = false; break;
      case '-h': case '--help': help = true; break;
      case '--version': version = true; break;
      case '-c': case '--config': config = inline ?? valueOf(flag, i++); break;
      case '--docker-config': dockerConfig = inline ?? valueOf(flag, i++); break;
      default:
        if (NATIVE_CREDENTIAL_FLAG.test(flag as string)) {
          nativeEnv[nativeCredentialEnv(flag as string)] = inline ?? valueOf(flag as string, i++);
        } else {
          rest.push(arg);
        }
    }
  }
  const configPath = path.resolve(io.cwd, config ?? io.env['REGPLAN_CONFIG'] ?? 'registry.config.yaml');
  return {
    globals: { debug, color, configPath, ...(dockerConfig === undefined ? {} : { dockerConfig: path.resolve(io.cwd, dockerConfig) }) },
    rest,
    help,
    version,
    nativeEnv,
  };
}

/**
 * Native-credential flags (`--repo-github-token`, `--repo-docker-hub-username`, …): every `--repo-*` flag except
 * `--repo-container-registry` and `--repo` itself. Each becomes the env var drivers read
 * (`REGPLAN_REPO_GITHUB_TOKEN`), so flags and env are one mechanism. Env vars are the safer choice in CI
 * (flags show in process listings).
 */
const NATIVE_CREDENTIAL_FLAG = /^--repo-(?!container-registry$)[a-z0-9]+(?:-[a-z0-9]+)+$/;

/** `--repo-github-token` -> `REGPLAN_REPO_GITHUB_TOKEN`. */
export const nativeCredentialEnv = (flag: string): string => `REGPLAN_${flag.slice(2).replaceAll('-', '_').toUpperCase()}`;

/**
 * Checks a command line the way `runCli` reads it (global flags, command name, the command's own flags) without
 * running it; throws the UsageError `runCli` would turn into exit 2. The CI examples are tested through it.
 */
export async function checkCommandLine(argv: readonly string[], io: Io): Promise<void> {
  const { globals, rest, help, version } = splitGlobalFlags(argv, io);
  const [name, ...args] = rest;
  if (version || name === 'help') return;
  if (name === undefined) {
    if (help) return;
    throw new UsageError('no command given', { hint: 'see regplan --help' });
  }
  const command = await loadCommand(name);
  if (!command) throw new UsageError(`unknown command "${name}"`, { hint: `the commands are: ${COMMAND_NAMES.join(', ')}` });
  if (!help) command.checkArgs(args, io, globals);
}

/** Runs regplan with argv (without the program name) and returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], callerIo: Io): Promise<number> {
  let io = scrubbedIo(callerIo);
  let debug = argv.includes('--debug');
  try {
    const { globals, rest, help, version, nativeEnv } = splitGlobalFlags(argv, io);
    debug = globals.debug;
    if (Object.keys(nativeEnv).length > 0) io = { ...io, env: { ...io.env, ...nativeEnv } };
    if (version) {
      io.stdout(`regplan ${REGPLAN_VERSION} (${runtimeVersion()})\n`);
      return 0;
    }
    const [name, ...args] = rest;
    if (name === undefined || name === 'help') {
      const target = name === 'help' && args[0] !== undefined ? await loadCommand(args[0]) : undefined;
      io.stdout(target ? `${target.help}\n\n${GLOBAL_HELP}\n` : topHelp(await loadCommands()));
      return name === undefined && !help ? 2 : 0;
    }
    const command = await loadCommand(name);
    if (!command) {
      throw new UsageError(`unknown command "${name}"`, { hint: `the commands are: ${COMMAND_NAMES.join(', ')}; see regplan --help` });
    }
    if (help) {
      io.stdout(`${command.help}\n\n${GLOBAL_HELP}\n`);
      return 0;
    }
    return await command.run(args, io, globals);
  } catch (error) {
    io.stderr(renderError(error, { debug }));
    return error instanceof UsageError ? 2 : typeof (error as { exitCode?: unknown }).exitCode === 'number' ? ((error as { exitCode: number }).exitCode) : 1;
  }
}

/**
 * The Io commands get: everything written to stdout and stderr (reports, JSON, errors, debug lines) is scrubbed of
 * every credential registered with the process-wide redactor, whichever code path produced the text.
 */
function scrubbedIo(io: Io): Io {
  return { ...io, stdout: (text) => io.stdout(scrubSecrets(text)), stderr: (text) => io.stderr(scrubSecrets(text)) };
}

function topHelp(commands: readonly { name: string; summary: string }[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'regplan: keep container registries tidy and publish OCI bundles, declaratively.',
    '',
    'Usage: regplan <command> [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    GLOBAL_HELP,
    '',
    'Run "regplan <command> --help" for a command\'s flags and examples.',
    '',
  ].join('\n');
}
