/**
 * The one door for every pattern a user writes (keep `tags`, `newest.tags`, `delete.tags`, `--repo` globs, repo
 * patterns such as `ghcr.io/acme/*`): each compiles here with RE2 semantics (re2js, a pure-JS port of RE2), which
 * matches in time linear in the tag, so a pattern such as `(a+)+$` cannot stall a plan the way a backtracking
 * JavaScript RegExp does.
 *
 * The syntax is RE2's (Go's regexp): JavaScript's everyday syntax (`^ $ . [] () (?:) | * + ? {n,m} \d \w \s \b`,
 * non-greedy `*?`) without backreferences (`\1`, `\k<name>`) and lookaround (`(?=` `(?!` `(?<=` `(?<!`), plus
 * inline flags such as `(?i)`, `\pL` Unicode classes, `[[:alpha:]]` and `\Q…\E`. No implicit flags or anchors.
 * Bounds: at most 1,000 characters and about 10,000 compiled instructions (checked before compiling, so a pattern
 * such as `(?:.{1000}){1000}` is refused cheaply); RE2 itself refuses repeat counts over 1,000 and nesting over 1,000.
 */
import { RE2JS } from 're2js';
import { RegplanError } from '../errors.ts';

/** Limits on one pattern (documented in schema/regplan.schema.json under definitions.regex). */
export const PATTERN_LIMITS = { maxLength: 1000, maxInstructions: 10_000 } as const;

/** A compiled pattern: `test` is true when the pattern matches anywhere in `text` (anchor with ^ and $). */
export interface TagPattern {
  readonly source: string;
  test(text: string): boolean;
  /**
   * The group `text` falls in (keep rules' `groupBy`): its capture groups joined by "/", or the whole match when
   * the pattern has none; undefined when it does not match. `^pr-(\d+)-` puts `pr-12-abc` in group "12".
   */
  groupOf(text: string): string | undefined;
}

/** Why a pattern cannot be used: a message quoting it and a hint saying what to write instead. */
export interface PatternProblem {
  message: string;
  hint: string;
}

const SYNTAX_HINT = 'patterns use RE2 syntax (like JavaScript regexes without backreferences and lookaround): escape literal dots (\\.), close every group, anchor with ^ and $';

/** JavaScript-only constructs RE2 lacks, with what to write instead (named when RE2 refuses a pattern using one). */
const UNSUPPORTED: readonly { test: RegExp; what: string; hint: string }[] = [
  { test: /\(\?<?[=!]/, what: 'lookaround ((?=…), (?!…), (?<=…), (?<!…))', hint: 'match the tags you mean positively, e.g. ^v\\d+$ rather than ^(?!pr-); to exclude tags from deletion narrow delete.tags, or add a keep rule for them' },
  { test: /\\[1-9]|\\k</, what: 'a backreference (\\1, \\k<name>)', hint: 'spell out the repeated part, e.g. ^(main|dev)-(main|dev)$; RE2 matches in linear time and has no backreferences' },
];

const cache = new Map<string, TagPattern | PatternProblem>();
const CACHE_LIMIT = 1024;

/** Checks a pattern without throwing: undefined when it compiles within the limits, else the problem. */
export function patternProblem(source: string): PatternProblem | undefined {
  const compiled = compile(source);
  return 'test' in compiled ? undefined : compiled;
}

/** Compiles a pattern; an unusable one throws a RegplanError naming `where` (validate normally reports it first). */
export function compileTagPattern(source: string, where: string): TagPattern {
  const compiled = compile(source);
  if ('test' in compiled) return compiled;
  throw new RegplanError(`${compiled.message} in ${where}`, { hint: compiled.hint });
}

/** Turns a shell-style glob (`*`, `?`) into a pattern over the whole text (for `--repo` filters). */
export function compileGlob(glob: string): TagPattern {
  const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : RE2JS.quote(ch))).join('');
  return compileTagPattern(`^(?s:${body})$`, `the glob "${glob}"`);
}

/**
 * Turns a repository path pattern (`acme/*`, `group/**`, `team/*-api`) into a pattern over a whole repository name:
 * `*` is any run of characters within one path segment, a `**` segment is one or more whole segments. Everything
 * else is literal. The caller checks the syntax first (config/repo-pattern.ts); `where` names it in an error.
 */
