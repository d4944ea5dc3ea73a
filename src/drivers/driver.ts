/**
 * The driver interface: what regplan needs from a registry beyond the standard protocol in src/registry.
 * Capabilities are data (design §2, style.md): the plan reads them to decide untag vs. skip, push vs. refuse.
 * Optional abilities are separate interfaces with type guards, so a driver declares only what it has.
 */
import type { RegistryConfig, RegistryType } from '../config/types.ts';
import type { Credential } from '../credentials/types.ts';
import type { RegplanError } from '../errors.ts';
import type { TagRecord } from '../model/inventory.ts';
import type { Descriptor, Manifest } from '../registry/oci.ts';

/** One native credential a driver needs (for deletion through the registry's own API). */
export interface NativeCredentialSpec {
  /** What it is, e.g. "GitHub token with read:packages, delete:packages". */
  description: string;
  /** CLI flag and env var that supply it, e.g. `--repo-github-token` / `REGPLAN_REPO_GITHUB_TOKEN`. */
  flag: string;
  env: string;
  /**
   * Where the value comes from: a regplan flag/env (default), a vendor's standard credential chain, or a CI job's own
   * predefined variable `env` (GitLab's CI_JOB_TOKEN), used when the flag credential is not set (for both, `flag` is empty).
   */
  source?: 'flag' | 'chain' | 'ci';
  /**
   * For a chain: env vars whose presence shows the chain is configured (e.g. AWS_ACCESS_KEY_ID, AWS_PROFILE); for a CI
   * variable: the env vars that show the job runs in that CI (e.g. GITLAB_CI), all of them.
   */
  chainEnv?: readonly string[];
  /** The `registries.<host>.credentials` key that can supply it from the config. */
  configKey?: 'username' | 'password' | 'token';
  /** True when deletion works without it (it only adds detail or speed). */
  optional?: boolean;
}

/** Capabilities that differ for some hosts of one registry type (GitHub: docker.pkg.github.com vs. ghcr.io). */
export interface HostCapabilities {
  /** Which hosts this entry applies to (matched against the host without its port). */
  host: RegExp;
  /** The hosts in words, for tables, e.g. "docker.pkg.github.com". */
  label: string;
  capabilities: Capabilities;
}

/** What a registry can do, as data. */
export interface Capabilities {
  /** Images can be pushed through the Registry API. */
  push: boolean;
  /** OCI artifacts (charts, files) can be stored; when false, `bundlesRefusal` says why. */
  bundles: boolean;
  bundlesRefusal?: string;
  /** A custom `artifactType` is accepted. */
  customArtifactType: boolean;
  /** How cleanup deletes, in words, e.g. "Registry API: DELETE /v2/<name>/manifests/<digest>". */
  cleanupPath: string;
  /** One tag can be removed while other tags keep the manifest. */
  untag: boolean;
  /**
   * Removing the last tag of a manifest deletes the manifest too (ECR, GitLab). Apply reads this: before such an
   * untag it re-checks the repo's tags as it does before a digest delete, so a tag moved onto the manifest since
   * the plan (a rollback re-tag) is never lost with it.
   */
  untagLastDeletesManifest?: boolean;
  /**
   * Where `untag` is false: one tag of a shared manifest can still be removed by pushing a unique placeholder
   * manifest to the tag and deleting the placeholder by digest (src/apply/placeholder-untag.ts). Declared only where
   * a digest delete removes just the tags on that digest and the registry accepts an OCI manifest with the empty
   * config (plain distribution).
   */
  untagByPlaceholder?: boolean;
  /** Manifests without tags can be listed (so `untagged: delete` works). */
  listUntagged: boolean;
  /**
   * How repo discovery lists repositories through the registry's own API, in words (e.g. "GitHub REST: GET
   * /orgs|users/<owner>/packages"); absent when the driver has no native listing (the Registry API catalog, if any).
   * A driver declaring it is a RepositoryLister.
   */
  repositoryListing?: string;
  /**
   * The listing says when each tag was last pulled (TagRecord.pulled), so `pulledWithin` can judge; elsewhere that
   * rule keeps every tag ("pull time unknown").
   */
  pullTimes?: boolean;
  /** Native credentials deletion needs; empty when Docker credentials suffice. */
  nativeCredentials: NativeCredentialSpec[];
  /** Free-form notes shown by `regplan registries` (quirks, limits). */
  notes?: string;
}

