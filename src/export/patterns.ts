/**
 * Translating regplan's tag patterns (RE2 syntax, unanchored unless written with ^ and $; config/pattern.ts) into
 * the pattern languages of registry lifecycle policies:
 *
 * - wildcard lists (ECR `tagPatternList`: `*` only, at most four per string; Harbor doublestar `*` and `{a,b}`),
 * - prefix lists (ECR `tagPrefixList`, Artifact Registry `tagPrefixes`),
 * - whole-string RE2 / Python regexes (GitLab `name_regex_*`, Quay `tagPattern`).
 *
 * A pattern is read as a union of alternatives, each a sequence of literal text and "anything" gaps. Two readings:
 * `exact` (the wildcard set matches exactly the tags the regex matches; used where the set decides what is
 * deleted) and `cover` (a superset: every construct a wildcard cannot say becomes a gap; used where the set
 * decides what is kept, because keeping more is safe). A pattern neither reading can translate gives undefined,
 * and the compiler says so rule by rule.
 */

/** One alternative: anchored or not at each end, and its pieces (literal text, or `null` for "any text"). */
export interface PatternAlternative {
  start: boolean;
  end: boolean;
  pieces: (string | null)[];
}

const QUANTIFIER = /^(?:[*+?]|\{\d+(?:,\d*)?\})\??/;
const MAX_ALTERNATIVES = 32;

class Untranslatable extends Error {}

/** Reads `source` as a union of wildcard alternatives; undefined when it cannot be (in that mode). */
export function patternAlternatives(source: string, mode: 'exact' | 'cover'): PatternAlternative[] | undefined {
  let at = 0;
  const peek = () => source[at];

  const parseUnion = (topLevel: boolean): PatternAlternative[] => {
    const result: PatternAlternative[] = [];
    for (;;) {
      result.push(...parseSequence(topLevel));
      if (peek() !== '|') return result;
      at++;
    }
  };

  const quantifier = (): string | undefined => {
    const match = QUANTIFIER.exec(source.slice(at));
    if (!match) return undefined;
    at += match[0].length;
    return match[0];
  };

  const parseSequence = (topLevel: boolean): PatternAlternative[] => {
    let sequences: PatternAlternative[] = [{ start: false, end: false, pieces: [] }];
    const append = (piece: string | null) => {
      for (const s of sequences) s.pieces.push(piece);
    };
    let first = true;
    while (at < source.length && peek() !== '|' && peek() !== ')') {
      const c = source[at] as string;
      if (c === '^') {
        if (!topLevel || !first) throw new Untranslatable('^ inside');
        at++;
        for (const s of sequences) s.start = true;
        first = false;
        continue;
      }
      first = false;
      if (c === '$') {
        at++;
        if (!topLevel || (at < source.length && peek() !== '|')) throw new Untranslatable('$ inside');
        for (const s of sequences) s.end = true;
        continue;
      }
      if (c === '(') {
        at++;
        if (source.startsWith('?:', at)) at += 2;
        else if (peek() === '?') throw new Untranslatable('group flags');
        const inner = parseUnion(false);
        if (peek() !== ')') throw new Untranslatable('unclosed group');
        at++;
        if (quantifier() !== undefined) {
          if (mode === 'exact') throw new Untranslatable('quantified group');
          append(null);
          continue;
        }
        if (inner.some((alt) => alt.start || alt.end)) throw new Untranslatable('anchor in group');
        const expanded: PatternAlternative[] = [];
        for (const s of sequences) for (const alt of inner) expanded.push({ start: s.start, end: s.end, pieces: [...s.pieces, ...alt.pieces] });
        if (expanded.length > MAX_ALTERNATIVES) throw new Untranslatable('too many alternatives');
        sequences = expanded;
        continue;
      }
      // One atom: a literal, an escaped literal, `.`, a class; then maybe a quantifier.
      let literal: string | undefined;
      if (c === '\\') {
        const next = source[at + 1];
        if (next === undefined) throw new Untranslatable('trailing backslash');
        if (/[A-Za-z0-9]/.test(next)) {
          if (mode === 'exact' || !/[dwsDWS]/.test(next)) throw new Untranslatable(`escape \\${next}`);
          at += 2;
        } else {
          literal = next;
          at += 2;
        }
      } else if (c === '[') {
        if (mode === 'exact') throw new Untranslatable('class');
        const close = source.indexOf(']', at + 2);
        if (close < 0 || source.slice(at, close).includes('[:')) throw new Untranslatable('class');
        at = close + 1;
      } else if (c === '.') {
        at++;
      } else if ('*+?{'.includes(c)) {
        throw new Untranslatable('bare quantifier');
      } else {
        literal = c;
        at++;
      }
      const q = quantifier();
      if (literal !== undefined && q === undefined) {
        append(literal);
      } else if (literal === undefined && (q === '*' || q === '*?')) {
        append(null); // `.*` (or a class/escape repeated any number of times, in cover mode)
      } else if (mode === 'cover') {
        append(null);
      } else {
        throw new Untranslatable('quantified atom');
      }
    }
    return sequences;
  };

  try {
    const union = parseUnion(true);
    if (at !== source.length) return undefined;
    return union.map(normalize);
  } catch (error) {
    if (error instanceof Untranslatable) return undefined;
    throw error;
  }
}

