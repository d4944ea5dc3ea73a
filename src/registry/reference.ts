/**
 * Registry hosts as the Registry API sees them: where Docker Hub's API lives, where its credentials are keyed, and
 * which hosts are loopback. Address parsing and the name grammar live in src/model (config/ uses them too); they
 * are re-exported here so registry-side importers keep one import.
 */
export { DOCKER_HUB_HOST, parseRepo, type RepoRef } from '../model/repo-address.ts';
export { isValidTag, isValidDigest as isDigest } from '../model/names.ts';
import { DOCKER_HUB_HOST } from '../model/repo-address.ts';

/** The host Docker Hub's Registry API lives on. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** The Docker config key Docker Hub credentials live under. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

/** The host the Registry API is reached at (Docker Hub's API lives on registry-1.docker.io). */
export const apiHost = (host: string): string => (host === DOCKER_HUB_HOST ? DOCKER_HUB_API_HOST : host);

/** True for loopback hosts, where plain http is allowed without `insecure: true`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}
