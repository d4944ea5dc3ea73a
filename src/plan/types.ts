/**
 * The data of cleanup planning: what the evaluator consumes (a repo's inventory, facts gathered for rules that
 * need I/O) and what it produces (the Plan file, design §5.6). Everything here is plain JSON-able data, so a plan
 * can be saved, reviewed and applied later; schema/plan.schema.json describes the Plan.
 */
import type { RegistryType } from '../config/types.ts';
import type { ManifestFacts, RepoInventory, SkippedName, TagRecord, UntaggedRecord } from '../model/inventory.ts';

/** What a git repository said at plan time: live branch and tag names, and the newest commits. */
export interface GitFacts {
  /** Local branches and `origin/*` remote branches (without the `origin/` prefix), sorted, unique. */
  branches: string[];
  tags: string[];
  /** Full SHAs, newest first (`git rev-list HEAD`), as many as the largest `commits:` asking for this repo. */
  commits: string[];
}

/**
 * Facts for keep rules that need I/O, gathered before evaluation (plan/facts.ts) so evaluation stays pure.
 * Keys are exactly the strings written in the rules (`gitRefs.repo`, `listed` file). A rule whose facts are
 * missing makes evaluation fail: refusing to plan beats deleting because the facts were not there.
 */
export interface PolicyFacts {
  git: Record<string, GitFacts>;
  /** The raw lines of each keep-list file (entries `tag`, `repo:tag`, `sha256:…`, `repo@sha256:…`; `#` comments). */
  listed: Record<string, string[]>;
  /** Images running workloads reference, per `inUse` source (key: plan/in-use `inUseKey`). */
  inUse?: Record<string, InUseImage[]>;
}

/** An image reference a workload uses, and which workload (for the kept tag's label). */
export interface InUseImage {
  /** As the workload wrote it: `nginx`, `ghcr.io/acme/api:v1`, `…@sha256:…`. */
  image: string;
  /** `Deployment shop/api`, `CronJob jobs/nightly`, `running-images.txt:12`. */
  by: string;
}

/** A deletion. `tag` is absent for an untagged manifest; `digest` is what apply re-checks before deleting. */
export interface DeleteAction {
  type: 'delete';
  repo: string;
  tag?: string;
  digest: string;
  /** `manifest`: delete the digest (every tag on it goes); `untag`: remove only this tag, the manifest stays. */
  mode: 'manifest' | 'untag';
  /**
   * `placeholder` (untag only): the registry cannot delete a tag alone, so apply pushes a unique placeholder manifest
   * to the tag and deletes that by digest (src/apply/placeholder-untag.ts); the shared manifest stays.
   */
  via?: 'placeholder';
  /** Why no rule kept it, in words. */
  reason: string;
  pushedAt?: string;
  /**
   * Set when several deleted tags share one manifest: the tag whose manifest delete removes this one too. Apply
   * may treat the action like any manifest delete: once the first is done this tag resolves to 404 = done.
   */
  coveredBy?: string;
}

/**
 * A bundle push: the packaged manifest `digest` goes onto `tag`. Apply packages the bundle again and pushes only
 * when it still has this digest and the tag still points where it did at plan time (`previous`, absent = no tag).
 */
export interface PushAction {
  type: 'push';
  repo: string;
  tag: string;
  digest: string;
  /** `new tag`, or `tag moves from sha256:…`. */
  reason: string;
  /** What the bundle is built from (design §4). */
  source?: 'chart' | 'files' | 'image';
  /** Media type of the pushed manifest or index, and the artifact type when it has one. */
  mediaType?: string;
  artifactType?: string;
  /** The digest the tag pointed at when planned; absent when the tag did not exist. */
  previous?: string;
  /** Configs and layers (each once), their total bytes, and child manifests of an index. */
  blobs?: number;
  size?: number;
  manifests?: number;
}

/** One thing apply will do. */
export type Action = DeleteAction | PushAction;

/** A tag the plan keeps, with every rule or reason that kept it. */
export interface Kept {
  repo: string;
  tag: string;
  digest: string;
  rules: string[];
}

/** A candidate the plan cannot delete safely (its manifest is shared with kept content and the registry cannot untag). */
export interface Skipped {
  repo: string;
  tag: string;
  digest: string;
  reason: string;
}

