/**
 * What a repo holds, as plain data: the shapes drivers report (tag records, untagged manifests) and the inventory
 * plan/inventory.ts builds from them for the pure evaluator. Drivers and the planner both import these from here,
 * so the evaluator never depends on drivers/.
 */
import type { RegistryType } from '../config/types.ts';

/** A tag as inventory sees it. `pushedAt` is ISO 8601, absent when unknown (treated as new). */
export interface TagRecord {
  tag: string;
  digest: string;
  mediaType?: string;
  pushedAt?: string;
  /**
   * When the registry last saw the tag (or its image) pulled, where it records that (ECR, Harbor, Docker Hub):
   * ISO 8601, or 'never'. Absent = unknown (the registry does not say), which the `pulledWithin` rule keeps.
   * Drivers pass the vendor's value through `parseTime`; inventory judges it (`judgePullTime`).
   */
  pulled?: string;
}

/** The facts the inventory gathered about one manifest (only what cleanup needs to follow relationships). */
export interface ManifestFacts {
  mediaType: string;
  /** Digests of an index's children (empty for an image manifest). */
  children: string[];
  /** Digest of the subject, for OCI referrers (signatures, attestations, SBOMs pushed with `subject`). */
  subject?: string;
  artifactType?: string;
  /** The manifest's own size in bytes (from its content), when the inventory read it. */
  size?: number;
  /** Blobs an image manifest references (config and layers) with their sizes, for the reclaimable-bytes estimate. */
  blobs?: BlobRef[];
}

/** A blob a manifest references: digest and size as the manifest's descriptor states them. */
export interface BlobRef {
  digest: string;
  size: number;
}

/** A manifest with no tag, as a driver that can list them reports it. */
export interface UntaggedRecord {
  digest: string;
  /** ISO 8601; absent when unknown (then it is treated as new and never deleted by age). */
  pushedAt?: string;
}

/** The driver facts the evaluator needs: can it remove a single tag, can it list untagged manifests. */
export interface InventoryDriver {
  type: RegistryType;
  untag: boolean;
  /** Where `untag` is false: a tag can be removed by pushing a placeholder to it and deleting that (distribution). */
  untagByPlaceholder?: boolean;
  listUntagged: boolean;
}

/** Everything known about one repo at plan time; built by plan/inventory.ts, read by the pure evaluator. */
export interface RepoInventory {
  /** The repo address as written in the config, e.g. `ghcr.io/acme/api` or `oci:./layout`. */
  repo: string;
  driver: InventoryDriver;
  tags: TagRecord[];
  /** Untagged manifests; empty when the driver cannot list them. */
  untagged: UntaggedRecord[];
  /** Facts per digest for the manifests the inventory read (tag targets, untagged ones, referrers). */
  manifests: Record<string, ManifestFacts>;
  /**
   * Names the registry listed that fail the distribution grammar (a tag like `pr-1/../v1.0.0`, a digest that is no
   * digest): left out of `tags`/`untagged`, never resolved or deleted, shown in the plan as skipped.
   */
  rejected?: SkippedName[];
}

/**
 * A name from a registry listing that fails the distribution grammar. `name` is never the raw name: it is the
 * quoted, escaped form of model/names.ts `quoteName` (printable ASCII, cut after 100 characters), for people.
 */
export interface SkippedName {
  repo: string;
  /** What the invalid name was: a tag, or a digest (of the valid `tag`, or of an untagged manifest). */
  kind: 'tag' | 'digest';
  /** The invalid name, quoted and escaped, e.g. `"pr-1/../v1.0.0"`. */
  name: string;
  /** For an invalid digest: the (valid) tag that pointed at it. */
  tag?: string;
  /** Never set: there is no usable digest (readers of `skipped[].digest` see none, as for a refused push). */
  digest?: never;
  reason: string;
}
