/**
 * `regplan logout <registry>`: removes a saved login as `docker logout` does, from the credential helper it was
 * routed to and from config.json, every spelling of the host included.
 */
import { resolveDockerConfigDir } from '../credentials/docker-config.ts';
import { eraseLogin, type ErasedLogin } from '../credentials/docker-login.ts';
import { UsageError } from '../errors.ts';
import { DOCKER_HUB_HOST } from '../registry/reference.ts';
import { homeDir, type Io } from '../runtime.ts';
import { parseCommandArgs } from './args.ts';
import type { Command, GlobalOptions } from './command.ts';

const USAGE = 'usage: regplan logout [REGISTRY]';

const HELP = `Usage: regplan logout [REGISTRY]

Removes the saved login for REGISTRY (default Docker Hub) the way "docker logout" does: from the credential
helper the Docker config routes it to (credHelpers, else credsStore) and from config.json's "auths" (every key
naming the host: host, http://host, https://host/...), written atomically with every other setting kept.
Nothing saved is not an error: it prints "Not logged in to REGISTRY" and exits 0.

Examples:
  regplan logout registry.example.com
  regplan --docker-config "$DOCKER_CONFIG" logout ghcr.io`;

function parseLogoutArgs(args: string[]): { host: string } {
  const parsed = parseCommandArgs('logout', { args, allowPositionals: true, strict: true, options: {} }, USAGE);
  const [host = DOCKER_HUB_HOST, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new UsageError(`regplan logout takes one registry, got ${parsed.positionals.join(' ')}`, { hint: USAGE });
  if (host === '') throw new UsageError('regplan logout: the registry is empty', { hint: USAGE });
  return { host };
}

/** docker's words: what was removed, or that nothing was there. */
const renderErased = (result: ErasedLogin): string =>
  result.erased.length > 0 ? `Removing login credentials for ${result.shownAs}\n` : `Not logged in to ${result.shownAs}\n`;

/** The `logout` command. */
export const command: Command = {
  name: 'logout',
  summary: 'remove a saved registry login as docker logout does',
  help: HELP,
  checkArgs: (args) => void parseLogoutArgs(args),
  async run(args: string[], io: Io, globals: GlobalOptions) {
    const { host } = parseLogoutArgs(args);
    const { dir } = resolveDockerConfigDir({
      env: io.env,
      home: io.env['HOME'] || homeDir(),
      cwd: io.cwd,
      ...(globals.dockerConfig === undefined ? {} : { flag: globals.dockerConfig }),
    });
    io.stdout(renderErased(await eraseLogin(dir, host, { env: io.env })));
    return 0;
  },
};
