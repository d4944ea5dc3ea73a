/**
 * `semver: { latestPerMinor, latestPerMajor, latestMajors, prerelease }` keeps release tags by version, using the
 * `semver` package for parsing and precedence.
 * - A tag counts when it is `MAJOR.MINOR.PATCH[-PRERELEASE]`, optionally with a leading `v` (`v1.2.3`, `1.2.3`).
 *   Anything else (`1.2`, `v1`, `latest`) is ignored by this rule.
 * - `prerelease: false`: prereleases are never kept by this rule (and do not take a slot).
 * - `latestMajors: N`: only the N highest majors are considered; older majors are not kept by this rule.
 * - `latestPerMinor: N`: within each major.minor, the N highest versions; `latestPerMajor: N`: within each major,
 *   the N highest. Both given: a tag is kept when either keeps it. Neither given: every considered version.
 * "Highest" is semver precedence, not push time. Tags naming the same version (`v1.2.3`, `1.2.3`) share one slot.
 */
import * as semver from 'semver';
import type { RuleInput, RuleVerdicts } from './rule.ts';

const VERSION_TAG = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

/** The semver keep rule as the normalized config has it. */
export interface SemverRule {
  latestPerMinor?: number;
  latestPerMajor?: number;
  latestMajors?: number;
  prerelease: boolean;
}

interface Versioned {
  tag: string;
  version: semver.SemVer;
}

/** The N highest distinct versions among `entries` (semver precedence). */
function highestVersions(entries: readonly Versioned[], count: number): Set<string> {
  const distinct = [...new Set(entries.map((e) => e.version.version))].sort(semver.rcompare);
  return new Set(distinct.slice(0, Math.max(0, count)));
}

/** Keeps, per group (by `groupKey`), the tags whose version is among the group's `count` highest. */
function keepPerGroup(entries: readonly Versioned[], count: number, groupKey: (v: semver.SemVer) => string): Set<string> {
  const groups = new Map<string, Versioned[]>();
  for (const entry of entries) {
    const key = groupKey(entry.version);
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  const kept = new Set<string>();
  for (const group of groups.values()) {
    const top = highestVersions(group, count);
    for (const entry of group) if (top.has(entry.version.version)) kept.add(entry.tag);
  }
  return kept;
}

/** Parses a tag as a release version, or undefined when this rule ignores it. */
export function parseVersionTag(tag: string): semver.SemVer | undefined {
  if (!VERSION_TAG.test(tag)) return undefined;
  return semver.parse(tag) ?? undefined;
}

/** Keeps tags by semantic version; labels like `semver latestPerMinor 2 (latestMajors 3)`. */
export function keepSemverTags(rule: SemverRule, input: RuleInput): RuleVerdicts {
  let entries: Versioned[] = [];
  for (const record of input.tags) {
    const version = parseVersionTag(record.tag);
    if (version === undefined) continue;
    if (!rule.prerelease && version.prerelease.length > 0) continue;
    entries.push({ tag: record.tag, version });
  }
  if (rule.latestMajors !== undefined) {
    const majors = [...new Set(entries.map((e) => e.version.major))].sort((a, b) => b - a).slice(0, Math.max(0, rule.latestMajors));
    entries = entries.filter((e) => majors.includes(e.version.major));
  }
  const suffix = rule.latestMajors === undefined ? '' : ` (latestMajors ${rule.latestMajors})`;
  const parts: { name: string; tags: Set<string> }[] = [];
  if (rule.latestPerMinor !== undefined) {
    parts.push({ name: `latestPerMinor ${rule.latestPerMinor}`, tags: keepPerGroup(entries, rule.latestPerMinor, (v) => `${v.major}.${v.minor}`) });
  }
  if (rule.latestPerMajor !== undefined) {
    parts.push({ name: `latestPerMajor ${rule.latestPerMajor}`, tags: keepPerGroup(entries, rule.latestPerMajor, (v) => `${v.major}`) });
  }
  const kept: RuleVerdicts = new Map();
  for (const entry of entries) {
    if (parts.length === 0) {
      kept.set(entry.tag, rule.latestMajors === undefined ? 'semver' : `semver latestMajors ${rule.latestMajors}`);
      continue;
    }
    const names = parts.filter((part) => part.tags.has(entry.tag)).map((part) => part.name);
    if (names.length > 0) kept.set(entry.tag, `semver ${names.join(' + ')}${suffix}`);
  }
  return kept;
}
