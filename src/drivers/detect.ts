/**
 * Registry detection: which driver a repo address gets (design §2, werf-behaviour.md §1).
 * Precedence: `--repo-container-registry` > `$REGPLAN_REPO_CONTAINER_REGISTRY` > `registries.<host>.type` in the
 * config > the host rules below (first match wins) > `default`. `auto` or an empty value means "detect".
 *
 * Host matching ignores the port: rules are written for host names, so `harbor.example.com:8443` is Harbor and
 * `ghcr.io:443` is GitHub. (werf matches the host string with its port; its patterns mostly lack an end anchor,
 * so ports pass there too, except for ECR, whose hosts never carry one.) Every pattern here is anchored on the
 * side that matters, so `gcr.io.example.com` is not GCR.
 */
import type { Config, RegistryConfig, RegistryType } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { DOCKER_HUB_HOST, parseRepo, type RepoRef } from '../registry/reference.ts';

/** Names accepted by `--repo-container-registry` / `REGPLAN_REPO_CONTAINER_REGISTRY` / `registries.<host>.type`. */
export const CONTAINER_REGISTRY_NAMES = [
  'auto', 'default', 'ecr', 'acr', 'dockerhub', 'gcr', 'github', 'gitlab', 'harbor', 'artifactory', 'nexus', 'quay', 'yandex', 'selectel',
] as const;

/** The flag and env var that override detection. */
export const CONTAINER_REGISTRY_FLAG = '--repo-container-registry';
export const CONTAINER_REGISTRY_ENV = 'REGPLAN_REPO_CONTAINER_REGISTRY';

/** One host rule: when `pattern` matches the host (without port), the repo gets `type`. */
export interface HostRule {
  type: RegistryType;
  pattern: RegExp;
  /** The hosts in words, for `regplan registries`, e.g. `*.gcr.io`. */
  hosts: string;
  /** The registry the rule recognises, for the detection reason. */
  description: string;
}

/** ECR registry hosts; named groups give the 12-digit account and the region (FIPS and China endpoints included). */
export const ECR_HOST_PATTERN = /^(?<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?<region>[a-z0-9][a-z0-9-]*)\.amazonaws\.com(?:\.cn)?$/;

/** The detection table, in design §2 order; the first match wins. Nexus is never detected: set it explicitly. */
export const HOST_RULES: readonly HostRule[] = [
  { type: 'ecr', pattern: ECR_HOST_PATTERN, hosts: '<acct>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]', description: 'AWS ECR' },
  { type: 'acr', pattern: /\.azurecr\.io$/, hosts: '*.azurecr.io', description: 'Azure Container Registry' },
  { type: 'dockerhub', pattern: /^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io|registry\.hub\.docker\.com)$/, hosts: 'docker.io, index.docker.io, registry-1.docker.io, host-less names', description: 'Docker Hub' },
  { type: 'gcr', pattern: /^gcr\.io$/, hosts: 'gcr.io', description: 'Google Container Registry' },
  { type: 'gcr', pattern: /\.gcr\.io$/, hosts: '*.gcr.io', description: 'Google Container Registry' },
  { type: 'gcr', pattern: /^container\.cloud\.google\.com$/, hosts: 'container.cloud.google.com', description: 'Google Container Registry' },
  { type: 'gcr', pattern: /^[a-z0-9-]+-docker\.pkg\.dev$/, hosts: '*-docker.pkg.dev', description: 'Google Artifact Registry' },
  { type: 'github', pattern: /^ghcr\.io$/, hosts: 'ghcr.io', description: 'GitHub Packages' },
  { type: 'github', pattern: /^docker\.pkg\.github\.com$/, hosts: 'docker.pkg.github.com', description: 'GitHub Packages (legacy Docker registry)' },
  { type: 'gitlab', pattern: /^gitlab\.com$/, hosts: 'gitlab.com', description: 'GitLab Registry' },
  { type: 'gitlab', pattern: /^registry\.gitlab\.com$/, hosts: 'registry.gitlab.com', description: 'GitLab Registry' },
  { type: 'harbor', pattern: /^harbor\./, hosts: 'harbor.*', description: 'Harbor' },
  { type: 'harbor', pattern: /^demo\.goharbor\.io$/, hosts: 'demo.goharbor.io', description: 'Harbor' },
  { type: 'artifactory', pattern: /\.jfrog\.io$/, hosts: '*.jfrog.io', description: 'JFrog Artifactory' },
  { type: 'quay', pattern: /^quay\.io$/, hosts: 'quay.io', description: 'Quay' },
  { type: 'quay', pattern: /^quay\.[a-z0-9.-]+\.com$/, hosts: 'quay.*.com', description: 'Quay' },
  { type: 'yandex', pattern: /^cr\.yandex$/, hosts: 'cr.yandex', description: 'Yandex Container Registry' },
  { type: 'selectel', pattern: /^cr\.selcloud\.ru$/, hosts: 'cr.selcloud.ru', description: 'Selectel CRaaS' },
];

