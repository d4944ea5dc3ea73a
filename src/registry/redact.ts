/**
 * Keeping secrets out of text: debug lines and error messages pass through here. URLs lose query values that
 * might be credentials (pre-signed storage links, upload state), and any secret the client has handled
 * (password, token) is masked wherever it appears.
 */

/** Query parameters whose values are plain protocol data and safe to print. */
const SAFE_QUERY_PARAMS = new Set(['n', 'last', 'digest', 'mount', 'from', 'service', 'scope', 'artifactType', 'tag', 'digest-algorithm']);

/** The URL with every query value outside the safe list replaced by `***`, and any user:password removed. */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<invalid url>';
  }
  parsed.username = '';
  parsed.password = '';
  const query = [...parsed.searchParams].map(([key, value]) => `${key}=${SAFE_QUERY_PARAMS.has(key) ? encodeURIComponent(value) : '***'}`);
  return `${parsed.origin}${parsed.pathname}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

/** A set of secret values seen by one client; `scrub` masks them in any text before it is shown. */
export class SecretSet {
  readonly #secrets = new Set<string>();

  /** Remembers a secret (ignores short strings, which would mask ordinary words). */
  add(secret: string | undefined): void {
    if (secret !== undefined && secret.length >= 4) {
      this.#secrets.add(secret);
      this.#secrets.add(encodeURIComponent(secret));
    }
  }

  /** `text` with every known secret replaced by `***`. */
  scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }
}

/** Makes server-provided text safe and short for a one-line message: no control characters, at most `max` chars. */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
