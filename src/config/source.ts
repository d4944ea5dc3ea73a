/**
 * The YAML side of the config pipeline: parses text into a document that remembers where every node came from,
 * so any problem found later (by ajv or a semantic rule) can name the line and column it is about.
 */
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Parser, visit, YAMLParseError, type CST, type Document, type Node, type Pair } from 'yaml';
import type { ConfigProblem } from '../errors.ts';
import { CONFIG_LIMITS, contentProblems, flowNestingProblem, nestingProblem, sizeProblem } from './limits.ts';

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

/** What parsing yields: the source (data undefined when fatal), and the problems found so far. */
export interface ParsedSource {
  source: ConfigSource;
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
  /** True when later steps cannot run: a syntax error, or text over a limit of config/limits.ts. */
  fatal: boolean;
}

/**
 * Parses config text; YAML syntax errors, duplicate keys and text over the limits of config/limits.ts (size,
 * nesting, entries, string length, control characters, alias expansion) come back as positioned problems.
 */
export function parseConfigSource(text: string, file: string): ParsedSource {
  const tooLarge = sizeProblem(text, file) ?? flowNestingProblem(text, file);
  if (tooLarge !== undefined) return { source: emptySource(file), errors: [tooLarge], warnings: [], fatal: true };
  const lineCounter = new LineCounter();
  const tokens = [...new Parser(lineCounter.addNewLine).parse(text)];
  const tooDeep = nestingProblem(tokens, { text, file });
  if (tooDeep !== undefined) return { source: emptySource(file), errors: [tooDeep], warnings: [], fatal: true };
  const doc = composeDocument(tokens, text.length);
  const at = (offset: number): { line: number; col: number } => lineCounter.linePos(offset);
  const errors: ConfigProblem[] = [];
  let fatal = false;
  let duplicates: Map<number, DuplicateKey> | undefined;
  for (const error of doc.errors) {
    const { line, col } = at(error.pos[0]);
    if (error.code === 'DUPLICATE_KEY') {
      duplicates ??= duplicateKeys(doc);
      const key = duplicates.get(error.pos[0]);
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
  if (!fatal) {
    const overLimits = contentProblems(doc.contents, { file, lineCounter });
    if (overLimits.length > 0) return { source: emptySource(file), errors: [...errors, ...overLimits], warnings, fatal: true };
  }
  let data: unknown;
  if (!fatal) {
    try {
      data = doc.toJS({ maxAliasCount: CONFIG_LIMITS.maxAliasCount });
    } catch (error) {
      // yaml refuses to expand an alias bomb ("Excessive alias count"); name the first alias, where expansion starts.
      const alias = firstAlias(doc);
      const said = firstLine((error as Error).message);
      errors.push({
        file, ...at(alias?.range?.[0] ?? 0), path: '',
        message: alias === undefined ? `YAML cannot be read: ${said}` : `YAML aliases expand too much: ${said}`,
        hint: `regplan expands anchors (&name) at most ${CONFIG_LIMITS.maxAliasCount} times over; write repeated parts out, or share a policy by name (cleanup: <policy>)`,
      });
      return { source: emptySource(file), errors, warnings, fatal: true };
    }
  }
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

/** parseDocument's composing half, on tokens already parsed (and checked): the first document, or a MULTIPLE_DOCS error. */
function composeDocument(tokens: readonly CST.Token[], length: number): Document.Parsed {
  let doc: Document.Parsed | undefined;
  for (const next of new Composer({ prettyErrors: false, uniqueKeys: true, logLevel: 'error' }).compose(tokens, true, length)) {
    if (doc === undefined) {
      doc = next;
    } else {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  return doc as Document.Parsed; // compose(…, forceDoc = true) always yields a document
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

interface DuplicateKey {
  path: (string | number)[];
  name: string;
  firstOffset: number;
}

/** Every repeated key, by the offset of its repetition: its path and where the key first appeared (one walk). */
function duplicateKeys(doc: Document): Map<number, DuplicateKey> {
  const found = new Map<number, DuplicateKey>();
  const search = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const name = keyName(pair);
        const start = startOf(pair.key);
        if (name !== undefined && start !== undefined) {
          const first = seen.get(name);
          if (first === undefined) seen.set(name, start);
          else found.set(start, { path: [...path, name], name, firstOffset: first });
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

/** The first alias node (`*name`) in document order, if any. */
function firstAlias(doc: Document): Node | undefined {
  let found: Node | undefined;
  visit(doc, {
    Alias: (_, node) => {
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

/** The source of a text that could not be parsed: no data, every position at the start. */
function emptySource(file: string): ConfigSource {
  return { file, data: undefined, positionOf: () => ({ line: 1, col: 1 }), textOf: () => undefined, walkPairs: () => {} };
}
