/**
 * The YAML side of the config pipeline: parses text into a document that remembers where every node came from,
 * so any problem found later (by ajv or a semantic rule) can name the line and column it is about.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from 'yaml';
import type { ConfigProblem } from '../errors.ts';

/** A parsed config text: the plain data, plus a way back from a document path to a line and column. */
export interface ConfigSource {
  file: string;
  data: unknown;
  /** Position of the value at `path` (or of its key with `{ key: true }`); the deepest existing node when absent. */
  positionOf(path: readonly (string | number)[], options?: { key?: boolean }): { line: number; col: number };
  /** The source text of the scalar at `path` as written (e.g. `1.40`), for hints; undefined for collections. */
  textOf(path: readonly (string | number)[]): string | undefined;
  /** Visits every map pair with its path and its scalar value (undefined for a mapping or list), for rules about keys anywhere. */
  walkPairs(visit: (path: (string | number)[], key: string, value: unknown) => void): void;
}

/** Turns a path into the JSON-pointer form ConfigProblem.path uses (`/policies/ci/keep/0`). */
export const pointer = (path: readonly (string | number)[]): string =>
  path.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

/** Parses config text; YAML syntax errors and duplicate keys come back as problems with their positions. */
export function parseConfigSource(text: string, file: string): { source: ConfigSource; errors: ConfigProblem[]; warnings: ConfigProblem[]; fatal: boolean } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): { line: number; col: number } => lineCounter.linePos(offset);
  const errors: ConfigProblem[] = [];
  let fatal = false;
  for (const error of doc.errors) {
    const { line, col } = at(error.pos[0]);
    if (error.code === 'DUPLICATE_KEY') {
      const key = keyAtOffset(doc, error.pos[0]);
      const path = key ? pointer(key.path) : '';
      const first = key ? at(key.firstOffset) : undefined;
      errors.push({
        file, line, col, path,
        message: `duplicate key "${key?.name ?? text.slice(error.pos[0], error.pos[1])}"${first ? ` (first defined at line ${first.line})` : ''}`,
        hint: 'a key may appear once per mapping; merge the two entries or remove one',
      });
    } else {
      fatal = true;
      errors.push({ file, line, col, path: '', message: `YAML syntax error: ${firstLine(error.message)}`, hint: 'fix the YAML syntax (indentation, quotes, brackets); every later check needs a parseable file' });
    }
  }
  const warnings = doc.warnings.map((w): ConfigProblem => ({ file, ...at(w.pos[0]), path: '', message: `YAML: ${firstLine(w.message)}` }));
  const data: unknown = fatal ? undefined : doc.toJS({ maxAliasCount: 1000 });
  const source: ConfigSource = {
    file,
    data,
    positionOf: (path, options = {}) => at(offsetOf(doc, path, options.key === true)),
    walkPairs: (visit) => walk(doc.contents, [], visit),
    textOf: (path) => {
      const node = doc.getIn(path, true);
      return isScalar(node) && node.range ? text.slice(node.range[0], node.range[1]).trim() : undefined;
    },
  };
  return { source, errors, warnings, fatal };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}

const deref = (node: unknown, doc: Document): unknown => (isAlias(node) ? node.resolve(doc) : node);

function keyName(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

function startOf(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

function offsetOf(doc: Document, path: readonly (string | number)[], wantKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    node = deref(node, doc);
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyName(p) === String(segment));
      if (!pair) return offset;
      if (last && wantKey) return startOf(pair.key) ?? offset;
      node = pair.value;
      offset = startOf(node) ?? startOf(pair.key) ?? offset;
    } else if (isSeq(node)) {
      node = node.items[Number(segment)];
      if (node === undefined) return offset;
      offset = startOf(node) ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

function walk(node: unknown, path: (string | number)[], visit: (path: (string | number)[], key: string, value: unknown) => void): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = keyName(pair);
      if (key === undefined) continue;
      const value = pair.value;
      visit([...path, key], key, isScalar(value) ? value.value : undefined);
      walk(value, [...path, key], visit);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => walk(item, [...path, index], visit));
  }
}

/** Finds the duplicate key that starts at `offset`: its path and where the key first appeared. */
function keyAtOffset(doc: Document, offset: number): { path: (string | number)[]; name: string; firstOffset: number } | undefined {
  let found: { path: (string | number)[]; name: string; firstOffset: number } | undefined;
  const search = (node: unknown, path: (string | number)[]): void => {
    if (found) return;
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const name = keyName(pair);
        const start = startOf(pair.key);
        if (name !== undefined && start !== undefined) {
          if (start === offset && seen.has(name)) {
            found = { path: [...path, name], name, firstOffset: seen.get(name) as number };
            return;
          }
          if (!seen.has(name)) seen.set(name, start);
        }
        search(pair.value, name === undefined ? path : [...path, name]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => search(item, [...path, index]));
    }
  };
  search(doc.contents, []);
  return found;
}
