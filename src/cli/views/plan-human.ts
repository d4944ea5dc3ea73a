/**
 * The human view of a plan (design §5.7): grouped by repo, `+` push (tag, digest, why, what it carries), `-` delete,
 * `~` skip, `=` kept with the rules that kept it (an unchanged bundle is kept by "bundle unchanged"), and a
 * closing `Plan: N to push, N to delete, N kept, N skipped.` line.
 */
import { describeShards } from '../../plan/shard.ts';
import type { Action, Kept, Plan, PlanSkippedEntry, PushAction, ReclaimEstimate } from '../../plan/types.ts';

/** Shortens a digest for display: `sha256:0123456789ab`. */
export const shortDigest = (digest: string): string => digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1');

/** Options of the human view. */
export interface HumanPlanOptions {
  color: boolean;
  /** List kept tags too (default true); `--compact` hides them. */
  showKept?: boolean;
}

/**
 * Orders tags as people count (pr-2 before pr-10): runs of digits compare as numbers, the rest by code point, so
 * the order is the same on every machine and locale. For display only: the plan file keeps its own order.
 */
export function naturalCompare(a: string, b: string): number {
  const chunks = (text: string) => text.match(/\d+|\D+/g) ?? [];
  const left = chunks(a);
  const right = chunks(b);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i] as string;
    const y = right[i] as string;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      // Numbers of any length: fewer significant digits is smaller; equal length compares digit by digit.
      const [m, n] = [x.replace(/^0+/, ''), y.replace(/^0+/, '')];
      if (m.length !== n.length) return m.length - n.length;
      if (m !== n) return m < n ? -1 : 1;
    }
    return x < y ? -1 : 1; // equal numbers with different leading zeros fall back to the text
  }
  return left.length - right.length;
}

/** Sorts entries by their tag for display (entries without a tag, such as untagged manifests, last and in plan order). */
const byTag = <T>(items: readonly T[], tagOf: (item: T) => string | undefined): T[] =>
  [...items].sort((x, y) => {
    const a = tagOf(x);
    const b = tagOf(y);
    if (a === undefined || b === undefined) return (a === undefined ? 1 : 0) - (b === undefined ? 1 : 0);
    return naturalCompare(a, b);
  });

const paint = (on: boolean, code: number, text: string): string => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

/** Renders the plan for a terminal or a log. */
export function renderPlanHuman(plan: Plan, options: HumanPlanOptions): string {
  const showKept = options.showKept ?? true;
  const repos = new Map<string, { actions: Action[]; kept: Kept[]; skipped: PlanSkippedEntry[] }>();
  const group = (repo: string) => {
    let entry = repos.get(repo);
    if (!entry) repos.set(repo, (entry = { actions: [], kept: [], skipped: [] }));
    return entry;
  };
  for (const action of plan.actions) group(action.repo).actions.push(action);
  for (const kept of plan.kept) group(kept.repo).kept.push(kept);
  for (const skipped of plan.skipped) group(skipped.repo).skipped.push(skipped);
  for (const note of plan.notes ?? []) group(note.repo);

  const lines: string[] = [];
  const shard = shardLine(plan);
  if (shard !== undefined) lines.push(paint(options.color, 1, shard), '');
  lines.push(...expansionLines(plan));
  for (const [repo, entry] of [...repos].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const reclaim = (plan.reclaimable ?? []).find((r) => r.repo === repo);
    lines.push(paint(options.color, 1, repo) + (reclaim === undefined ? '' : `  (${reclaimText(reclaim)})`));
    for (const note of (plan.notes ?? []).filter((n) => n.repo === repo)) lines.push(`  ${paint(options.color, 33, `! note: ${note.message}`)}`);
    const actions = byTag(entry.actions, (a) => a.tag);
    for (const action of actions.filter((a) => a.type === 'push')) {
      const what = pushDetails(action);
      lines.push(`  ${paint(options.color, 32, `+ ${action.tag}`)}  ${shortDigest(action.digest)}  ${action.reason}${what ? `  [${what}]` : ''}`);
    }
    for (const action of actions) {
      if (action.type !== 'delete') continue;
      const what = action.tag ?? `(untagged ${shortDigest(action.digest)})`;
      const mode = action.mode !== 'untag' ? '' : action.via === 'placeholder' ? ' [untag (placeholder)]' : ' [untag only]';
      lines.push(`  ${paint(options.color, 31, `- ${what}`)}  ${action.tag ? shortDigest(action.digest) : ''}${mode}  ${action.reason}`.replace(/ {3,}/, '  '));
    }
    for (const skipped of byTag(entry.skipped, (k) => k.tag)) {
      if ('kind' in skipped) {
        // An invalid name from the registry: shown only in its quoted, escaped form (never raw on a terminal).
        const what = skipped.tag === undefined ? skipped.name : `${skipped.tag}  ${skipped.name}`;
        lines.push(`  ${paint(options.color, 33, `~ ${what}`)}  skipped: ${skipped.reason}`);
        continue;
      }
      const digest = skipped.digest === undefined ? '' : `  ${shortDigest(skipped.digest)}`;
      lines.push(`  ${paint(options.color, 33, `~ ${skipped.tag}`)}${digest}  skipped: ${skipped.reason}`);
    }
    if (showKept) {
      for (const kept of byTag(entry.kept, (k) => k.tag)) {
        lines.push(`  ${paint(options.color, 2, `= ${kept.tag}`)}  ${shortDigest(kept.digest)}  kept by: ${kept.rules.join('; ')}`);
      }
    }
    lines.push('');
  }
  const total = reclaimTotalLine(plan);
  if (total !== undefined) lines.push(total);
  lines.push(planSummaryLine(plan));
  return lines.join('\n') + '\n';
}

