/**
 * A naive, separately written model of cleanup evaluation (design §5 and the rules in src/plan/evaluate.ts's file
 * comment), used by the property tests as an oracle. It shares no code with src/plan: it recomputes everything
 * with plain loops over the whole repo until nothing changes, and it only reports sets (no labels, no order).
 * It understands the keep-list lines the property generator writes: `tag`, `repo:tag` and `sha256:<hex>`.
 */
import * as semver from 'semver';
import type { KeepRule, Policy } from '../../src/config/types.ts';
import type { PolicyFacts } from '../../src/plan/types.ts';
import type { RepoInventory } from '../../src/model/inventory.ts';

/** What the model decides for one repo, as sorted sets. */
export interface ModelOutcome {
  kept: string[];
  manifestDeleted: string[];
  untagged: string[];
  skipped: string[];
  untaggedDeleted: string[];
}

type T = { tag: string; digest: string; pushedAt?: string; pulled?: string };

/** Tags by group key: the captures of `pattern` joined by "/", or the whole match when it captures nothing. */
function groupsOf(tags: T[], pattern: string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const t of tags) {
    const m = new RegExp(pattern).exec(t.tag);
    if (m === null) continue;
    const key = m.length > 1 ? m.slice(1).map((g) => g ?? '').join('/') : m[0];
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return groups;
}

function ruleKeeps(rule: KeepRule, judged: T[], repo: string, facts: PolicyFacts, now: number): Set<string> {
  const out = new Set<string>();
  if (rule.kind === 'tags') {
    for (const t of judged) if (new RegExp(rule.pattern).test(t.tag)) out.add(t.tag);
  } else if (rule.kind === 'pushedWithin' && rule.groupBy !== undefined) {
    // a group whose any member is recent or of unknown time keeps all its members
    const groups = groupsOf(judged, rule.groupBy);
    for (const members of groups.values()) {
      const recent = members.some((t) => {
        const when = t.pushedAt === undefined ? NaN : Date.parse(t.pushedAt);
        return Number.isNaN(when) || now - when <= rule.durationMs;
      });
      if (recent) for (const t of members) out.add(t.tag);
    }
  } else if (rule.kind === 'pushedWithin') {
    for (const t of judged) {
      const when = t.pushedAt === undefined ? NaN : Date.parse(t.pushedAt);
      if (!Number.isNaN(when) && now - when <= rule.durationMs) out.add(t.tag);
    }
  } else if (rule.kind === 'pulledWithin') {
    // kept: pulled within the window, or no usable pull time at all; not kept: 'never', or pulled too long ago
    for (const t of judged) {
      if (t.pulled === 'never') continue;
      const when = t.pulled === undefined ? NaN : Date.parse(t.pulled);
      if (Number.isNaN(when) || now - when <= rule.durationMs) out.add(t.tag);
    }
  } else if (rule.kind === 'newest' && rule.groupBy !== undefined) {
    const pool = judged.filter((t) => !/^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$/.test(t.tag) && (rule.tags === undefined || new RegExp(rule.tags).test(t.tag)));
    for (const members of groupsOf(pool, rule.groupBy).values()) {
      for (const tag of ruleKeeps({ kind: 'newest', count: rule.count }, members, repo, facts, now)) out.add(tag);
    }
  } else if (rule.kind === 'newest') {
    const pool = judged.filter((t) => !/^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$/.test(t.tag) && (rule.tags === undefined || new RegExp(rule.tags).test(t.tag)));
    const key = (t: T) => {
      const when = t.pushedAt === undefined ? NaN : Date.parse(t.pushedAt);
      return Number.isNaN(when) ? Infinity : when;
    };
    // selection sort: repeatedly take the newest remaining (ties: smallest name)
    const remaining = [...pool];
    for (let i = 0; i < rule.count && remaining.length > 0; i++) {
      let best = 0;
      for (let j = 1; j < remaining.length; j++) {
        const a = remaining[j] as T;
        const b = remaining[best] as T;
        if (key(a) > key(b) || (key(a) === key(b) && a.tag < b.tag)) best = j;
      }
      out.add((remaining[best] as T).tag);
      remaining.splice(best, 1);
    }
  } else if (rule.kind === 'semver') {
    let versions = judged
      .filter((t) => /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(t.tag) && semver.valid(t.tag) !== null)
      .map((t) => ({ tag: t.tag, v: new semver.SemVer(t.tag) }))
      .filter((x) => rule.prerelease || x.v.prerelease.length === 0);
    if (rule.latestMajors !== undefined) {
      const majors = [...new Set(versions.map((x) => x.v.major))].sort((a, b) => b - a).slice(0, rule.latestMajors);
      versions = versions.filter((x) => majors.includes(x.v.major));
    }
    const within = (n: number, sameGroup: (a: semver.SemVer, b: semver.SemVer) => boolean) => {
      for (const x of versions) {
        const higher = new Set(versions.filter((y) => sameGroup(x.v, y.v) && semver.gt(y.v, x.v)).map((y) => y.v.version));
        if (higher.size < n) out.add(x.tag);
      }
    };
    if (rule.latestPerMinor === undefined && rule.latestPerMajor === undefined) for (const x of versions) out.add(x.tag);
    if (rule.latestPerMinor !== undefined) within(rule.latestPerMinor, (a, b) => a.major === b.major && a.minor === b.minor);
    if (rule.latestPerMajor !== undefined) within(rule.latestPerMajor, (a, b) => a.major === b.major);
  } else if (rule.kind === 'gitRefs') {
    const git = facts.git[rule.repo];
    if (git === undefined) throw new Error('model: no git facts');
    const names = [...(rule.branches ? git.branches : []), ...(rule.tags ? git.tags : [])];
    const forms = new Set<string>();
    for (const name of names) {
      forms.add(name);
      forms.add(name.toLowerCase().replace(/[^a-z0-9]/g, '-').slice(0, 63).replace(/^-+/, '').replace(/-+$/, ''));
      forms.add(name.replace(/[^A-Za-z0-9._-]+/g, '-'));
    }
    const commits = git.commits.slice(0, rule.commits);
    for (const t of judged) {
      if (forms.has(t.tag)) out.add(t.tag);
      const tokens = t.tag.toLowerCase().split(/[-_.]/);
      if (tokens.some((tok) => tok.length >= 7 && tok.length <= 40 && /^[0-9a-f]+$/.test(tok) && commits.some((c) => c.startsWith(tok)))) out.add(t.tag);
    }
  } else if (rule.kind === 'listed') {
    const lines = facts.listed[rule.file];
    if (lines === undefined) throw new Error('model: no keep-list');
    for (const raw of lines) {
      const line = raw.split('#')[0]?.trim() ?? '';
      if (line === '') continue;
      for (const t of judged) {
        if (line === t.tag || line === `${repo}:${t.tag}` || line === t.digest) out.add(t.tag);
      }
    }
  } else if (rule.kind === 'inUse') {
    const images = facts.inUse?.[JSON.stringify(rule.source)];
    if (images === undefined) throw new Error('model: no inUse facts');
    for (const { image } of images) {
      // repo[:tag][@digest]; a bare repo means :latest; the host part compares case-insensitively
      const [named = '', digest] = image.split('@');
      const m = /^(.*?)(?::([^:/]+))?$/.exec(named);
      const name = m?.[1] ?? '';
      const tag = m?.[2] ?? (digest === undefined ? 'latest' : undefined);
      const [host = '', ...rest] = name.split('/');
      if (`${host.toLowerCase()}/${rest.join('/')}` !== repo) continue;
      for (const t of judged) if (t.tag === tag || t.digest === digest) out.add(t.tag);
    }
  }
  return out;
}