/** Everything a driver needs to be built for one registry host. */
export interface DriverContext {
  host: string;
  type: RegistryType;
  registry?: RegistryConfig;
  /** Docker-config credentials for the Registry API (looked up lazily). */
  credentials: () => Promise<Credential | undefined>;
  /** Reads a native credential by its flag/env name (`REGPLAN_REPO_GITHUB_TOKEN`); undefined when not set. */
  nativeSecret: (env: string) => Promise<string | undefined>;
  /** Request debug lines (`--debug`); never receives secrets. */
  debug?: (line: string) => void;
  /** Notices always shown (e.g. a stale lock of a dead process was taken over); never receives secrets. */
  notice?: (line: string) => void;
}

/** The core every driver has: list, resolve, read, delete by digest. `name` is the repo path on the registry. */
export interface Driver {
  readonly type: RegistryType;
  readonly capabilities: Capabilities;
  /** All tag names of a repo (empty when the repo does not exist). */
  listTags(name: string): Promise<string[]>;
  /** The descriptor a tag points at now, or undefined when the tag does not exist. */
  resolveTag(name: string, tag: string): Promise<Descriptor | undefined>;
  /** Deletes a manifest by digest (and with it every tag on it); resolves when it is gone or was already gone. */
  deleteManifest(name: string, digest: string): Promise<void>;
}

/** A driver that can remove a single tag and leave the manifest for other tags. */
export interface Untagger {
  untag(name: string, tag: string): Promise<void>;
}

/** A driver whose native API lists tags with digests and push times in one go (ECR, Hub, GitHub, …). */
export interface DetailedLister {
  listTagRecords(name: string): Promise<TagRecord[]>;
}

/**
 * A driver whose deletions are edits of one local file that it writes together (the OCI layout, whose untag and
 * deleteManifest edit index.json): each deletion still resolves only once a write carrying it is published, and
 * a write carries every deletion asked for meanwhile. Apply asks for a repo's deletions many at a time, not
 * `settings.concurrency` (a limit on requests to a host), so a handful of writes carry them all.
 */
export interface BatchedDeleter {
  readonly batchesDeletes: true;
}

/** A driver that can list manifests with no tag. */
export interface UntaggedLister {
  listUntagged(name: string): Promise<{ digest: string; pushedAt?: string }[]>;
}

/**
 * A driver whose deletions only drop references and leave content behind until collected (the OCI layout):
 * apply calls `collectGarbage` once after its deletions for each repo it deleted from.
 */
export interface GarbageCollector {
  collectGarbage(name: string): Promise<{ removed: string[]; bytesFreed: number }>;
}

/**
 * A driver that can read manifests and image configs, so inventory can learn push times (config `created`) and
 * relationships (index children, referrer subjects) for drivers without a detailed native listing. Both return the
 * exact bytes, verified against the digest asked for: inventory derives its facts from them and caches them by
 * that digest (plan/manifest-cache.ts), so a cached copy can be checked the same way.
 */
export interface ManifestReader {
  /**
   * A manifest or index (at most 4 MiB): its descriptor, its parsed form and its exact bytes. `digest` may also be
   * a tag (Registry-API drivers): one GET by tag then gives the tag's digest, checked against the body, and the
   * manifest together (cold inventory; apply's guards).
   */
  readManifest(name: string, digest: string): Promise<{ descriptor: Descriptor; manifest: Manifest; bytes: Uint8Array }>;
  /** An image config's exact bytes (at most 8 MiB). */
  readImageConfig(name: string, config: Descriptor): Promise<Uint8Array>;
}

/**
 * A driver that can list the repositories of a registry or of a namespace in it (repo discovery, issue 11:
 * `repo: ghcr.io/acme/*`). Every page is read (the native-API layer's `listAll`, or the catalog's Link paging);
 * a listing that stops early could drop a repo silently, so paging faults are errors, never a short answer.
 */
export interface RepositoryLister {
  /**
   * Repository names as the Registry API spells them (`acme/api`, no host), for every repository whose name
   * starts with `prefix` (a namespace path such as `acme/` or `group/sub/`; '' = the whole registry).
   * The result may contain more than the prefix asks for (a catalog lists everything); callers filter.
   */
  listRepositories(prefix: string): Promise<string[]>;
}

