/**
 * Token scopes (`repository:acme/api:pull,push`): what a client asks the token server for. The resource name
 * may itself hold `host:port/`, so the type ends at the first colon, the actions start after the last one,
 * and everything between is the name.
 */

/** A parsed scope: resource type (`repository`, `registry`, ...), resource name and actions. */
export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

/** The actions a request needs: reads pull; writes pull+push; DELETE needs `delete` (distribution checks exactly that). */
export type AccessKind = 'pull' | 'push' | 'delete';

/** Parses one scope string (type before the first colon, actions after the last); undefined when malformed. */
export function parseScope(text: string): Scope | undefined {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = text.slice(0, first);
  const name = text.slice(first + 1, last);
  const actions = text.slice(last + 1).split(',').filter((a) => a !== '');
  if (name === '' || actions.length === 0) return undefined;
  return { type, name, actions };
}

/** Formats a scope back to its wire form. */
export const formatScope = (scope: Scope): string => `${scope.type}:${scope.name}:${scope.actions.join(',')}`;

/** The scope string for `kind` access to repository `name`. */
export function repositoryScope(name: string, kind: AccessKind): string {
  const actions = kind === 'pull' ? ['pull'] : kind === 'push' ? ['pull', 'push'] : ['delete'];
  return formatScope({ type: 'repository', name, actions });
}

/**
 * Unions scope strings: one entry per resource with the actions of all of them (`*` absorbs the rest), sorted,
 * so equal access always yields an equal list (it is part of the token cache key). Unparseable strings are kept as given.
 */
export function mergeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, Scope>();
  const opaque = new Set<string>();
  for (const text of scopes) {
    const scope = parseScope(text);
    if (!scope) {
      if (text !== '') opaque.add(text);
      continue;
    }
    const key = `${scope.type}:${scope.name}`;
    const existing = byResource.get(key);
    const actions = new Set([...(existing?.actions ?? []), ...scope.actions]);
    byResource.set(key, { ...scope, actions: actions.has('*') ? ['*'] : [...actions].sort() });
  }
  return [...[...byResource.values()].map(formatScope), ...opaque].sort();
}

/** True when every action of every scope in `wanted` is already granted by `held` (a `*` grants all). */
export function scopesCover(held: readonly string[], wanted: readonly string[]): boolean {
  const merged = mergeScopes(held).map(parseScope);
  return wanted.every((text) => {
    const want = parseScope(text);
    if (!want) return held.includes(text);
    const have = merged.find((s) => s !== undefined && s.type === want.type && s.name === want.name);
    return have !== undefined && (have.actions.includes('*') || want.actions.every((a) => have.actions.includes(a)));
  });
}
