/** "Did you mean" suggestions for misspelt keys, policy names and registry types. */

/** Names longer than this get no suggestion: a typo of a long name is rare, and edit distance is quadratic. */
const MAX_SUGGESTED_LENGTH = 64;

/** Candidates looked at per suggestion: a config with more names than this gets no better typo hints from more. */
const MAX_CANDIDATES = 1000;

/**
 * Edit distance (insertions, deletions, substitutions) between two strings, case-insensitive; with `atMost`, any
 * distance above it is returned as `atMost + 1` as soon as every cell of a row exceeds it.
 */
export function editDistance(a: string, b: string, atMost = Number.POSITIVE_INFINITY): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= y.length; j++) {
      const substitution = (previous[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1);
      const cell = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
      current.push(cell);
      if (cell < rowMin) rowMin = cell;
    }
    if (rowMin > atMost) return atMost + 1;
    previous = current;
  }
  return previous[y.length] as number;
}

/**
 * The candidate closest to `input` when it is close enough to be a likely typo; undefined otherwise. Bounded: inputs
 * and candidates over 64 characters, and candidates whose length alone rules them out, are skipped; only the first
 * 1,000 candidates are looked at.
 */
export function closestName(input: string, candidates: readonly string[]): string | undefined {
  if (input.length > MAX_SUGGESTED_LENGTH) return undefined;
  const limit = Math.max(1, Math.min(3, Math.floor(input.length / 3)));
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates.slice(0, MAX_CANDIDATES)) {
    if (name.length > MAX_SUGGESTED_LENGTH || Math.abs(name.length - input.length) > limit) continue;
    const distance = editDistance(input, name, limit);
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}
