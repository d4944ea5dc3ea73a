/**
 * The typed error hierarchy. Every error regplan raises on purpose is a RegplanError: it says what failed
 * (message, with the actual input), what to do about it (hint), and carries context fields for --json and
 * --debug. Only src/main.ts turns errors into exit codes.
 */
import { scrubSecrets } from './registry/redact.ts';

/** Context a registry-facing error can carry; never a secret. */
export interface ErrorContext {
  registry?: string;
  repo?: string;
  ref?: string;
  status?: number;
  code?: string;
  file?: string;
  flag?: string;
  /** The request's URL with query secrets redacted (redactUrl), for failures tied to one request. */
  url?: string;
}

/** Base of every error regplan raises deliberately; `hint` tells the user what to do next. */
export class RegplanError extends Error {
  override name = 'RegplanError';
  readonly hint: string | undefined;
  readonly context: ErrorContext;
  /** Process exit code main.ts uses: 1 failure, 2 usage error. */
  readonly exitCode: 1 | 2;

  constructor(message: string, options: { hint?: string; cause?: unknown; context?: ErrorContext; exitCode?: 1 | 2 } = {}) {
    // Scrubbed of every registered credential: a server echoing them must not put them into a message.
    super(scrubSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint === undefined ? undefined : scrubSecrets(options.hint);
    this.context = options.context ?? {};
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A command line that cannot be understood: unknown flag, missing argument (exit 2). */
export class UsageError extends RegplanError {
  override name = 'UsageError';
  constructor(message: string, options: { hint?: string; flag?: string } = {}) {
    super(message, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      context: options.flag === undefined ? {} : { flag: options.flag },
      exitCode: 2,
    });
  }
}

/** One problem found in a config file, with its position; `validate` prints all of them at once. */
export interface ConfigProblem {
  file: string;
  /** 1-based; 0 (with col 0) when the problem concerns the whole file, e.g. it does not exist. */
  line: number;
  col: number;
  /** JSON-pointer-like path in the document, e.g. `/policies/ci/keep/0/tags`. */
  path: string;
  message: string;
  hint?: string;
}

/** A config that failed to load or validate; carries every problem found, not just the first. */
export class ConfigError extends RegplanError {
  override name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];
  /** The one problem that concerns the whole file (missing, unreadable): it is the message, with no position to list. */
  readonly wholeFile: ConfigProblem | undefined;
  constructor(file: string, problems: readonly ConfigProblem[]) {
    const only = problems.length === 1 && problems[0]?.line === 0 ? problems[0] : undefined;
    super(only ? `${file}: ${only.message}` : `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the config`, {
      hint: only ? only.hint ?? `run "regplan validate -c ${file}"` : `run "regplan validate -c ${file}" to see each one with its line and column`,
      context: { file },
    });
    this.problems = problems;
    this.wholeFile = only;
  }
}

/** One entry of an OCI error body: `{"errors":[{"code","message","detail"}]}`. */
export interface OciErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/** A registry answered with an error status; `code` is the first OCI error code (UNKNOWN when absent). */
export class RegistryError extends RegplanError {
  override name = 'RegistryError';
  readonly status: number;
  readonly errors: readonly OciErrorEntry[];
  constructor(message: string, options: { status: number; errors?: readonly OciErrorEntry[]; registry?: string; repo?: string; ref?: string; hint?: string; cause?: unknown }) {
    const errors = options.errors ?? [];
    super(message, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      context: {
        status: options.status,
        code: errors[0]?.code ?? 'UNKNOWN',
        ...(options.registry === undefined ? {} : { registry: options.registry }),
        ...(options.repo === undefined ? {} : { repo: options.repo }),
        ...(options.ref === undefined ? {} : { ref: options.ref }),
      },
    });
    this.status = options.status;
    this.errors = errors;
  }
  /** The first OCI error code, or UNKNOWN. */
  get code(): string {
    return this.errors[0]?.code ?? 'UNKNOWN';
  }
}

/** Authentication failed or was refused (401/403, bad credentials, token server errors). */
export class AuthError extends RegistryError {
  override name = 'AuthError';
}

