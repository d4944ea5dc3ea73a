/**
 * The normalized config: what the rest of regplan sees after src/config has parsed, validated and defaulted
 * registry.config.yaml. Shapes here mirror schema/regplan.schema.json (design §4) with defaults filled in.
 */

/** Registry type names accepted by `registries.<host>.type`, `--repo-container-registry` and detection. */
export const REGISTRY_TYPES = [
  'default', 'ecr', 'acr', 'dockerhub', 'gcr', 'github', 'gitlab', 'harbor', 'artifactory', 'nexus', 'quay', 'yandex', 'selectel', 'oci',
] as const;
/** One registry type; `oci` is the local OCI image layout (`oci:<dir>` repos). */
export type RegistryType = (typeof REGISTRY_TYPES)[number];

/** A secret is never written in the config: it is read from an env var or a file at run time. */
export type SecretRef = { env: string } | { file: string };

/** Native-API credentials for one registry host (all optional; which ones matter depends on the driver). */
export interface RegistryCredentialsConfig {
  username?: SecretRef;
  password?: SecretRef;
  token?: SecretRef;
}

/** `registries.<host>` after defaults. */
export interface RegistryConfig {
  host: string;
  type?: RegistryType;
  insecure: boolean;
  api?: string;
  credentials?: RegistryCredentialsConfig;
}

/**
 * One keep rule; a tag survives when ANY rule keeps it. Exactly one kind per rule. `where` (config file:line:col of
 * the rule) lets plan-time errors about the file a rule reads point back at the config.
 */
export type KeepRule =
  | { kind: 'tags'; pattern: string }
  | { kind: 'newest'; count: number; tags?: string; groupBy?: string }
  | { kind: 'pushedWithin'; durationMs: number; text: string; groupBy?: string }
  | { kind: 'pulledWithin'; durationMs: number; text: string }
  | { kind: 'semver'; latestPerMinor?: number; latestPerMajor?: number; latestMajors?: number; prerelease: boolean }
  | { kind: 'gitRefs'; repo: string; branches: boolean; tags: boolean; commits: number }
  | { kind: 'listed'; file: string; where?: string }
  | { kind: 'inUse'; source: InUseSource; where?: string };

/** Where an `inUse` rule learns which images run (plan/in-use/). Paths are resolved against the config's directory. */
export type InUseSource =
  | { kind: 'kubernetes'; context?: string; kubeconfig?: string; namespace?: string }
  | { kind: 'file'; file: string }
  | { kind: 'command'; argv: string[] };

/** A cleanup policy after defaults. `name` is the policy's key, or `inline:<repo>` for an inline one. */
export interface Policy {
  name: string;
  keep: KeepRule[];
  /** Only tags matching this regex are deletion candidates; undefined = every tag. */
  deleteTags?: string;
  untagged: 'delete' | 'keep';
}

/** One bundle to push (design §4 `repos[].bundles[]`). Paths are resolved against the config file's directory. */
export type BundleConfig =
  | { tag: string; kind: 'chart'; chart: string; annotations: Record<string, string> }
  | { tag: string; kind: 'files'; files: string[]; artifactType?: string; annotations: Record<string, string> }
  | { tag: string; kind: 'image'; image: string; annotations: Record<string, string> };

/** One `repos[]` entry after defaults. */
export interface RepoConfig {
  /**
   * The repo address, e.g. `ghcr.io/acme/api`; an `oci:<dir>` layout has its directory resolved against the
   * config file's directory (`oci:/abs/examples/demo-layout`), so it means the same from any cwd.
   */
  repo: string;
  /** The address exactly as written in the config (e.g. `oci:./examples/demo-layout`), for display. */
  written?: string;
  cleanup?: Policy;
  bundles: BundleConfig[];
}

/**
 * One `repos[]` entry written as a pattern (`ghcr.io/acme/*`, config/repo-pattern.ts). It is expanded at plan time
 * (plan/expand-repos.ts) into concrete repos carrying its policy; the plan file records the expansion.
 */
export interface RepoPatternConfig {
  /** The pattern as written. */
  pattern: string;
  /** `exclude:` entries as written (full addresses on the pattern's host, wildcards allowed). */
  exclude: string[];
  cleanup?: Policy;
  /** Where the entry's `repo:` is, `file:line:col`, for plan-time errors. */
  where?: string;
}

/** A deletion limit: a count, or a share of a repo's (or the plan's) tags and untagged manifests. */
export type DeletionLimit = { count: number } | { percent: number };

/** `settings` after defaults. */
export interface Settings {
  concurrency: number;
  graceMs: number;
  /** settings.maxDeletions (plan/mass-delete.ts): per repo and for the whole plan; absent = no limit. */
  maxDeletions?: { repo?: DeletionLimit; total?: DeletionLimit };
  /**
   * settings.timeout: per-request (per-attempt) HTTP timeout for every registry and native-API call. Always set by
   * normalize; optional so hand-built configs (tests) may leave it to the transport's 120 s default.
   */
  timeoutMs?: number;
}

/** The whole normalized config. */
export interface Config {
  version: 1;
  /** Absolute path of the file it came from (or `<inline>`), and its directory for relative paths. */
  file: string;
  dir: string;
  settings: Settings;
  registries: Record<string, RegistryConfig>;
  policies: Record<string, Policy>;
  /** Concrete repos (patterns are in `repoPatterns`). */
  repos: RepoConfig[];
  /** Repo patterns, in config order; absent when the config has none. */
  repoPatterns?: RepoPatternConfig[];
}
