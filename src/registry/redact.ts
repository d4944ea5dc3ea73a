/**
 * Keeping secrets out of text: debug lines and error messages pass through here. URLs lose query values that
 * might be credentials (pre-signed storage links, upload state), and any secret the client has handled
 * (password, token) is masked wherever it appears.
 */
import { Buffer } from 'node:buffer';

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

/** Secrets shorter than this are not masked: they would mask ordinary words. */
const MIN_SECRET_LENGTH = 4;

/**
 * The one process-wide secret registry. Every credential value is registered where it is resolved (the Docker
 * credential lookup, the native-secret reader, each client's SecretSet for tokens it is issued), and everything
 * regplan shows or saves — stdout, stderr, error messages, debug lines, plan and journal files — is scrubbed
 * against all of it, so a server that echoes credentials back cannot put them in front of anyone.
 */
const registry = new Set<string>();
/** The registry, longest first (a secret inside another secret's encoding must not break that one's mask). */
let ordered: string[] = [];

/**
 * The forms a secret travels in: as is, URL-encoded (as a path or query part, and as a form field, which also
 * escapes `~!'()*` and writes spaces as `+`: a token request's body), JSON-escaped, and base64 (padded, and without).
 */
function forms(secret: string): string[] {
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  const formField = new URLSearchParams({ s: secret }).toString().slice(2);
  return [secret, encodeURIComponent(secret), formField, JSON.stringify(secret).slice(1, -1), base64, base64.replace(/=+$/, '')];
}

/** Registers one secret value process-wide (short values are ignored). */
export function registerSecret(secret: string | undefined): void {
  if (secret === undefined || secret.length < MIN_SECRET_LENGTH) return;
  let added = false;
  for (const form of forms(secret)) {
    if (form.length < MIN_SECRET_LENGTH || registry.has(form)) continue;
    registry.add(form);
    added = true;
  }
  if (added) ordered = [...registry].sort((a, b) => b.length - a.length);
}

/**
 * Registers every secret part of a credential: password, identity token, registry token, and `user:password`
 * (what a Basic header decodes to; its base64 is the header itself). The username alone is not a secret.
 */
export function registerCredential(credential: { username?: string | undefined; password?: string | undefined; identityToken?: string | undefined; registryToken?: string | undefined }): void {
  registerSecret(credential.password);
  registerSecret(credential.identityToken);
  registerSecret(credential.registryToken);
  if (credential.password !== undefined && credential.password !== '') registerSecret(`${credential.username ?? ''}:${credential.password}`);
}

/** `text` with every registered secret replaced by `***`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}

/**
 * The secrets one client handled (passwords, tokens it was issued). Each is also registered process-wide, and
 * `scrub` masks every registered secret, so a client's messages are clean of credentials it never saw itself.
 */
export class SecretSet {
  readonly #secrets = new Set<string>();

  /** Remembers a secret (ignores short strings, which would mask ordinary words). */
  add(secret: string | undefined): void {
    if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH) {
      this.#secrets.add(secret);
      this.#secrets.add(encodeURIComponent(secret));
      registerSecret(secret);
    }
  }

  /** `text` with every known secret replaced by `***`. */
  scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return scrubSecrets(out);
  }
}

/**
 * Makes server-provided text safe and short for a one-line message: every registered secret masked, no control
 * characters, at most `max` chars. Masking comes first: a cut through a secret a server echoed would leave a
 * piece of it that no later scrub recognises.
 */
export function oneLine(text: string, max = 300): string {
  const flat = scrubSecrets(text).replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
