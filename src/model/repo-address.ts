/**
 * Repository addresses as a config or a command line writes them: `host[:port]/path`, host-less Docker Hub names,
 * and `oci:<dir>` local layouts. One place decides the registry host of an address, so config checks, detection,
 * credentials and the client agree; the repository name inside it follows the grammar in names.ts.
 */
import { UsageError } from '../errors.ts';
import { isValidRepoName } from './names.ts';

/** Docker Hub's canonical host (addresses without a host are on it). */
export const DOCKER_HUB_HOST = 'docker.io';

/** A parsed repository address. */
export type RepoRef =
  | { kind: 'registry'; address: string; host: string; name: string }
  | { kind: 'oci-layout'; address: string; dir: string };

/** `https://`, `http://`, `docker://`: a URL scheme someone pasted in front of a repo address. */
const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The longest repo address accepted (host, port and name together), as the distribution spec limits it. */
const MAX_ADDRESS_LENGTH = 255;

/**
 * Parses a repo address (no tag or digest). A first component with `.` or `:` or equal to `localhost` is a host;
 * otherwise the name is on Docker Hub (`library/` is added to single-component Hub names).
 */
export function parseRepo(address: string): RepoRef {
  if (address.startsWith('oci:')) {
    const dir = address.slice(4);
    if (!dir) throw new UsageError(`invalid repository address "${address}": oci: needs a directory`, { hint: 'write oci:./path/to/layout' });
    return { kind: 'oci-layout', address, dir };
  }
  const scheme = URL_SCHEME.exec(address);
  if (scheme) {
    const bare = address.slice(scheme[0].length).replace(/\/+$/, '');
    throw new UsageError(`invalid repository address "${address}": a repo is not a URL`, {
      hint: `drop the scheme: write ${bare}${/^https?$/i.test(scheme[1] ?? '') ? ' (plain http is used only for loopback hosts and registries marked insecure: true)' : ''}`,
    });
  }
  const slash = address.indexOf('/');
  const first = slash === -1 ? address : address.slice(0, slash);
  const hasHost = slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let host = hasHost ? first.toLowerCase() : DOCKER_HUB_HOST;
  let name = hasHost ? address.slice(slash + 1) : address;
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === 'registry.hub.docker.com') host = DOCKER_HUB_HOST;
  if (host === DOCKER_HUB_HOST && !name.includes('/')) name = `library/${name}`;
  if (!isValidRepoName(name) || address.length > MAX_ADDRESS_LENGTH) {
    const lower = address.toLowerCase();
    const fixable = lower !== address && address.length <= MAX_ADDRESS_LENGTH && isValidRepoName(name.toLowerCase());
    throw new UsageError(`invalid repository address "${address}"`, {
      hint: fixable
        ? `repository names are lower-case: write ${lower}`
        : 'a repo is host[:port]/path in lowercase letters, digits and . _ - separators, without a tag or digest (e.g. ghcr.io/acme/api)',
    });
  }
  return { kind: 'registry', address, host, name };
}
