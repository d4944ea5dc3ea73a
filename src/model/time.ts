/**
 * Push times, read once and judged once. Vendors write times in many shapes (RFC 3339 with micro- or nanoseconds,
 * epoch seconds, epoch milliseconds, SDK `Date`s); `parseTime` turns any of them into ISO 8601 or undefined.
 * `plausiblePushTime` is the safety rule inventory applies to every time, whatever its source: a time before
 * 2000-01-01 (zeroed by reproducible builds: SOURCE_DATE_EPOCH=0, ko, Bazel rules_oci, Nix give 1970-01-01 or
 * 0001-01-01) or more than a day in the future is not a push time, so it becomes unknown — and an unknown push
 * time keeps the tag (the evaluator never deletes by an age it does not know).
 */

/** Times before this are placeholders of reproducible builds, not push times. */
export const EARLIEST_PUSH_TIME = Date.parse('2000-01-01T00:00:00Z');
/** Clock skew tolerated for times in the future. */
export const FUTURE_TOLERANCE_MS = 24 * 60 * 60 * 1000;

/** What a vendor hands over as a time. Numbers say their unit. */
export type TimeValue = string | Date | { epochSeconds: number } | { epochMilliseconds: number } | null | undefined;

/**
 * A vendor time as ISO 8601, or undefined when it is absent or does not parse. Fractions finer than milliseconds
 * are cut (Hub, ACR and Selectel send microseconds, Go's zero time carries nanoseconds).
 */
export function parseTime(value: TimeValue | unknown): string | undefined {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string') ms = parseTimeText(value);
  else if (typeof value === 'object' && value !== null && 'epochSeconds' in value) ms = Number((value as { epochSeconds: unknown }).epochSeconds) * 1000;
  else if (typeof value === 'object' && value !== null && 'epochMilliseconds' in value) ms = Number((value as { epochMilliseconds: unknown }).epochMilliseconds);
  else return undefined;
  if (!Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Parses RFC 3339 / ISO 8601 text; a bare number string is not a time (units would be a guess). */
function parseTimeText(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '' || /^-?\d+(\.\d+)?$/.test(trimmed)) return Number.NaN;
  return Date.parse(trimmed.replace(/(\.\d{3})\d+/, '$1'));
}

/**
 * The push time to plan with: `time` when it is plausible for a push (on or after 2000-01-01 and at most a day
 * after `now`), else undefined — unknown, which keeps the tag. Every time reaching the evaluator passes here.
 */
/**
 * A pull time as the `pulledWithin` rule reads it: 'never' stays; a time before 2000-01-01 means never pulled
 * (Harbor reports Go's zero time, 0001-01-01, for "never"); a time in the future counts as now (recent, kept);
 * anything unparsable is unknown (undefined), which keeps the tag.
 */
export function judgePullTime(value: string | undefined, now: number): string | undefined {
  if (value === undefined || value === 'never') return value;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  if (ms < EARLIEST_PUSH_TIME) return 'never';
  return new Date(Math.min(ms, now)).toISOString();
}

export function plausiblePushTime(time: string | undefined, now: number): string | undefined {
  if (time === undefined) return undefined;
  const ms = Date.parse(time);
  if (Number.isNaN(ms) || ms < EARLIEST_PUSH_TIME || ms > now + FUTURE_TOLERANCE_MS) return undefined;
  return new Date(ms).toISOString();
}