/**
 * A bundle push the plan leaves out and why: the registry cannot store OCI artifacts, or rejects the bundle's
 * artifactType. It is refused before the bundle is packaged, so there is no digest.
 */
export interface SkippedPush {
  repo: string;
  tag: string;
  digest?: string;
  reason: string;
}

/** A skipped entry an evaluator decides (cleanup or bundles). */
export type SkippedEntry = Skipped | SkippedPush;

/** Why a listed name is skipped: it fails the distribution grammar, so regplan never puts it in a URL. */
export const INVALID_TAG_REASON = 'invalid tag name from registry';
/** Why a listed digest is skipped (a tag's target or an untagged manifest). */
export const INVALID_DIGEST_REASON = 'invalid digest from registry';

/** One `skipped[]` entry of a plan. */
export type PlanSkippedEntry = SkippedEntry | SkippedName;

/** Counts for the closing `Plan: N to push, N to delete, N kept, N skipped.` line. */
export interface PlanSummary {
  push: number;
  delete: number;
  kept: number;
  skipped: number;
}

/** What a repo's deletions could free (plan/reclaim.ts): an estimate, a lower bound when `unknownManifests` is set. */
export interface ReclaimEstimate {
  repo: string;
  /** Bytes of the manifests deleted and of the blobs only they reference (shared layers counted once, kept ones not). */
  bytes: number;
  /** Manifests that go (deleted ones and their index children no survivor holds). */
  manifests: number;
  /** Of those, how many the inventory did not read (no sizes known): the bytes leave them out. */
  unknownManifests?: number;
}

/** Something the plan cannot do for a repo that its config asks for (e.g. `untagged: delete` where untagged manifests cannot be listed). */
export interface PlanNote {
  repo: string;
  message: string;
}

/**
 * Which part of a sharded run a plan covers (plan/shard.ts): absent on a plan of the whole selection. A plan of
 * `--shard 2/4` has `indexes: [2]`; a merge of some shards (`--merge --allow-partial`) lists each one it holds.
 */
export interface PlanShard {
  /** The shards this plan covers, 1-based, ascending. */
  indexes: number[];
  /** N: how many shards the selection was split into. */
  total: number;
  /** Display addresses of the repos this plan covers, sorted (a repo with nothing to report is listed too). */
  repos: string[];
  /** How many repos the whole selection (all N shards together) has. */
  selectedRepos: number;
}

/**
 * What one repo pattern (`ghcr.io/acme/*`) expanded to at plan time (plan/expand-repos.ts). Apply acts on exactly
 * these repos and never lists the registry again: a repo created after the plan is not touched.
 */
export interface RepoExpansion {
  /** The pattern as written in the config. */
  pattern: string;
  /** The repos the plan covers for it, as addresses (sorted). */
  repos: string[];
  /** Matches an `exclude:` entry removed (`by` = that entry as written). */
  excluded?: { repo: string; by: string }[];
  /** Matches left to another entry: the repo's own entry, or an earlier pattern (`by`). */
  shadowed?: { repo: string; by: string }[];
  /** Names the registry listed that match the pattern but fail the repository grammar (quoted); never requested. */
  rejected?: string[];
}

/** The plan file (formatVersion 1). */
export interface Plan {
  formatVersion: 1;
  regplanVersion: string;
  /** ISO 8601 time the plan was made. */
  createdAt: string;
  /** Digest of the normalized config; apply refuses the plan when it changed. */
  configDigest: string;
  /** Present when the plan covers only some shards of the selection. */
  shard?: PlanShard;
  actions: Action[];
  kept: Kept[];
  skipped: PlanSkippedEntry[];
  /** What the config asks for that this plan cannot do; absent when there is nothing to say. */
  notes?: PlanNote[];
  /** What each repo pattern expanded to; absent when the config has no patterns. */
  expansions?: RepoExpansion[];
  /** Per repo with manifest deletes: the bytes they could free (an estimate; absent when nothing is deleted). */
  reclaimable?: ReclaimEstimate[];
  summary: PlanSummary;
}

/** The part of a plan the cleanup evaluator decides (its skipped entries always have a digest). */
export type CleanupDecision = Pick<Plan, 'actions' | 'kept'> & { skipped: Skipped[]; notes?: PlanNote[] };
