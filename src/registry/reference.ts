/**
 * Repository addresses: `host[:port]/path`, host-less Docker Hub names, and `oci:<dir>` local layouts.
 * One place decides the registry host of an address, so detection, credentials and the client agree.
 */
import { UsageError } from '../errors.ts';

/** Docker Hub's canonical host and the host its Registry API lives on. */
export const DOCKER_HUB_HOST = 'docker.io';
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** The Docker config key Docker Hub credentials live under. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

/** A parsed repository address. */
export type RepoRef =
  | { kind: 'registry'; address: string; host: string; name: string }
  | { kind: 'oci-layout'; address: string; dir: string };

const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_PATTERN = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST_PATTERN = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** True when `tag` is a valid OCI tag. */
export const isValidTag = (tag: string): boolean => TAG_PATTERN.test(tag);
/** True when `ref` looks like a digest (`sha256:<hex>`). */
export const isDigest = (ref: string): boolean => DIGEST_PATTERN.test(ref);

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
  const slash = address.indexOf('/');
  const first = slash === -1 ? address : address.slice(0, slash);
  const hasHost = slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let host = hasHost ? first.toLowerCase() : DOCKER_HUB_HOST;
  let name = hasHost ? address.slice(slash + 1) : address;
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === 'registry.hub.docker.com') host = DOCKER_HUB_HOST;
  if (host === DOCKER_HUB_HOST && !name.includes('/')) name = `library/${name}`;
  if (!NAME_PATTERN.test(name) || address.length > 255) {
    throw new UsageError(`invalid repository address "${address}"`, {
      hint: 'a repo is host[:port]/path in lowercase letters, digits and . _ - separators, without a tag or digest (e.g. ghcr.io/acme/api)',
    });
  }
  return { kind: 'registry', address, host, name };
}

/** The host the Registry API is reached at (Docker Hub's API lives on registry-1.docker.io). */
export const apiHost = (host: string): string => (host === DOCKER_HUB_HOST ? DOCKER_HUB_API_HOST : host);

/** True for loopback hosts, where plain http is allowed without `insecure: true`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}