/** The registry could not be reached at all (DNS, refused, TLS, timeout), or the connection broke mid-answer. */
export class NetworkError extends RegplanError {
  override name = 'NetworkError';
}

/**
 * The connection broke while a response body was being read (undici's bare "terminated"). The transport resends
 * idempotent requests that hit it, so seeing one means the retries ran out or the request could not be resent.
 */
export class TruncatedBodyError extends NetworkError {
  override name = 'TruncatedBodyError';
}

/** What kind of protocol failure a ProtocolError is. */
export type ProtocolErrorCode =
  | 'DIGEST_INVALID'
  | 'INVALID_JSON'
  | 'INSECURE_SCHEME'
  | 'TOO_MANY_REDIRECTS'
  | 'BODY_TOO_LARGE'
  /** A next-page URL on another origin or endpoint: never followed, it would receive credentials. */
  | 'UNSAFE_NEXT_PAGE'
  /** A listing that repeats a page or never ends: incomplete, so nothing is planned from it. */
  | 'PAGING_LOOP'
  /** A vendor answer without the shape its API documents (a page that is not a list). */
  | 'UNEXPECTED_ANSWER';

/**
 * An exchange that failed without an HTTP error status to blame: content that does not hash to its digest, a body
 * that is not JSON or is over its size limit, a redirect loop, plain http where only https may go. (These used to
 * be RegistryErrors with made-up statuses 0 and 200.)
 */
export class ProtocolError extends RegplanError {
  override name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  constructor(message: string, options: { code: ProtocolErrorCode; registry?: string; repo?: string; ref?: string; url?: string; hint?: string; cause?: unknown }) {
    super(message, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      context: {
        code: options.code,
        ...(options.registry === undefined ? {} : { registry: options.registry }),
        ...(options.repo === undefined ? {} : { repo: options.repo }),
        ...(options.ref === undefined ? {} : { ref: options.ref }),
        ...(options.url === undefined ? {} : { url: options.url }),
      },
    });
    this.code = options.code;
  }
}

/** A response body over the size regplan holds in memory for its kind; nothing past `limit` bytes was buffered. */
export class BodyTooLargeError extends ProtocolError {
  override name = 'BodyTooLargeError';
  /** The limit in bytes. */
  readonly limit: number;
  constructor(message: string, options: { limit: number; url: string; registry?: string; hint?: string }) {
    super(message, { code: 'BODY_TOO_LARGE', ...options });
    this.limit = options.limit;
  }
}

/** Credentials could not be read: a broken Docker config, a failing credential helper. */
export class CredentialsError extends RegplanError {
  override name = 'CredentialsError';
}

/** A saved plan no longer matches the world (format version, config digest, moved tag). */
export class StalePlanError extends RegplanError {
  override name = 'StalePlanError';
}

/** True when `e` is any deliberate regplan error. */
export const isRegplanError = (e: unknown): e is RegplanError => e instanceof RegplanError;
/** True when `e` is an error status from a registry. */
export const isRegistryError = (e: unknown): e is RegistryError => e instanceof RegistryError;
/** True when `e` is an authentication failure. */
export const isAuthError = (e: unknown): e is AuthError => e instanceof AuthError;
/** True when `e` is a protocol failure without an HTTP status (bad digest, bad JSON, body too large, http refused, redirect loop). */
export const isProtocolError = (e: unknown): e is ProtocolError => e instanceof ProtocolError;
/** True when `e` is a transport failure: unreachable host, timeout, dropped connection, truncated body. */
export const isNetworkError = (e: unknown): e is NetworkError => e instanceof NetworkError;
/** True when `e` is a config problem set. */
export const isConfigError = (e: unknown): e is ConfigError => e instanceof ConfigError;
/** True when `e` means "not found" at the registry (404, MANIFEST_UNKNOWN, NAME_UNKNOWN, BLOB_UNKNOWN). */
export const isNotFound = (e: unknown): boolean =>
  e instanceof RegistryError && (e.status === 404 || ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN', 'BLOB_UNKNOWN', 'NOT_FOUND'].includes(e.code));
