/**
 * `groupBy` for keep rules: splits a repo's tags into groups by what an RE2 pattern captures (`^pr-(\d+)-` puts
 * `pr-12-abc` and `pr-12-def` in group "12"), so `newest` and `pushedWithin` judge each group on its own. Tags the
 * pattern does not match belong to no group and are not kept by a grouped rule (other rules still judge them).
 */
import { compileTagPattern } from '../../config/pattern.ts';
import type { TagRecord } from '../../model/inventory.ts';

/** Sort key for push times: unknown (or unparsable) sorts as +Infinity, i.e. newest (unknown is treated as new). */
export function pushTime(pushedAt: string | undefined): number {
  if (pushedAt === undefined) return Number.POSITIVE_INFINITY;
  const time = Date.parse(pushedAt);
  return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
}

/** Group name -> its tags (in input order); `where` names the rule in a pattern error. */
export function groupTags(records: readonly TagRecord[], groupBy: string, where: string): Map<string, TagRecord[]> {
  const pattern = compileTagPattern(groupBy, `the groupBy of ${where}`);
  const groups = new Map<string, TagRecord[]>();
  for (const record of records) {
    const group = pattern.groupOf(record.tag);
    if (group === undefined) continue;
    const members = groups.get(group);
    if (members === undefined) groups.set(group, [record]);
    else members.push(record);
  }
  return groups;
}

/** A grouped rule's label: `newest 2 in group "12" of ^pr-(\d+)-`. */
export const groupLabel = (label: string, group: string, groupBy: string): string => `${label} in group ${JSON.stringify(group)} of ${groupBy}`;
