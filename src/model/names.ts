/**
 * The distribution-spec grammar of the names regplan puts into Registry API paths — repository names, tags and
 * digests — and a safe way to show a name that fails it. Names a registry sends (tags/list, catalogs, native
 * APIs, manifests) are hostile until checked here: `pr-1/../v1.0.0` is not a tag, it is a path. config/ and
 * registry/ share these rules; this module imports nothing from either.
 */
import { RegplanError } from '../errors.ts';

const NAME_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const REPO_NAME_PATTERN = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** OCI image-spec descriptor grammar: `algorithm ":" encoded`. */
const DIGEST_PATTERN = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
/** The encoded form of the registered algorithms (image-spec "Registered algorithms"). */
const REGISTERED_ENCODINGS: Readonly<Record<string, RegExp>> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };

/** The longest repository name the distribution spec allows (host included there; a name alone is never longer). */
export const MAX_REPO_NAME_LENGTH = 255;

/** What a name is meant to be; `reference` is a tag or a digest (the last segment of a manifests path). */
export type NameKind = 'repository name' | 'tag' | 'digest' | 'reference';

/** True when `name` is a repository name: lowercase path components joined by `/`, at most 255 characters. */
export const isValidRepoName = (name: string): boolean => name.length <= MAX_REPO_NAME_LENGTH && REPO_NAME_PATTERN.test(name);

/** True when `tag` is a tag: 1–128 of `A-Za-z0-9_.-`, not starting with `.` or `-`. */
export const isValidTag = (tag: string): boolean => TAG_PATTERN.test(tag);

/**
 * True when `digest` is `algorithm:encoded` per the image-spec grammar; sha256 and sha512 must be exactly 64 and
 * 128 lowercase hex characters. Other algorithms pass on the grammar alone (the spec asks clients to allow them).
 */
export function isValidDigest(digest: string): boolean {
  const match = DIGEST_PATTERN.exec(digest);
  if (match === null) return false;
  const encoding = REGISTERED_ENCODINGS[match[1] as string];
  return encoding === undefined || encoding.test(match[2] as string);
}

/** True when `reference` is a valid tag or digest (what may follow `/manifests/`). */
export const isValidReference = (reference: string): boolean => isValidTag(reference) || isValidDigest(reference);

/**
 * A name that fails the distribution grammar; it never reaches a URL. `shown` is the name quoted and escaped;
 * `where` (in the options) says what it was meant for, e.g. `a request to registry ghcr.io`.
 */
export class InvalidNameError extends RegplanError {
  override name = 'InvalidNameError';
  readonly kind: NameKind;
  /** The name as `quoteName` shows it: safe to print, never to use. */
  readonly shown: string;
  constructor(kind: NameKind, value: string, options: { where?: string } = {}) {
    const shown = quoteName(value);
    super(`invalid ${kind} ${shown}${options.where === undefined ? '' : ` in ${options.where}`}`, {
      hint: HINTS[kind],
      context: kind === 'repository name' ? {} : { ref: shown },
    });
    this.kind = kind;
    this.shown = shown;
  }
}

const HINTS: Record<NameKind, string> = {
  'repository name': 'a repository name is lowercase path components (letters, digits, one of . _ __ or dashes between them) joined by /',
  tag: 'a tag is 1-128 letters, digits, _ . - and starts with a letter, digit or _',
  digest: 'a digest is algorithm:hex, e.g. sha256: and 64 lowercase hex digits',
  reference: 'a reference is a tag (1-128 letters, digits, _ . -) or a digest (sha256: and 64 lowercase hex digits)',
};

/** Throws InvalidNameError unless `name` is a repository name. */
export function assertValidRepoName(name: string, options: { where?: string } = {}): void {
  if (!isValidRepoName(name)) throw new InvalidNameError('repository name', name, options);
}

/** Throws InvalidNameError unless `tag` is a tag. */
export function assertValidTag(tag: string, options: { where?: string } = {}): void {
  if (!isValidTag(tag)) throw new InvalidNameError('tag', tag, options);
}

/** Throws InvalidNameError unless `digest` is a digest. */
export function assertValidDigest(digest: string, options: { where?: string } = {}): void {
  if (!isValidDigest(digest)) throw new InvalidNameError('digest', digest, options);
}

/** Throws InvalidNameError unless `reference` is a tag or a digest. */
export function assertValidReference(reference: string, options: { where?: string } = {}): void {
  if (!isValidReference(reference)) throw new InvalidNameError('reference', reference, options);
}

/** How many characters of a name `quoteName` shows before cutting it. */
const SHOWN_CHARACTERS = 100;

/**
 * A name as people may see it: a JSON string literal in printable ASCII only (`\uXXXX` for control characters,
 * C1 codes, bidi overrides and everything else outside 0x20–0x7e; backtick too, so it stays inside a markdown code
 * span). A name longer than 100 characters is cut: `"pr-xxx..." (200 characters)`. Terminal escapes in a
 * registry's answer thus never reach a terminal.
 */
export function quoteName(raw: string): string {
  const characters = [...raw];
  const pieces = characters.slice(0, SHOWN_CHARACTERS).map(escapeCharacter);
  if (characters.length <= SHOWN_CHARACTERS) return `"${pieces.join('')}"`;
  return `"${pieces.join('')}..." (${characters.length} characters)`;
}

function escapeCharacter(character: string): string {
  if (character === '"') return '\\"';
  if (character === '\\') return '\\\\';
  const code = character.codePointAt(0) ?? 0;
  if (code >= 0x20 && code <= 0x7e && character !== '`') return character;
  const units = code > 0xffff ? [0xd800 + ((code - 0x10000) >> 10), 0xdc00 + ((code - 0x10000) & 0x3ff)] : [code];
  return units.map((unit) => `\\u${unit.toString(16).padStart(4, '0')}`).join('');
}
