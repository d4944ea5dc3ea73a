/**
 * `regplan login <registry> -u USER --password-stdin`: checks the credentials against the registry as `docker login`
 * does, then records them where docker would (a credential helper the Docker config names, else `auths`).
 */
import { resolveDockerConfigDir } from '../credentials/docker-config.ts';
import { describeStoredLogin, type StoredLoginPlace } from '../credentials/docker-login.ts';
import { logIn } from '../credentials/login.ts';
import { UsageError } from '../errors.ts';
import { registerSecret } from '../registry/redact.ts';
import { DOCKER_HUB_HOST } from '../registry/reference.ts';
import { homeDir, type Io } from '../runtime.ts';
import { parseCommandArgs } from './args.ts';
import type { Command, GlobalOptions } from './command.ts';

/** Parsed `login` arguments. */
interface LoginArgs {
  host: string;
  username: string;
}

/** A password is never longer than this; more on stdin is a mistake (a file piped by accident). */
const MAX_PASSWORD_BYTES = 64 * 1024;

const USAGE = 'usage: printf "%s" "$PASSWORD" | regplan login [REGISTRY] -u USER --password-stdin';

const HELP = `Usage: regplan login [REGISTRY] -u USER --password-stdin

Logs in to a registry the way "docker login" does: the username and password are checked against the registry
first (GET /v2/ with Basic auth, or a token from its token server), and only a login the registry accepts is
saved, in the Docker config dir (--docker-config > $REGPLAN_DOCKER_CONFIG > $DOCKER_CONFIG > ~/.docker):
through the credential helper the config names for the registry (credHelpers, else credsStore), else as an
"auths" entry in config.json (written atomically, mode 0600, every other setting kept). REGISTRY defaults to
Docker Hub, saved under "https://index.docker.io/v1/" as docker does. docker, skopeo, oras and regplan all
read the login from there; "regplan logout" removes it.

The password is read from stdin only (one trailing newline dropped); it never appears in any output.

Flags:
  -u, --username USER     the account to log in as
      --password-stdin    read the password (or token) from stdin

Examples:
  printf '%s' "$CI_REGISTRY_PASSWORD" | regplan login registry.example.com -u ci --password-stdin
  regplan login ghcr.io -u octocat --password-stdin < token.txt`;

function parseLoginArgs(args: string[]): LoginArgs {
  const parsed = parseCommandArgs('login', {
    args,
    allowPositionals: true,
    strict: true,
    options: {
      username: { type: 'string', short: 'u' },
      'password-stdin': { type: 'boolean', default: false },
      password: { type: 'string', short: 'p' },
    },
  }, USAGE);
  if (parsed.values.password !== undefined) {
    registerSecret(parsed.values.password);
    throw new UsageError('regplan login: a password on the command line (-p/--password) is refused: it shows in process listings and shell history', {
      hint: `pass it on stdin instead: ${USAGE}`,
      flag: '--password',
    });
  }
  const [host = DOCKER_HUB_HOST, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new UsageError(`regplan login takes one registry, got ${parsed.positionals.join(' ')}`, { hint: USAGE });
  if (host === '') throw new UsageError('regplan login: the registry is empty', { hint: USAGE });
  if (parsed.values['password-stdin'] !== true) throw new UsageError('regplan login needs --password-stdin (it never prompts)', { hint: USAGE });
  const username = parsed.values.username;
  if (username === undefined || username === '') throw new UsageError('regplan login needs -u/--username with --password-stdin', { hint: USAGE, flag: '--username' });
  return { host, username };
}

/** The password from stdin, as docker takes it: one trailing "\n" (and then "\r") dropped, nothing else. */
async function readPassword(io: Io): Promise<string> {
  if (io.readStdin === undefined) throw new UsageError('regplan login: there is no stdin to read the password from', { hint: USAGE });
  let text: string;
  try {
    text = await io.readStdin(MAX_PASSWORD_BYTES);
  } catch {
    throw new UsageError(`regplan login: stdin is not a password (more than ${MAX_PASSWORD_BYTES / 1024} KiB, or unreadable)`, { hint: USAGE });
  }
  const password = text.replace(/\n$/, '').replace(/\r$/, '');
  registerSecret(password);
  if (password === '') throw new UsageError('regplan login: the password on stdin is empty', { hint: USAGE });
  return password;
}

/** The stderr line saying where the login went; a plain-file login carries docker's "unencrypted" warning. */
function renderStored(place: StoredLoginPlace): string {
  const where = `regplan login: saved in ${describeStoredLogin(place)}`;
  return place.kind === 'auths' ? `${where} (unencrypted: configure a credential helper to keep it in a keychain)\n` : `${where}\n`;
}

/** The `login` command. */
export const command: Command = {
  name: 'login',
  summary: 'log in to a registry (checked first) and save the login as docker login does',
  help: HELP,
  checkArgs: (args) => void parseLoginArgs(args),
  async run(args: string[], io: Io, globals: GlobalOptions) {
    const parsed = parseLoginArgs(args);
    const password = await readPassword(io);
    const { dir } = resolveDockerConfigDir({
      env: io.env,
      home: io.env['HOME'] || homeDir(),
      cwd: io.cwd,
      ...(globals.dockerConfig === undefined ? {} : { flag: globals.dockerConfig }),
    });
    const place = await logIn({ host: parsed.host, username: parsed.username, password }, {
      configDir: dir,
      env: io.env,
      passwordFrom: 'the password given on stdin',
      ...(globals.debug ? { debug: (line: string) => io.stderr(`debug: ${line}\n`) } : {}),
    });
    io.stderr(renderStored(place));
    io.stdout('Login Succeeded\n');
    return 0;
  },
};
