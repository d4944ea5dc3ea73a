/**
 * The rules every native driver follows when it lists repositories for discovery (`RepositoryLister`), so they read
 * one way for every registry: which namespace a prefix names, which listed names it keeps, and the errors for a
 * prefix a registry cannot list (no namespace where the API lists only per namespace) or a namespace it does not know.
 * The namespace of a prefix is its part up to the last `/`: `acme/` and `acme/ap` name `acme`, `group/sub/` names
 * `group/sub`, and `acme` (no slash) names no namespace, i.e. the whole registry.
 */
import { RegistryError, RegplanError } from '../errors.ts';

/** The namespace path a prefix names, without its trailing slash ('' = the whole registry). */
export function prefixNamespace(prefix: string): string {
  const slash = prefix.lastIndexOf('/');
  return slash < 0 ? '' : prefix.slice(0, slash).replace(/\/+$/, '');
}

/** The first segment of the prefix's namespace (a GitHub owner, a Hub or Quay namespace, a Harbor project), or ''. */
export function prefixOwner(prefix: string): string {
  const namespace = prefixNamespace(prefix);
  const slash = namespace.indexOf('/');
  return slash < 0 ? namespace : namespace.slice(0, slash);
}

/** The distinct names that start with `prefix`, sorted (pages may repeat a name when the listing shifts under writes). */
export function namesWithPrefix(names: Iterable<string>, prefix: string): string[] {
  return [...new Set(names)].filter((name) => name.startsWith(prefix)).sort();
}

/** The error for a prefix without the namespace a registry lists by (GitHub owner, Hub or Quay namespace). */
export function namespaceRequired(host: string, what: string, example: string): RegplanError {
  return new RegplanError(`cannot list every repository of "${host}": its API lists repositories per ${what} only`, {
    hint: `name the ${what} in the pattern, e.g. ${example}`,
    context: { registry: host },
  });
}

/** The error for a namespace the registry does not know (its listing answered 404); names the namespace and the URLs. */
export function namespaceNotFound(options: { host: string; namespace: string; what: string; tried: readonly string[]; hint: string; apiHost: string }): RegistryError {
  return new RegistryError(`${options.what} "${options.namespace}" does not exist on "${options.host}": ${options.tried.map((url) => `GET ${url}`).join(' and ')} answered HTTP 404`, {
    status: 404,
    registry: options.apiHost,
    repo: `${options.host}/${options.namespace}/`,
    hint: options.hint,
  });
}
