/**
 * The one builder of Registry API URLs. A route names its parts (repository name, tag or digest) instead of
 * pasting strings into a path, and every part is checked against the distribution grammar and then encoded
 * segment by segment, so `..`, `/`, `%2e` or a control character in a name from a registry can never change which
 * resource a request reaches: an invalid name throws InvalidNameError before any URL exists. Next-page links a
 * registry sends are checked here too: same origin, same endpoint.
 */
import { assertValidDigest, assertValidReference, assertValidRepoName } from '../model/names.ts';

/** A Registry API endpoint and the names it is about. */
export type RegistryRoute =
  | { endpoint: 'ping' }
  | { endpoint: 'catalog' }
  | { endpoint: 'tags'; name: string }
  | { endpoint: 'manifest'; name: string; reference: string }
  | { endpoint: 'blob'; name: string; digest: string }
  | { endpoint: 'uploads'; name: string }
  | { endpoint: 'referrers'; name: string; digest: string };

/**
 * The absolute URL of `route` on the registry at `base` (only its origin is used). Throws InvalidNameError when a
 * repository name, tag or digest fails the grammar; `where` names the request in its message.
 */
export function registryUrl(base: URL, route: RegistryRoute, options: { where?: string } = {}): URL {
  const url = new URL(base.origin);
  url.pathname = `/${['v2', ...routeSegments(route, options)].map(encodeSegment).join('/')}${route.endpoint === 'ping' || route.endpoint === 'uploads' ? '/' : ''}`;
  return url;
}

function routeSegments(route: RegistryRoute, options: { where?: string }): string[] {
  switch (route.endpoint) {
    case 'ping':
      return [];
    case 'catalog':
      return ['_catalog'];
    case 'tags':
      return [...repoSegments(route.name, options), 'tags', 'list'];
    case 'manifest':
      assertValidReference(route.reference, options);
      return [...repoSegments(route.name, options), 'manifests', route.reference];
    case 'blob':
      assertValidDigest(route.digest, options);
      return [...repoSegments(route.name, options), 'blobs', route.digest];
    case 'uploads':
      return [...repoSegments(route.name, options), 'blobs', 'uploads'];
    case 'referrers':
      assertValidDigest(route.digest, options);
      return [...repoSegments(route.name, options), 'referrers', route.digest];
  }
}

function repoSegments(name: string, options: { where?: string }): string[] {
  assertValidRepoName(name, options);
  return name.split('/');
}

/**
 * One path segment, percent-encoded. A valid name holds only unreserved characters and, in a digest, `:` and
 * `=`; `:` is kept literal (RFC 3986 allows it in a segment, and registries route digests by it), the rest is
 * what encodeURIComponent makes of it. The grammar already rules out `.` and `..`; the check stays as a backstop.
 */
function encodeSegment(segment: string): string {
  if (segment === '' || segment === '.' || segment === '..') throw new Error(`registryUrl: empty or dot segment "${segment}"`);
  return encodeURIComponent(segment).replaceAll('%3A', ':');
}

/**
 * True when a next-page URL a registry sent stays on the endpoint of the first page: same origin, same path
 * (`/v2/<name>/tags/list` of the same repository), no credentials in it. Only the query may differ.
 */
export function staysOnEndpoint(next: URL, first: URL): boolean {
  return next.origin === first.origin && next.pathname === first.pathname && next.username === '' && next.password === '';
}
