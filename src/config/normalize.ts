/**
 * The normalize step of the config pipeline: turns data that passed the schema and the semantic rules into the
 * Config the rest of regplan reads: defaults filled in, durations in milliseconds, keep rules tagged by kind,
 * policy names resolved, and relative paths resolved against the config file's directory.
 */
import * as path from 'node:path';
import { parseDuration } from './duration.ts';
import type {
  BundleConfig, Config, DeletionLimit, InUseSource, KeepRule, Policy, RegistryConfig, RegistryCredentialsConfig, RegistryType, RepoConfig, RepoPatternConfig, SecretRef, Settings,
} from './types.ts';
import { isRepoPattern } from './repo-pattern.ts';

/** Defaults the config language promises (design §4), in one place. */
export const CONFIG_DEFAULTS = { concurrency: 8, grace: '2h', timeout: '120s', untagged: 'keep', insecure: false } as const;

/** The config as written, after the schema accepted it (shapes only; defaults still missing). */
interface RawPolicy {
  keep?: Record<string, unknown>[];
  delete?: { tags: string };
  untagged?: 'delete' | 'keep';
}
interface RawBundle {
  tag: string;
  chart?: string;
  files?: string[];
  image?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}
type RawLimit = number | string;
interface RawConfig {
  settings?: { concurrency?: number; grace?: string; timeout?: string; maxDeletions?: RawLimit | { repo?: RawLimit; total?: RawLimit } };
  registries?: Record<string, { type?: string; insecure?: boolean; api?: string; credentials?: Record<string, SecretRef> }>;
  policies?: Record<string, RawPolicy>;
  repos?: { repo: string; cleanup?: string | RawPolicy; bundles?: RawBundle[]; exclude?: string[] }[];
}

/** Where a config path is, as `file:line:col`, for rules whose errors come later (a keep-list that cannot be read). */
type Locate = (path: readonly (string | number)[]) => string | undefined;

/**
 * Builds the normalized Config; call only when the schema and semantic steps found no errors. `positionOf`
 * (from the parsed source) records where `listed` rules are, so reading their file later can name the line.
 */
export function normalizeConfig(
  data: unknown,
  options: { file: string; dir: string; positionOf?: (path: readonly (string | number)[]) => { line: number; col: number } },
): Config {
  const raw = data as RawConfig;
  const { dir, positionOf } = options;
  const resolve = (p: string): string => path.resolve(dir, p);
  const locate: Locate = (p) => {
    if (positionOf === undefined) return undefined;
    const { line, col } = positionOf(p);
    return `${options.file}:${line}:${col}`;
  };
  const policies: Record<string, Policy> = {};
  for (const [name, policy] of Object.entries(raw.policies ?? {})) policies[name] = normalizePolicy(name, policy, { resolve, locate, at: ['policies', name] });
  const registries: Record<string, RegistryConfig> = {};
  for (const [host, entry] of Object.entries(raw.registries ?? {})) {
    const credentials = normalizeCredentials(entry.credentials, resolve);
    registries[host] = {
      host,
      ...(entry.type === undefined || entry.type === 'auto' ? {} : { type: entry.type as RegistryType }),
      insecure: entry.insecure ?? CONFIG_DEFAULTS.insecure,
      ...(entry.api === undefined ? {} : { api: entry.api.replace(/\/+$/, '') }),
      ...(credentials === undefined ? {} : { credentials }),
    };
  }
  const repos: RepoConfig[] = [];
  const repoPatterns: RepoPatternConfig[] = [];
  (raw.repos ?? []).forEach((entry, index) => {
    const cleanup = typeof entry.cleanup === 'string'
      ? policies[entry.cleanup]
      : entry.cleanup === undefined ? undefined : normalizePolicy(`inline:${entry.repo}`, entry.cleanup, { resolve, locate, at: ['repos', index, 'cleanup'] });
    if (isRepoPattern(entry.repo)) {
      const where = locate(['repos', index, 'repo']);
      repoPatterns.push({
        pattern: entry.repo,
        exclude: [...(entry.exclude ?? [])],
        ...(cleanup === undefined ? {} : { cleanup }),
        ...(where === undefined ? {} : { where }),
      });
      return;
    }
    const repo = entry.repo.startsWith('oci:') ? `oci:${resolve(entry.repo.slice(4))}` : entry.repo;
    repos.push({
      repo,
      ...(repo === entry.repo ? {} : { written: entry.repo }),
      ...(cleanup === undefined ? {} : { cleanup }),
      bundles: (entry.bundles ?? []).map((bundle) => normalizeBundle(bundle, resolve)),
    });
  });
  return {
    version: 1,
    file: options.file,
    dir,
    settings: {
      concurrency: raw.settings?.concurrency ?? CONFIG_DEFAULTS.concurrency,
      graceMs: parseDuration(raw.settings?.grace ?? CONFIG_DEFAULTS.grace) as number,
      timeoutMs: parseDuration(raw.settings?.timeout ?? CONFIG_DEFAULTS.timeout) as number,
      ...maxDeletions(raw.settings?.maxDeletions),
    },
    registries,
    policies,
    repos,
    ...(repoPatterns.length === 0 ? {} : { repoPatterns }),
  };
}

/** settings.maxDeletions: a bare limit applies to each repo and to the whole plan. */
function maxDeletions(raw: RawLimit | { repo?: RawLimit; total?: RawLimit } | undefined): Pick<Settings, 'maxDeletions'> {
  if (raw === undefined) return {};
  const limit = (value: RawLimit): DeletionLimit => (typeof value === 'number' ? { count: value } : { percent: Number(value.slice(0, -1)) });
  if (typeof raw !== 'object') return { maxDeletions: { repo: limit(raw), total: limit(raw) } };
  return { maxDeletions: { ...(raw.repo === undefined ? {} : { repo: limit(raw.repo) }), ...(raw.total === undefined ? {} : { total: limit(raw.total) }) } };
}