export function compileRepoPathPattern(path: string, where: string): TagPattern {
  const segment = (part: string): string =>
    part === '**' ? '[^/]+(?:/[^/]+)*' : [...part].map((ch) => (ch === '*' ? '[^/]*' : RE2JS.quote(ch))).join('');
  return compileTagPattern(`^${path.split('/').map(segment).join('/')}$`, where);
}

function compile(source: string): TagPattern | PatternProblem {
  const cached = cache.get(source);
  if (cached !== undefined) return cached;
  const result = compileUncached(source);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(source, result);
  return result;
}

function compileUncached(source: string): TagPattern | PatternProblem {
  const shown = source.length > 80 ? `${JSON.stringify(source.slice(0, 80)).slice(0, -1)}…"` : JSON.stringify(source);
  if (source.length > PATTERN_LIMITS.maxLength) {
    return { message: `regular expression ${shown} is ${source.length} characters long (at most ${PATTERN_LIMITS.maxLength})`, hint: 'tags are at most 128 characters; a pattern that long is almost certainly a mistake' };
  }
  const estimate = estimatedInstructions(source);
  if (estimate > PATTERN_LIMITS.maxInstructions) return tooLarge(shown, estimate);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source);
  } catch (error) {
    const construct = UNSUPPORTED.find((c) => c.test.test(source));
    if (construct !== undefined) {
      return { message: `regular expression ${shown} uses ${construct.what}, which RE2 syntax does not support`, hint: construct.hint };
    }
    const said = (error as Error).message.replace(/^error parsing regexp: /, '');
    return { message: `invalid regular expression ${shown}: ${said}`, hint: SYNTAX_HINT };
  }
  if (compiled.programSize() > PATTERN_LIMITS.maxInstructions) return tooLarge(shown, compiled.programSize());
  return { source, test: (text) => compiled.test(text), groupOf: (text) => groupOf(compiled, text) };
}

function groupOf(compiled: RE2JS, text: string): string | undefined {
  const match = compiled.matcher(text);
  if (!match.find()) return undefined;
  const count = match.groupCount();
  if (count === 0) return match.group(0) ?? '';
  return Array.from({ length: count }, (_, i) => match.group(i + 1) ?? '').join('/');
}

function tooLarge(shown: string, size: number): PatternProblem {
  return {
    message: `regular expression ${shown} is too large: its repetitions expand to about ${size.toLocaleString('en')} instructions (at most ${PATTERN_LIMITS.maxInstructions.toLocaleString('en')})`,
    hint: 'use smaller repeat counts: tags are at most 128 characters, so {1,128} covers any tag',
  };
}

/**
 * An upper estimate of the compiled program's size, from the text alone: every atom counts 1 and a counted
 * repetition `{n}`/`{n,m}` multiplies the atom or group before it by its largest count. Cheap and approximate;
 * RE2 does the real parsing, and its program size is checked again after compiling.
 */
export function estimatedInstructions(source: string): number {
  const groups: number[] = [0];
  let last = 0;
  const add = (size: number) => {
    groups[groups.length - 1] = (groups[groups.length - 1] ?? 0) + size;
    last = size;
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      i++;
      add(1);
    } else if (ch === '[') {
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      i = j;
      add(1);
    } else if (ch === '(') {
      groups.push(0);
      last = 0;
    } else if (ch === ')' && groups.length > 1) {
      add((groups.pop() ?? 0) + 1);
    } else if (ch === '{') {
      const counted = /^\{(\d+)(?:,(\d*))?\}/.exec(source.slice(i, i + 24));
      if (counted === null) {
        add(1);
        continue;
      }
      const times = Math.max(Number(counted[1]), Number(counted[2] || 0));
      groups[groups.length - 1] = (groups[groups.length - 1] ?? 0) + last * Math.max(0, times - 1) + 1;
      last *= Math.max(1, times);
      i += counted[0].length - 1;
    } else {
      add(1);
    }
  }
  return groups.reduce((sum, size) => sum + size, 0);
}
