/**
 * The relationships inside one repo that cleanup must respect, computed once from an inventory: which tags share
 * a manifest, which manifests are index children, and which tags and manifests are referrers that follow a
 * subject (design §5.3–§5.4). Pure; evaluate.ts and protection.ts read it.
 */
import { RegplanError } from '../errors.ts';
import { referrerKind, referrerTagSubject } from './referrers.ts';
import type { RepoInventory, TagRecord } from '../model/inventory.ts';

/**
 * What a referrer follows: its subject digest and the kind of artifact, in words. `all` lists every present
 * subject it names (its manifest's `subject` and, for a cosign-style tag, the digest in its name); they differ
 * only in inconsistent data, and then the referrer stays only while all of them stay.
 */
export interface Subject {
  subject: string;
  kind: string;
  all: string[];
}

/** A manifest without a tag. `listed`: the driver listed it (deletable); false: only known from manifest facts. */
export interface UntaggedEntry {
  digest: string;
  pushedAt?: string;
  listed: boolean;
}

/** One repo's content relationships. */
export interface ContentGraph {
  /** Tags sorted by name (names are unique). */
  tags: TagRecord[];
  /** Digest -> its tags, sorted by name. */
  tagsByDigest: Map<string, TagRecord[]>;
  /** Manifests with no tag, sorted by digest: listed untagged ones, then others the manifest facts name. */
  untagged: UntaggedEntry[];
  /** Every digest known to exist: tag targets, untagged, manifests read, index children. */
  present: Set<string>;
  /** Every digest that is a child of some index in the repo. */
  indexChildren: Set<string>;
  /** Referrer tags whose subject is present: tag -> subject. */
  tagSubjects: Map<string, Subject>;
  /** Untagged referrer manifests whose subject is present: digest -> subject. */
  untaggedSubjects: Map<string, Subject>;
  /** The children of a manifest (empty when unknown or not an index). */
  childrenOf(digest: string): readonly string[];
  /** The present subjects a manifest refers to, through its `subject` field or the names of its tags. */
  subjectsOf(digest: string): readonly string[];
}

const byName = (a: TagRecord, b: TagRecord): number => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0);

/** The newer of two push times; an unknown or unparsable one counts as newest. */
function newerTime(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return undefined;
  const [ta, tb] = [Date.parse(a), Date.parse(b)];
  if (Number.isNaN(ta)) return a;
  if (Number.isNaN(tb)) return b;
  return tb > ta ? b : a;
}

/** Builds the graph; an inventory listing one tag twice refuses the plan (it cannot be evaluated safely). */
export function buildContentGraph(inventory: RepoInventory): ContentGraph {
  const tags = [...inventory.tags].sort(byName);
  for (let i = 1; i < tags.length; i++) {
    if (tags[i]?.tag === tags[i - 1]?.tag) {
      throw new RegplanError(`the inventory of "${inventory.repo}" lists tag "${tags[i]?.tag}" twice`, {
        hint: 'this is a bug in the registry listing or driver; re-run the plan, and report it if it persists',
        context: { repo: inventory.repo },
      });
    }
  }
  const tagsByDigest = new Map<string, TagRecord[]>();
  for (const record of tags) tagsByDigest.set(record.digest, [...(tagsByDigest.get(record.digest) ?? []), record]);

  const manifests = inventory.manifests;
  const indexChildren = new Set<string>();
  for (const facts of Object.values(manifests)) for (const child of facts.children) indexChildren.add(child);

  // An untagged manifest listed twice counts with its newest time (unknown is newest): the safe reading.
  const listedTimes = new Map<string, string | undefined>();
  for (const record of inventory.untagged) {
    if (tagsByDigest.has(record.digest)) continue;
    listedTimes.set(record.digest, listedTimes.has(record.digest) ? newerTime(listedTimes.get(record.digest), record.pushedAt) : record.pushedAt);
  }
  const listed = new Map<string, UntaggedEntry>();
  for (const [digest, pushedAt] of [...listedTimes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    listed.set(digest, { digest, listed: true, ...(pushedAt === undefined ? {} : { pushedAt }) });
  }
  const untracked = Object.keys(manifests)
    .filter((digest) => !tagsByDigest.has(digest) && !listed.has(digest))
    .sort()
    .map((digest): UntaggedEntry => ({ digest, listed: false }));
  const untagged = [...listed.values(), ...untracked];

  const present = new Set<string>([...tagsByDigest.keys(), ...listed.keys(), ...Object.keys(manifests), ...indexChildren]);
  const manifestSubject = (digest: string): string | undefined => {
    const subject = manifests[digest]?.subject;
    return subject !== undefined && subject !== digest && present.has(subject) ? subject : undefined;
  };

  const tagSubjects = new Map<string, Subject>();
  for (const record of tags) {
    const named = referrerTagSubject(record.tag);
    const fromManifest = manifestSubject(record.digest);
    const facts = manifests[record.digest];
    const fromName = named !== undefined && named.subject !== record.digest && present.has(named.subject) ? named.subject : undefined;
    const all = [...new Set([fromManifest, fromName].filter((d): d is string => d !== undefined))];
    if (fromManifest !== undefined && facts !== undefined) {
      tagSubjects.set(record.tag, { subject: fromManifest, kind: named?.kind ?? referrerKind(facts), all });
    } else if (named !== undefined && fromName !== undefined) {
      tagSubjects.set(record.tag, { subject: fromName, kind: named.kind, all });
    }
  }
  const untaggedSubjects = new Map<string, Subject>();
  for (const entry of untagged) {
    const subject = manifestSubject(entry.digest);
    const facts = manifests[entry.digest];
    if (subject !== undefined && facts !== undefined) untaggedSubjects.set(entry.digest, { subject, kind: referrerKind(facts), all: [subject] });
  }

  const subjectsByDigest = new Map<string, string[]>();
  const addSubject = (digest: string, subject: string) => {
    const list = subjectsByDigest.get(digest) ?? [];
    if (!list.includes(subject)) subjectsByDigest.set(digest, [...list, subject].sort());
  };
  for (const digest of present) {
    const subject = manifestSubject(digest);
    if (subject !== undefined) addSubject(digest, subject);
  }
  for (const record of tags) {
    const named = referrerTagSubject(record.tag);
    if (named !== undefined && named.subject !== record.digest && present.has(named.subject)) addSubject(record.digest, named.subject);
  }

  return {
    tags,
    tagsByDigest,
    untagged,
    present,
    indexChildren,
    tagSubjects,
    untaggedSubjects,
    childrenOf: (digest) => manifests[digest]?.children ?? [],
    subjectsOf: (digest) => subjectsByDigest.get(digest) ?? [],
  };
}
