/**
 * Durations in plan reasons: `grace 2h`, `pushed 30d ago`. Plans are read by people reviewing a merge request,
 * so durations use the same compact units the config accepts (d, h, m, s).
 */

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** Formats a configured duration exactly, in up to all units it needs: 7200000 -> `2h`, 5400000 -> `1h30m`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.floor(ms);
  let text = '';
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return text || `${ms}ms`;
}

/** Formats an age coarsely, in its largest whole unit (floor): 31 hours -> `1d`, 90 minutes -> `1h`. */
export function formatAge(ms: number): string {
  if (ms < 1_000) return '0s';
  for (const [unit, size] of UNITS) {
    if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  }
  return '0s';
}

/** Milliseconds between an ISO time and `now`; undefined when the time is absent or does not parse. */
export function ageMs(pushedAt: string | undefined, now: Date): number | undefined {
  if (pushedAt === undefined) return undefined;
  const time = Date.parse(pushedAt);
  return Number.isNaN(time) ? undefined : now.getTime() - time;
}
