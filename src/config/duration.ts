/** Durations in the config (`grace: 2h`, `pushedWithin: 14d`): a number and a unit, optionally combined (`1d12h`). */

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+[smhdw])+$/;

/** The hint every "duration does not parse" problem carries, so the valid forms are shown in one place. */
export const DURATION_HINT = 'write a number and a unit (s, m, h, d, w): 30m, 2h, 14d, 1w, or combined like 1d12h';

/** Milliseconds in a duration such as `30m`, `2h`, `14d`, `1w` or `1d12h`; undefined when it does not parse. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(/(\d+)([smhdw])/g)) total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  return Number.isSafeInteger(total) ? total : undefined;
}