/** The model's decision for one repo. */
export function referenceCleanup(inv: RepoInventory, policy: Policy, ctx: { facts: PolicyFacts; now: Date; graceMs: number }): ModelOutcome {
  const now = ctx.now.getTime();
  const tags: T[] = inv.tags;
  const timeOf = (pushedAt: string | undefined) => (pushedAt === undefined ? NaN : Date.parse(pushedAt));
  const known = (pushedAt: string | undefined) => !Number.isNaN(timeOf(pushedAt));
  const fresh = (pushedAt: string | undefined) => known(pushedAt) && now - timeOf(pushedAt) <= ctx.graceMs;
  const allFacts = Object.entries(inv.manifests);
  const exists = (d: string) =>
    tags.some((t) => t.digest === d) || inv.untagged.some((u) => u.digest === d) || allFacts.some(([k, m]) => k === d || m.children.includes(d));
  const childOfSomething = (d: string) => allFacts.some(([, m]) => m.children.includes(d));
  const nameSubject = (t: T): string | undefined => {
    const m = /^sha256-([0-9a-f]{64})(\.(sig|att|sbom))?$/.exec(t.tag);
    const s = m ? `sha256:${m[1]}` : undefined;
    return s !== undefined && s !== t.digest && exists(s) ? s : undefined;
  };
  const manifestSubject = (d: string): string | undefined => {
    const s = inv.manifests[d]?.subject;
    return s !== undefined && s !== d && exists(s) ? s : undefined;
  };
  const tagSubject = (t: T) => manifestSubject(t.digest) ?? nameSubject(t);
  const allTagSubjects = (t: T) => [manifestSubject(t.digest), nameSubject(t)].filter((x): x is string => x !== undefined);
  const digestSubjects = (d: string): string[] => {
    const out: string[] = [];
    const m = manifestSubject(d);
    if (m !== undefined) out.push(m);
    for (const t of tags) if (t.digest === d && nameSubject(t) !== undefined) out.push(nameSubject(t) as string);
    return out;
  };

  // untagged entries: listed ones not on a tag, plus manifests only known from facts
  const entries: { digest: string; pushedAt?: string; listed: boolean }[] = [];
  for (const u of inv.untagged) {
    if (tags.some((t) => t.digest === u.digest) || entries.some((e) => e.digest === u.digest)) continue;
    // listed twice: the newest time counts, unknown being newest
    const times = inv.untagged.filter((x) => x.digest === u.digest).map((x) => x.pushedAt);
    const unknown = times.find((x) => !known(x));
    const newest = times.filter(known).sort((a, b) => timeOf(b) - timeOf(a))[0];
    const pushedAt = times.some((x) => !known(x)) ? unknown : newest;
    entries.push({ digest: u.digest, listed: true, ...(pushedAt === undefined ? {} : { pushedAt }) });
  }
  for (const [d] of allFacts) if (!tags.some((t) => t.digest === d) && !entries.some((e) => e.digest === d)) entries.push({ digest: d, listed: false });

  const judged = tags.filter((t) => tagSubject(t) === undefined);
  const keptByRule = new Set<string>();
  for (const rule of policy.keep) for (const name of ruleKeeps(rule, judged, inv.repo, ctx.facts, now)) keptByRule.add(name);
  const scope = policy.deleteTags === undefined ? undefined : new RegExp(policy.deleteTags);
  const ownKept = (t: T): boolean =>
    tagSubject(t) === undefined
      ? keptByRule.has(t.tag) || (scope !== undefined && !scope.test(t.tag)) || !known(t.pushedAt) || fresh(t.pushedAt)
      : fresh(t.pushedAt);
  const deletable = (e: { digest: string; pushedAt?: string; listed: boolean }) =>
    policy.untagged === 'delete' && inv.driver.listUntagged && e.listed && !childOfSomething(e.digest) && !fresh(e.pushedAt) &&
    (manifestSubject(e.digest) !== undefined || known(e.pushedAt));

  const prot = new Map<string, boolean>(); // digest -> anchor?
  const protect = (d: string, anchor: boolean) => {
    const was = prot.get(d);
    if (was === undefined || (anchor && !was)) {
      prot.set(d, anchor);
      return true;
    }
    return false;
  };
  for (const t of tags) if (ownKept(t)) protect(t.digest, true);
  for (const e of entries) {
    if (manifestSubject(e.digest) !== undefined ? fresh(e.pushedAt) : !deletable(e)) protect(e.digest, true);
  }
  const doomed = (d: string) => !prot.has(d) && (tags.some((t) => t.digest === d) || entries.some((e) => e.digest === d && deletable(e)));
  const following = new Set<string>();
  for (let changed = true; changed;) {
    changed = false;
    for (const [d, anchor] of [...prot]) {
      for (const c of inv.manifests[d]?.children ?? []) if (protect(c, anchor)) changed = true;
      if (anchor) for (const s of digestSubjects(d)) if (protect(s, true)) changed = true;
    }
    for (const t of tags) {
      const s = tagSubject(t);
      if (s !== undefined && !following.has(t.tag) && allTagSubjects(t).every((x) => !doomed(x))) {
        following.add(t.tag);
        protect(t.digest, false);
        changed = true;
      }
    }
    for (const e of entries) {
      const s = manifestSubject(e.digest);
      if (s !== undefined && !prot.has(e.digest) && !doomed(s)) {
        protect(e.digest, false);
        changed = true;
      }
    }
  }

  const keptSelf = (t: T) => ownKept(t) || following.has(t.tag);
  const out: ModelOutcome = { kept: [], manifestDeleted: [], untagged: [], skipped: [], untaggedDeleted: [] };
  for (const t of tags) {
    if (keptSelf(t)) out.kept.push(t.tag);
    else if (!prot.has(t.digest)) out.manifestDeleted.push(t.tag);
    else if (!tags.some((o) => o.digest === t.digest && keptSelf(o)) && tagSubject(t) === undefined) out.kept.push(t.tag);
    else if (inv.driver.untag) out.untagged.push(t.tag);
    else out.skipped.push(t.tag);
  }
  for (const e of entries) if (deletable(e) && !prot.has(e.digest)) out.untaggedDeleted.push(e.digest);
  for (const list of Object.values(out)) list.sort();
  return out;
}