function normalizeCredentials(credentials: Record<string, SecretRef> | undefined, resolve: (p: string) => string): RegistryCredentialsConfig | undefined {
  if (credentials === undefined) return undefined;
  const out: RegistryCredentialsConfig = {};
  for (const key of ['username', 'password', 'token'] as const) {
    const ref = credentials[key];
    if (ref !== undefined) out[key] = 'env' in ref ? { env: ref.env } : { file: resolve(ref.file) };
  }
  return out;
}

function normalizePolicy(name: string, policy: RawPolicy, context: { resolve: (p: string) => string; locate: Locate; at: (string | number)[] }): Policy {
  const { resolve, locate, at } = context;
  return {
    name,
    keep: (policy.keep ?? []).map((rule, i) => normalizeKeepRule(rule, resolve, (key) => locate([...at, 'keep', i, key]))),
    ...(policy.delete === undefined ? {} : { deleteTags: policy.delete.tags }),
    untagged: policy.untagged ?? CONFIG_DEFAULTS.untagged,
  };
}

type RawInUse = { kubernetes?: { context?: string; kubeconfig?: string; namespace?: string }; file?: string; command?: string[] };

function inUseSource(raw: RawInUse, resolve: (p: string) => string): InUseSource {
  if (raw.file !== undefined) return { kind: 'file', file: resolve(raw.file) };
  if (raw.command !== undefined) return { kind: 'command', argv: raw.command };
  const k = raw.kubernetes ?? {};
  return {
    kind: 'kubernetes',
    ...(k.context === undefined ? {} : { context: k.context }),
    ...(k.kubeconfig === undefined ? {} : { kubeconfig: resolve(k.kubeconfig) }),
    ...(k.namespace === undefined ? {} : { namespace: k.namespace }),
  };
}

const groupBy = (rule: Record<string, unknown>): { groupBy?: string } => (typeof rule['groupBy'] === 'string' ? { groupBy: rule['groupBy'] } : {});

function normalizeKeepRule(rule: Record<string, unknown>, resolve: (p: string) => string, where: (key: string) => string | undefined): KeepRule {
  if (rule['inUse'] !== undefined) {
    const at = where('inUse');
    return { kind: 'inUse', source: inUseSource(rule['inUse'] as RawInUse, resolve), ...(at === undefined ? {} : { where: at }) };
  }
  if (typeof rule['newest'] === 'number') {
    return { kind: 'newest', count: rule['newest'], ...(typeof rule['tags'] === 'string' ? { tags: rule['tags'] } : {}), ...groupBy(rule) };
  }
  if (typeof rule['tags'] === 'string') return { kind: 'tags', pattern: rule['tags'] };
  if (typeof rule['pushedWithin'] === 'string') {
    return { kind: 'pushedWithin', durationMs: parseDuration(rule['pushedWithin']) as number, text: rule['pushedWithin'], ...groupBy(rule) };
  }
  if (typeof rule['pulledWithin'] === 'string') {
    return { kind: 'pulledWithin', durationMs: parseDuration(rule['pulledWithin']) as number, text: rule['pulledWithin'] };
  }
  if (rule['semver'] !== undefined) {
    const s = rule['semver'] as { latestPerMinor?: number; latestPerMajor?: number; latestMajors?: number; prerelease?: boolean };
    return {
      kind: 'semver',
      ...(s.latestPerMinor === undefined ? {} : { latestPerMinor: s.latestPerMinor }),
      ...(s.latestPerMajor === undefined ? {} : { latestPerMajor: s.latestPerMajor }),
      ...(s.latestMajors === undefined ? {} : { latestMajors: s.latestMajors }),
      prerelease: s.prerelease ?? false,
    };
  }
  if (rule['gitRefs'] !== undefined) {
    const g = rule['gitRefs'] as { repo?: string; branches?: boolean; tags?: boolean; commits?: number };
    return { kind: 'gitRefs', repo: resolve(g.repo ?? '.'), branches: g.branches ?? true, tags: g.tags ?? true, commits: g.commits ?? 0 };
  }
  const at = where('listed');
  return { kind: 'listed', file: resolve(rule['listed'] as string), ...(at === undefined ? {} : { where: at }) };
}

function normalizeBundle(bundle: RawBundle, resolve: (p: string) => string): BundleConfig {
  const annotations = { ...(bundle.annotations ?? {}) };
  if (bundle.chart !== undefined) return { tag: bundle.tag, kind: 'chart', chart: resolve(bundle.chart), annotations };
  if (bundle.files !== undefined) {
    return {
      tag: bundle.tag,
      kind: 'files',
      files: bundle.files.map(resolve),
      ...(bundle.artifactType === undefined ? {} : { artifactType: bundle.artifactType }),
      annotations,
    };
  }
  return { tag: bundle.tag, kind: 'image', image: resolveLayoutReference(bundle.image as string, resolve), annotations };
}

/** `oci:./build/layout:web` -> `oci:/abs/build/layout:web` (the part after the last `:` past the last `/` is the ref). */
export function resolveLayoutReference(reference: string, resolve: (p: string) => string): string {
  const rest = reference.slice('oci:'.length);
  const colon = rest.indexOf(':', rest.lastIndexOf('/') + 1);
  const dir = colon === -1 ? rest : rest.slice(0, colon);
  const ref = colon === -1 ? '' : rest.slice(colon);
  return `oci:${resolve(dir)}${ref}`;
}
