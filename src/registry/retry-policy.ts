/**
 * When the transport sends a request again, and how long it waits first (oras-go's policy: 5 attempts, exponential
 * backoff with jitter, every wait capped at 60 s, `Retry-After` honoured in both its forms). Pure functions; the
 * ky hooks in http.ts apply them.
 *
 * - 408, 429 and 503 say the server did not act on the request: any method is resent.
 * - 500, 502 and 504, a failed or reset connection, and a body cut short may come after the server acted: only
 *   idempotent methods are resent (GET, HEAD, PUT — a manifest PUT stores the same bytes again — and DELETE), never
 *   the POST that opens an upload or a PATCH chunk.
 * - A vendor hook (`retryWhen`) may claim other answers (GitHub's 403 with `x-ratelimit-remaining: 0`, Selectel's
 *   409 during garbage collection) and say how long to wait; it vouches that the request was not carried out.
 * - Timeouts are not retried: the attempt already waited the whole timeout (settings.timeout).
 */
import { isNetworkError as isConnectionFailure } from 'ky';
import { isRegplanError, TruncatedBodyError } from '../errors.ts';

/** Retry tuning; tests pass tiny delays. */
export interface RetryOptions {
  /** Total attempts per request, first one included (default 5). */
  attempts?: number;
  /** First backoff delay; doubles per attempt (default 500 ms). */
  baseDelayMs?: number;
  /** Cap on any single wait, including one a `Retry-After` or a vendor hook asks for (default 60 s). */
  maxDelayMs?: number;
}

/** RetryOptions with the defaults filled in. */
export type RetryTuning = Required<RetryOptions>;

/** Methods whose repetition has the effect of one request (RFC 9110 §9.2.2), lowercase as ky lists them. */
export const IDEMPOTENT_METHODS = ['get', 'head', 'put', 'delete'] as const;

/** Answers meaning "not done, try again": safe to resend whatever the method. */
const NOT_CARRIED_OUT = new Set([408, 429, 503]);
/** Answers that may follow a request the server did carry out: resent only when idempotent. */
const MAYBE_CARRIED_OUT = new Set([500, 502, 504]);

/** Waits this long or longer are announced through `onWait`; shorter ones pass unremarked. */
export const WAIT_NOTICE_MIN_MS = 2_000;

/** The defaults oras-go uses: 5 attempts, 500 ms doubling, 60 s cap. */
export function retryTuning(options: RetryOptions = {}): RetryTuning {
  return { attempts: Math.max(1, options.attempts ?? 5), baseDelayMs: options.baseDelayMs ?? 500, maxDelayMs: options.maxDelayMs ?? 60_000 };
}

/** Why an answer should be retried, with the wait the server or vendor asked for; undefined when it should not be. */
export function retryableAnswer(
  method: string,
  response: Response,
  retryWhen?: (response: Response) => number | undefined,
): { reason: string; askedMs?: number } | undefined {
  const status = response.status;
  if (NOT_CARRIED_OUT.has(status) || (MAYBE_CARRIED_OUT.has(status) && isIdempotent(method))) {
    const askedMs = parseRetryAfter(response.headers.get('retry-after'));
    return askedMs === undefined ? { reason: `HTTP ${status}` } : { reason: `HTTP ${status}, Retry-After`, askedMs };
  }
  const askedMs = retryWhen?.(response);
  return askedMs === undefined ? undefined : { reason: `HTTP ${status}`, askedMs: Math.max(0, askedMs) };
}

/** Why a failed attempt (an error, not an answer) should be retried; undefined when it should not. The caller checks the method. */
export function retryableFailure(error: unknown): string | undefined {
  if (error instanceof TruncatedBodyError) return 'body cut short';
  if (isRegplanError(error)) return undefined; // a body over its limit, a refused scheme: the same again next time
  if (isConnectionFailure(error)) return 'connection failed'; // refused, reset, DNS: ky's NetworkError
  return undefined;
}

/** True for GET, HEAD, PUT and DELETE. */
export const isIdempotent = (method: string): boolean => (IDEMPOTENT_METHODS as readonly string[]).includes(method.toLowerCase());

/** Milliseconds a `Retry-After` asks for (delay-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isFinite(date) && /[a-z]/i.test(text) ? Math.max(0, date - now) : undefined;
}

/**
 * The wait before retry number `retry` (1 = the first retry): what the server asked for, else exponential backoff
 * base·2^(retry-1) with jitter drawn from its upper half (so many clients spread out but waits still grow); capped.
 */
export function retryDelay(retry: number, tuning: RetryTuning, askedMs?: number, random = Math.random): number {
  if (askedMs !== undefined) return Math.min(tuning.maxDelayMs, askedMs);
  const backoff = Math.min(tuning.maxDelayMs, tuning.baseDelayMs * 2 ** (retry - 1));
  return Math.round(backoff / 2 + random() * (backoff / 2));
}

/** What `onWait` is told: `waiting 30s before retrying GET https://host/v2/… (HTTP 429, Retry-After; attempt 2 of 5)`. */
export function waitNotice(options: { delayMs: number; method: string; url: string; reason: string; attempt: number; attempts: number }): string {
  return `waiting ${formatWait(options.delayMs)} before retrying ${options.method} ${options.url} (${options.reason}; attempt ${options.attempt} of ${options.attempts})`;
}

/** `30s`, `1m30s`, `2m`. */
export function formatWait(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const rest = seconds % 60;
  return `${Math.floor(seconds / 60)}m${rest === 0 ? '' : `${rest}s`}`;
}