/** `frees up to 1.2 GiB (14 manifests)`, `at least …` when some manifests were not read. */
export function reclaimText(estimate: ReclaimEstimate): string {
  const unread = estimate.unknownManifests === undefined ? '' : `, ${estimate.unknownManifests} of them not read: at least that much`;
  return `frees up to ${formatBytes(estimate.bytes)} once the registry collects garbage (${estimate.manifests} manifest${estimate.manifests === 1 ? '' : 's'}${unread})`;
}

/** The plan's reclaimable total, or undefined when it deletes no manifest. */
export function reclaimTotalLine(plan: Pick<Plan, 'reclaimable'>): string | undefined {
  const all = plan.reclaimable ?? [];
  if (all.length === 0) return undefined;
  const bytes = all.reduce((sum, r) => sum + r.bytes, 0);
  const unread = all.reduce((sum, r) => sum + (r.unknownManifests ?? 0), 0);
  return `Reclaimable: up to ${formatBytes(bytes)} in ${all.length} repo${all.length === 1 ? '' : 's'} (an estimate: shared layers counted once, kept ones not${unread === 0 ? '' : `; ${unread} manifests not read`}).`;
}

/**
 * Each repo pattern and what it expanded to, before the repos: `pattern ghcr.io/acme/* -> 2 repos: …`, then what
 * an exclude removed, what another entry took, and names skipped as invalid (quoted). Shared by the markdown view.
 */
export function expansionLines(plan: Pick<Plan, 'expansions'>): string[] {
  const lines: string[] = [];
  for (const expansion of plan.expansions ?? []) {
    const count = `${expansion.repos.length} repo${expansion.repos.length === 1 ? '' : 's'}`;
    lines.push(`pattern ${expansion.pattern} -> ${count}: ${expansion.repos.join(', ')}`);
    for (const { repo, by } of expansion.excluded ?? []) lines.push(`  excluded ${repo} (by ${by})`);
    for (const { repo, by } of expansion.shadowed ?? []) lines.push(`  left to ${by}: ${repo}`);
    for (const name of expansion.rejected ?? []) lines.push(`  skipped ${name}: invalid repository name from registry`);
  }
  if (lines.length > 0) lines.push('');
  return lines;
}

/** What a push carries, in words: `chart, 2 blobs, 3.1 KiB` (empty when the plan does not say). */
export function pushDetails(action: PushAction): string {
  const parts: string[] = [];
  if (action.source !== undefined) parts.push(action.artifactType === undefined ? action.source : `${action.source} ${action.artifactType}`);
  if (action.manifests) parts.push(`${action.manifests} manifest${action.manifests === 1 ? '' : 's'}`);
  if (action.blobs !== undefined) parts.push(`${action.blobs} blob${action.blobs === 1 ? '' : 's'}`);
  if (action.size !== undefined) parts.push(formatBytes(action.size));
  return parts.join(', ');
}

/** Bytes for people: `812 B`, `3.1 KiB`, `200.0 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * What part of a sharded run the plan covers, for every view: `shard 2/4: 3 of 12 repos`; an empty shard and a
 * partial merge say so. Undefined for a plan of every selected repo.
 */
export function shardLine(plan: Plan): string | undefined {
  const shard = plan.shard;
  if (shard === undefined) return undefined;
  const counted = `${describeShards(shard)}: ${shard.repos.length} of ${shard.selectedRepos} repo${shard.selectedRepos === 1 ? '' : 's'}`;
  const missing = Array.from({ length: shard.total }, (_, i) => i + 1).filter((index) => !shard.indexes.includes(index));
  if (missing.length > 0 && shard.indexes.length > 1) return `${counted} (${describeShards({ indexes: missing, total: shard.total })} missing: this is not the whole config)`;
  if (shard.repos.length === 0) return `${counted} (no repo falls in this shard: the plan is empty)`;
  return counted;
}

/** The closing line every view shares. */
export function planSummaryLine(plan: Plan): string {
  const { push, delete: del, kept, skipped } = plan.summary;
  if (push === 0 && del === 0) return `No changes. ${kept} kept, ${skipped} skipped.`;
  return `Plan: ${push} to push, ${del} to delete, ${kept} kept, ${skipped} skipped.`;
}