/** Joins adjacent literals and gaps, and folds the ends: an unanchored end is a gap. */
function normalize(alt: PatternAlternative): PatternAlternative {
  const pieces: (string | null)[] = [];
  const all = [...(alt.start ? [] : [null]), ...alt.pieces, ...(alt.end ? [] : [null])];
  for (const piece of all) {
    const last = pieces[pieces.length - 1];
    if (piece === null && last === null && pieces.length > 0) continue;
    if (piece !== null && typeof last === 'string') pieces[pieces.length - 1] = last + piece;
    else pieces.push(piece);
  }
  return { start: true, end: true, pieces };
}

/** The alternative as a `*` wildcard string over the whole tag. */
export const toWildcard = (alt: PatternAlternative): string => alt.pieces.map((p) => (p === null ? '*' : p)).join('');

/** Wildcards for `source`, each with at most `maxStars` stars; undefined when it cannot be written so. */
export function wildcards(source: string, mode: 'exact' | 'cover', maxStars = Number.POSITIVE_INFINITY): string[] | undefined {
  const alts = patternAlternatives(source, mode);
  if (alts === undefined) return undefined;
  const list = [...new Set(alts.map(toWildcard))];
  return list.every((w) => (w.match(/\*/g) ?? []).length <= maxStars) ? list : undefined;
}

/**
 * Prefixes for `source`: exact = each alternative is `prefix` followed by anything; cover = the literal start of
 * each alternative (a superset). Undefined when some alternative has no literal start, or (exact) is not a prefix.
 */
export function prefixes(source: string, mode: 'exact' | 'cover'): string[] | undefined {
  const alts = patternAlternatives(source, mode);
  if (alts === undefined) return undefined;
  const out: string[] = [];
  for (const alt of alts) {
    const [head, ...rest] = alt.pieces;
    if (typeof head !== 'string' || head === '') return undefined;
    if (mode === 'exact' && !(rest.length === 1 && rest[0] === null)) return undefined;
    out.push(head);
  }
  return [...new Set(out)];
}

/**
 * The pattern as a regex over the whole tag (GitLab wraps name regexes in \A…\Z; Quay's tagPattern is matched by
 * Python `re`): `.*(?:P).*` matches a whole tag exactly when P matches somewhere in it, as regplan reads P, because
 * `^` and `$` inside keep their meaning (start and end of the text) in RE2 and in Python without MULTILINE.
 */
export const wholeTagRegex = (source: string): string => `.*(?:${source}).*`;

/** RE2 constructs Python's `re` does not read the same way (Quay): named groups without P, \pL, \Q…\E, [[:alpha:]], \z, \C. */
const NOT_PYTHON = /\(\?<[A-Za-z]|\\[pPQzC]|\[\[:/;

/** Whether `source` means the same in Python `re` as in RE2 (checked conservatively). */
export const pythonCompatible = (source: string): boolean => !NOT_PYTHON.test(source) && !/\(\?[a-zA-Z]*[Us]/.test(source);

/** The tag prefix of cosign-style referrers (`sha256-<hex>.sig/.att/.sbom`), which regplan never counts or judges by rules. */
export const REFERRER_TAG_PREFIX = 'sha256-';

/**
 * Whether no tag `source` matches can start with `sha256-`: every alternative of its exact reading begins with a
 * literal that rules the prefix out. False when unsure (a pattern a wildcard cannot read, or a leading gap).
 */
export function excludesReferrerTags(source: string): boolean {
  const alts = patternAlternatives(source, 'cover');
  if (alts === undefined) return false;
  return alts.every((alt) => {
    const head = alt.pieces[0];
    return typeof head === 'string' && head !== '' && !head.startsWith(REFERRER_TAG_PREFIX) && !REFERRER_TAG_PREFIX.startsWith(head);
  });
}

/** An RE2 regex matching every whole tag that does not start with `sha256-` (RE2 has no lookahead, so spelt out). */
export const NOT_REFERRER_TAG_REGEX = `(?:|[^s].*|s(?:|[^h].*)|sh(?:|[^a].*)|sha(?:|[^2].*)|sha2(?:|[^5].*)|sha25(?:|[^6].*)|sha256(?:|[^-].*))`;