/** A driver that can read and push but must not clean up (its native API is not built): planning asks first. */
export interface CleanupRefuser {
  cleanupRefusal(): RegplanError;
}

/** True when the driver refuses cleanup. */
export const refusesCleanup = (d: Driver): d is Driver & CleanupRefuser =>
  typeof (d as Partial<CleanupRefuser>).cleanupRefusal === 'function';

/** True when the driver can untag. */
export const canUntag = (d: Driver): d is Driver & Untagger => typeof (d as Partial<Untagger>).untag === 'function';
/** True when the driver declares placeholder untag and has the push and read primitives it is made of. */
export const canUntagByPlaceholder = (d: Driver): d is Driver & ContentPusher & ManifestReader =>
  d.capabilities.untagByPlaceholder === true && canPush(d) && canReadManifests(d);
/** True when the driver lists tag records natively. */
export const hasDetailedListing = (d: Driver): d is Driver & DetailedLister =>
  typeof (d as Partial<DetailedLister>).listTagRecords === 'function';
/** True when the driver writes concurrent deletions together. */
export const batchesDeletes = (d: Driver): d is Driver & BatchedDeleter => (d as Partial<BatchedDeleter>).batchesDeletes === true;
/** True when the driver lists untagged manifests. */
export const canListUntagged = (d: Driver): d is Driver & UntaggedLister =>
  typeof (d as Partial<UntaggedLister>).listUntagged === 'function';

/** True when the driver can read manifests and configs. */
export const canReadManifests = (d: Driver): d is Driver & ManifestReader =>
  typeof (d as Partial<ManifestReader>).readManifest === 'function';

/** True when the driver can list repositories (repo discovery). */
export const canListRepositories = (d: Driver): d is Driver & RepositoryLister =>
  typeof (d as Partial<RepositoryLister>).listRepositories === 'function';

/** True when the driver wants `collectGarbage` after deletions. */
export const collectsGarbage = (d: Driver): d is Driver & GarbageCollector =>
  typeof (d as Partial<GarbageCollector>).collectGarbage === 'function';

/** One registry type: its detection rules, capabilities, and how to build a driver. */
export interface DriverFactory {
  type: RegistryType;
  /** Human name for tables, e.g. "AWS ECR". */
  title: string;
  /**
   * What this regplan build really does for the type today, as opposed to the target `capabilities`:
   * `ready` (the driver is complete), `registry-api` (cleanup through the Registry API only: digest deletes,
   * no untag, no untagged listing, until the native API lands), `pending` (refuses to run; see its error).
   */
  status: 'ready' | 'registry-api' | 'pending';
  capabilities: Capabilities;
  /** Hosts whose capabilities differ from `capabilities`; the first matching entry wins. */
  hostCapabilities?: readonly HostCapabilities[];
  create(context: DriverContext): Driver;
}

/** Content of a blob being pushed: bytes in memory, or a file streamed from disk (large layers never load whole). */
export type BlobContent = { bytes: Uint8Array } | { path: string };

/** A blob to push: its descriptor facts and where its bytes come from. */
export interface PushBlob {
  digest: string;
  size: number;
  mediaType: string;
  content: BlobContent;
}

/** A manifest or index to push: its exact bytes (the digest is over them) and its media type. */
export interface PushManifest {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
}

/**
 * A driver that can store content (bundle pushes): the blob and manifest primitives of the distribution spec.
 * The order (blobs, then child manifests, then the tagged manifest) and the digest checks live once in
 * src/bundles/push.ts, for every target.
 */
export interface ContentPusher {
  /** True when the repo already holds the blob (a push then skips it). */
  hasBlob(name: string, digest: string): Promise<boolean>;
  /** Stores a blob: mounted from one of `mountFrom` (repos of the same registry) when one accepts, else uploaded. */
  putBlob(name: string, blob: PushBlob, options?: { mountFrom?: readonly string[] }): Promise<'mounted' | 'uploaded'>;
  /** Stores a manifest under `tag`, or by digest when no tag is given (an index's child); returns the digest stored. */
  putManifest(name: string, manifest: PushManifest, options?: { tag?: string }): Promise<string>;
}

/** True when the driver can push content. */
export const canPush = (d: Driver): d is Driver & ContentPusher =>
  typeof (d as Partial<ContentPusher>).putManifest === 'function' && typeof (d as Partial<ContentPusher>).putBlob === 'function';