/** The result of detection: the parsed address, the registry type, and why it was chosen (shown by `regplan detect`). */
export interface Detection {
  ref: RepoRef;
  type: RegistryType;
  /** Human reason, e.g. `host "ghcr.io" matches ^ghcr\.io$ (GitHub Packages)` or `set by --repo-container-registry`. */
  reason: string;
  /** The matching host pattern's source, when a host rule decided. */
  rule?: string;
  /** Named groups of the matching rule (ECR: account, region). */
  captures?: Readonly<Record<string, string>>;
  /** True when nothing named the type and no host rule matched: `default` is a guess the user may need to override. */
  fallback?: true;
}

/** Inputs that can override detection. */
export interface DetectOptions {
  config?: Config;
  /** `--repo-container-registry` value, when given. */
  flag?: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** The host without its port (`[::1]:5000` -> `[::1]`). */
export const hostWithoutPort = (host: string): string => host.replace(/:\d+$/, '');

/** Decides the registry type of a repo address. Throws UsageError for an invalid address or an unknown override name. */
export function detectRegistry(address: string, options: DetectOptions): Detection {
  const ref = parseRepo(address);
  const override = overrideOf(ref, options);
  // A local layout is a directory, never a registry: overrides (typically set for a whole CI job) do not apply.
  if (ref.kind === 'oci-layout') return { ref, type: 'oci', reason: 'oci: prefix: local OCI image layout' };
  if (override) return { ref, type: override.type, reason: override.reason };
  const host = hostWithoutPort(ref.host);
  for (const rule of HOST_RULES) {
    const match = rule.pattern.exec(host);
    if (!match) continue;
    const captures = match.groups ? { ...match.groups } as Record<string, string> : undefined;
    return {
      ref,
      type: rule.type,
      reason: `host "${ref.host}" matches ${rule.pattern.source} (${rule.description})`,
      rule: rule.pattern.source,
      ...(captures === undefined ? {} : { captures }),
    };
  }
  return { ref, type: 'default', reason: 'no rule matched: plain Distribution registry', fallback: true };
}

/** The first override that names a registry (flag, env, config), validating every one that is set. */
function overrideOf(ref: RepoRef, options: DetectOptions): { type: RegistryType; reason: string } | undefined {
  const flag = parseRegistryName(options.flag, `set by ${CONTAINER_REGISTRY_FLAG}`, CONTAINER_REGISTRY_FLAG);
  const env = parseRegistryName(options.env[CONTAINER_REGISTRY_ENV], `set by $${CONTAINER_REGISTRY_ENV}`, `$${CONTAINER_REGISTRY_ENV}`);
  const entry = ref.kind === 'registry' && options.config ? registryConfigFor(options.config, ref.host) : undefined;
  const fromConfig = entry
    ? parseRegistryName(entry.config.type, `set by registries["${entry.key}"].type in ${options.config?.file}`, `registries["${entry.key}"].type`)
    : undefined;
  return flag ?? env ?? fromConfig;
}

/** Validates one override value; undefined for absent, empty or `auto`. */
function parseRegistryName(value: string | undefined, reason: string, source: string): { type: RegistryType; reason: string } | undefined {
  if (value === undefined) return undefined;
  const name = value.trim().toLowerCase();
  if (name === '' || name === 'auto') return undefined;
  if (!(CONTAINER_REGISTRY_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`unknown container registry "${value}" (from ${source})`, {
      hint: `use one of: ${CONTAINER_REGISTRY_NAMES.join(' ')}`,
      ...(source.startsWith('--') ? { flag: source } : {}),
    });
  }
  return { type: name as RegistryType, reason };
}

/** Hosts that are all Docker Hub, so a config keyed by any of them applies to `docker.io/...` repos. */
const DOCKER_HUB_ALIASES = [DOCKER_HUB_HOST, 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'];

/** The `registries.<host>` entry for a host (case-insensitive; Docker Hub under any of its names), with its key. */
export function registryConfigFor(config: Config, host: string): { key: string; config: RegistryConfig } | undefined {
  const wanted = host === DOCKER_HUB_HOST ? DOCKER_HUB_ALIASES : [host.toLowerCase()];
  for (const [key, value] of Object.entries(config.registries)) {
    if (wanted.includes(key.toLowerCase())) return { key, config: value };
  }
  return undefined;
}

