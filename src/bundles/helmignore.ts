/**
 * `.helmignore`: which files of a chart directory stay out of the package. Patterns are Helm's: one per line,
 * `#` comments, Go `filepath.Match` globs (`*`, `?`, `[a-z]`, `[^a-z]`, `\` escapes; `**` is refused, as Helm
 * refuses it), a trailing `/` matches directories only, a leading `/` anchors at the chart root, a pattern with
 * a `/` matches the whole relative path and one without matches the base name at any depth. Helm's default rule
 * `templates/.?*` (hidden files under templates/) always applies first.
 *
 * `!pattern` re-includes what an earlier rule excluded, the way .gitignore reads it: the last rule that matches
 * decides. (Helm's own loop returns "ignored" for every path a negation does *not* match, which drops Chart.yaml
 * with any `!` line; regplan implements what the line says instead.) An ignored directory is not descended into.
 */
import { RegplanError } from '../errors.ts';

/** One parsed rule. */
interface IgnoreRule {
  raw: string;
  negate: boolean;
  dirOnly: boolean;
  /** Matched against the whole relative path (true) or the base name (false). */
  wholePath: boolean;
  pattern: RegExp;
}

/** Parsed .helmignore rules, defaults included; ask `ignores(path, isDirectory)` per entry. */
export interface IgnoreRules {
  ignores(relativePath: string, isDirectory: boolean): boolean;
}

/** Helm's built-in rule: hidden files under templates/ are never packaged. */
const DEFAULT_RULES = ['templates/.?*'];

/** Parses .helmignore text (`file` names it in errors); an absent file is the empty string. */
export function parseHelmIgnore(text: string, file = '.helmignore'): IgnoreRules {
  const rules: IgnoreRule[] = [];
  const lines = [...DEFAULT_RULES, ...text.split(/\r?\n/)];
  lines.forEach((line, index) => {
    const rule = parseRule(line, { file, line: index - DEFAULT_RULES.length + 1 });
    if (rule) rules.push(rule);
  });
  return {
    ignores(relativePath, isDirectory) {
      if (relativePath === '' || relativePath === '.') return false;
      let ignored = false;
      for (const rule of rules) {
        if (rule.dirOnly && !isDirectory) continue;
        const subject = rule.wholePath ? relativePath : relativePath.slice(relativePath.lastIndexOf('/') + 1);
        if (rule.pattern.test(subject)) ignored = !rule.negate;
      }
      return ignored;
    },
  };
}

function parseRule(line: string, where: { file: string; line: number }): IgnoreRule | undefined {
  let rule = line.trim();
  if (rule === '' || rule.startsWith('#')) return undefined;
  const raw = rule;
  const fail = (why: string) =>
    new RegplanError(`${where.file}:${where.line}: cannot use pattern "${raw}": ${why}`, {
      hint: '.helmignore takes Helm\'s patterns: globs with * ? [..], a trailing / for directories, ! to re-include',
      context: { file: where.file },
    });
  if (rule.includes('**')) throw fail('double-star (**) syntax is not supported (Helm refuses it too)');
  const negate = rule.startsWith('!');
  if (negate) rule = rule.slice(1);
  const dirOnly = rule.endsWith('/');
  if (dirOnly) rule = rule.replace(/\/+$/, '');
  const anchored = rule.startsWith('/');
  if (anchored) rule = rule.replace(/^\/+/, '');
  if (rule === '') return undefined;
  const pattern = goGlobToRegExp(rule);
  if (pattern === undefined) throw fail('it is not a valid glob (check [ ] and \\ escapes)');
  return { raw, negate, dirOnly, wholePath: anchored || rule.includes('/'), pattern };
}

/** Go `filepath.Match` as an anchored RegExp: `*`/`?` never cross `/`; undefined for a malformed pattern. */
export function goGlobToRegExp(glob: string): RegExp | undefined {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '\\') {
      const next = glob[++i];
      if (next === undefined) return undefined;
      out += escapeRegExp(next);
    } else if (ch === '[') {
      const end = classEnd(glob, i);
      if (end === -1) return undefined;
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      if (body === '') return undefined;
      const members = body.replace(/\\(.)/g, (_, c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/[\]^]/g, '\\$&');
      out += negated ? `[^/${members}]` : `[${members}]`;
      i = end;
    } else out += escapeRegExp(ch);
  }
  try {
    return new RegExp(`^${out}$`, 'u');
  } catch {
    return undefined;
  }
}

/** Index of the `]` closing the class opened at `start`, honouring `\` escapes; -1 when unclosed. */
function classEnd(glob: string, start: number): number {
  for (let j = start + 1; j < glob.length; j++) {
    if (glob[j] === '\\') j++;
    else if (glob[j] === ']' && j > start + 1 && !(j === start + 2 && glob[start + 1] === '^')) return j;
  }
  return -1;
}

const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
