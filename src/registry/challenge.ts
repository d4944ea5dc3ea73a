/**
 * `WWW-Authenticate` parsing (RFC 7235 / RFC 6750). Registries answer 401 with a Basic or Bearer challenge whose
 * parameters come in any order and whose quoted values may hold commas, colons and escaped quotes (a Bearer
 * `scope` often does), so this is a small tokenizer rather than a split on `,`.
 */

/** One challenge from a `WWW-Authenticate` header; `scheme` and parameter names are lowercased. */
export interface AuthChallenge {
  scheme: string;
  /** All auth-params, keys lowercased, values unquoted. */
  params: Record<string, string>;
  realm?: string;
  service?: string;
  /** The `scope` param split on spaces (a Bearer challenge may name several scopes). */
  scopes: string[];
  /** `insufficient_scope`, `invalid_token`, ... when the server says why a token was refused. */
  error?: string;
  /** A token68 credential blob (rare in registries; kept for completeness). */
  token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68_CHAR = /[A-Za-z0-9._~+/-]/;

/** A cursor over the header text. */
class Cursor {
  pos = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  skipSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  skipSpaceAndCommas(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }
  readWhile(pattern: RegExp): string {
    const start = this.pos;
    while (!this.done && pattern.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
  /** A quoted-string with backslash escapes; an unterminated one runs to the end. */
  readQuoted(): string {
    this.pos++; // opening quote
    let value = '';
    while (!this.done) {
      const ch = this.peek();
      this.pos++;
      if (ch === '"') return value;
      if (ch === '\\' && !this.done) {
        value += this.peek();
        this.pos++;
      } else {
        value += ch;
      }
    }
    return value;
  }
  /** An unquoted value; lenient: runs to the next comma or space, so `realm=https://x/token` still parses. */
  readBare(): string {
    return this.readWhile(/[^,\s]/);
  }
}

/** True when the cursor sits on `name = value` (an auth-param) rather than a new challenge's scheme or a token68. */
function atParam(cursor: Cursor): boolean {
  const saved = cursor.pos;
  const name = cursor.readWhile(TOKEN_CHAR);
  cursor.skipSpace();
  let isParam = name !== '' && cursor.peek() === '=';
  if (isParam) {
    cursor.pos++;
    cursor.skipSpace();
    isParam = !cursor.done && cursor.peek() !== '=' && cursor.peek() !== ','; // `abc==` is a token68, not a param
  }
  cursor.pos = saved;
  return isParam;
}

/** Reads a token68 (`abc+/==`) when the text after the scheme is one; otherwise leaves the cursor untouched. */
function readToken68(cursor: Cursor): string | undefined {
  const saved = cursor.pos;
  const body = cursor.readWhile(TOKEN68_CHAR);
  const padding = cursor.readWhile(/=/);
  const afterEnd = cursor.pos;
  cursor.skipSpace();
  if (body !== '' && (cursor.done || cursor.peek() === ',') && (padding !== '' || !atParamAt(cursor.text, saved))) {
    cursor.pos = afterEnd;
    return body + padding;
  }
  cursor.pos = saved;
  return undefined;
}

function atParamAt(text: string, pos: number): boolean {
  const cursor = new Cursor(text);
  cursor.pos = pos;
  return atParam(cursor);
}

/** Parses every challenge in a `WWW-Authenticate` header value (several may share one header). */
export function parseChallenges(header: string | null | undefined): AuthChallenge[] {
  if (!header) return [];
  const cursor = new Cursor(header);
  const challenges: AuthChallenge[] = [];
  for (;;) {
    cursor.skipSpaceAndCommas();
    if (cursor.done) break;
    const scheme = cursor.readWhile(TOKEN_CHAR);
    if (scheme === '') {
      cursor.pos++; // garbage: skip one character and try again
      continue;
    }
    const params: Record<string, string> = {};
    cursor.skipSpace();
    const token68 = atParam(cursor) ? undefined : readToken68(cursor);
    while (token68 === undefined) {
      cursor.skipSpace();
      if (!atParam(cursor)) break;
      const name = cursor.readWhile(TOKEN_CHAR).toLowerCase();
      cursor.skipSpace();
      cursor.pos++; // '='
      cursor.skipSpace();
      params[name] = cursor.peek() === '"' ? cursor.readQuoted() : cursor.readBare();
      cursor.skipSpace();
      if (cursor.peek() !== ',') break;
      cursor.skipSpaceAndCommas();
    }
    challenges.push(toChallenge(scheme, params, token68));
  }
  return challenges;
}

function toChallenge(scheme: string, params: Record<string, string>, token68: string | undefined): AuthChallenge {
  const scope = params['scope'];
  return {
    scheme: scheme.toLowerCase(),
    params,
    scopes: scope === undefined ? [] : scope.split(' ').filter((s) => s !== ''),
    ...(params['realm'] === undefined ? {} : { realm: params['realm'] }),
    ...(params['service'] === undefined ? {} : { service: params['service'] }),
    ...(params['error'] === undefined ? {} : { error: params['error'] }),
    ...(token68 === undefined ? {} : { token68 }),
  };
}

/**
 * The challenge regplan answers: Bearer when offered (it carries the token server), else Basic, else the first.
 * Undefined when the header is missing or holds nothing parseable.
 */
export function pickChallenge(header: string | null | undefined): AuthChallenge | undefined {
  const all = parseChallenges(header);
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic') ?? all[0];
}
