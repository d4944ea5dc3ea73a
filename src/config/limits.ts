/**
 * Bounds on config text, so a hostile or runaway file is a positioned problem instead of a crash, a stall or an
 * out-of-memory abort. Real configs are a few kilobytes and a few levels deep; the limits are far above that:
 * - the document: at most 256 KiB, checked before parsing (the yaml parser needs about a second for that much);
 * - nesting: at most 32 levels of mappings and lists: flow brackets checked on the raw text before parsing (the
 *   parser slows down with depth), block nesting on the parser's tokens before building nodes (building recurses);
 * - each mapping or list: at most 5,000 entries; each string (keys too): at most 4,096 characters, without control
 *   characters such as NUL (they cannot be part of a path, a tag or a name);
 * - aliases: yaml's `maxAliasCount` of 100, so an alias bomb is refused before it expands.
 * Patterns have their own limits (config/pattern.ts). The README's "Config limits" lists the same numbers.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type CST, type LineCounter } from 'yaml';
import type { ConfigProblem } from '../errors.ts';
import { pointer } from './source.ts';

/** The limits, in one place (README "Config limits", schema/regplan.schema.json description). */
export const CONFIG_LIMITS = { maxBytes: 256 * 1024, maxDepth: 32, maxEntries: 5000, maxStringLength: 4096, maxAliasCount: 100 } as const;

const KiB = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Where `offset` is in `text`, without a parse (for problems found before parsing). */
function linePosition(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

/** The document is too large to read: one problem where the limit falls. */
export function sizeProblem(text: string, file: string): ConfigProblem | undefined {
  if (text.length <= CONFIG_LIMITS.maxBytes) return undefined;
  return {
    file, ...linePosition(text, CONFIG_LIMITS.maxBytes), path: '',
    message: `the config is larger than ${KiB(CONFIG_LIMITS.maxBytes)} (${text.length.toLocaleString('en')} characters)`,
    hint: `regplan reads configs up to ${KiB(CONFIG_LIMITS.maxBytes)}; a real one is a few kilobytes, so check that this is the right file`,
  };
}

const NESTING_HINT = 'a regplan config is a few levels deep (repos > cleanup > keep > rule); check the brackets and indentation here';
const nestingMessage = `the config nests deeper than ${CONFIG_LIMITS.maxDepth} levels of mappings and lists`;

/**
 * Flow brackets (`[` `{`) nested deeper than the limit, found by a scan of the raw text before parsing (the yaml
 * parser slows down with bracket depth: half a megabyte of `[` takes it seconds). Quoted strings and comments are
 * skipped; a bracket inside a plain scalar counts too, so only a text with more than 32 unclosed ones is refused.
 */
export function flowNestingProblem(text: string, file: string): ConfigProblem | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      let end = i + 1;
      while (end < text.length && text[end] !== ch) end += ch === '"' && text[end] === '\\' ? 2 : 1;
      i = end;
    } else if (ch === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t' || text[i - 1] === '\n')) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (ch === '[' || ch === '{') {
      if (++depth > CONFIG_LIMITS.maxDepth) return { file, ...linePosition(text, i), path: '', message: nestingMessage, hint: NESTING_HINT };
    } else if ((ch === ']' || ch === '}') && depth > 0) {
      depth--;
    }
  }
  return undefined;
}

/**
 * Nesting deeper than the limit, found on the parser's tokens before nodes are built (an iterative walk, so depth
 * itself cannot overflow the stack): one problem at the first collection past the limit.
 */
export function nestingProblem(tokens: readonly CST.Token[], options: { text: string; file: string }): ConfigProblem | undefined {
  const { text, file } = options;
  const pending: { token: CST.Token | null | undefined; depth: number }[] = tokens.map((token) => ({ token, depth: 0 }));
  while (pending.length > 0) {
    const { token, depth } = pending.pop() as { token: CST.Token | null | undefined; depth: number };
    if (token === null || token === undefined) continue;
    if (token.type === 'document') {
      pending.push({ token: token.value, depth });
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > CONFIG_LIMITS.maxDepth) {
        return { file, ...linePosition(text, token.offset), path: '', message: nestingMessage, hint: NESTING_HINT };
      }
      for (const item of token.items) {
        if ('key' in item) pending.push({ token: item.key, depth: depth + 1 });
        if ('value' in item) pending.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

type Segment = string | number;

/** Strings and collections over their limits, and control characters, anywhere in the parsed document. */
export function contentProblems(root: unknown, options: { file: string; lineCounter: LineCounter }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (node: unknown, path: Segment[]) => {
    const offset = (node as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    return { file: options.file, ...options.lineCounter.linePos(offset), path: pointer(path) };
  };
  const checkString = (node: unknown, path: Segment[], isKey: boolean): void => {
    if (!isScalar(node) || typeof node.value !== 'string') return;
    const value = node.value;
    const what = isKey ? `key "${value.slice(0, 40)}${value.length > 40 ? '…' : ''}"` : `"${String(path[path.length - 1] ?? 'value')}"`;
    if (value.length > CONFIG_LIMITS.maxStringLength) {
      problems.push({
        ...at(node, path),
        message: `${what} is ${value.length.toLocaleString('en')} characters long (at most ${CONFIG_LIMITS.maxStringLength.toLocaleString('en')})`,
        hint: 'names, paths and patterns in a regplan config are short; check for a missing closing quote',
      });
    }
    const control = CONTROL.exec(value);
    if (control !== null) {
      const code = `U+${(control[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
      problems.push({
        ...at(node, path),
        message: `${what} contains a control character (${code === 'U+0000' ? 'NUL, ' : ''}${code}) at position ${control.index + 1}`,
        hint: 'remove it: a path, tag, name or pattern cannot contain control characters (check for a stray \\0 or \\x escape in a double-quoted string)',
      });
    }
  };
  const visit = (node: unknown, path: Segment[]): void => {
    if (isAlias(node)) return; // its anchor is checked where it is defined
    if (isMap(node) || isSeq(node)) {
      if (node.items.length > CONFIG_LIMITS.maxEntries) {
        problems.push({
          ...at(node, path),
          message: `${path.length === 0 ? 'the document' : `"${String(path[path.length - 1])}"`} has ${node.items.length.toLocaleString('en')} entries (at most ${CONFIG_LIMITS.maxEntries.toLocaleString('en')})`,
          hint: 'split the repos over several config files, or share policies by name instead of repeating them',
        });
        return;
      }
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : '?';
        checkString(pair.key, [...path, key], true);
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, [...path, index]));
    } else {
      checkString(node, path, false);
    }
  };
  visit(root, []);
  return problems;
}
