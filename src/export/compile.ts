/**
 * Picks the lifecycle language for a repo's registry type and compiles its cleanup policy (one door for
 * `regplan export-policy`; each language lives in its own module with its docs and its safety choice).
 * Registries without a server-side cleanup language of their own (distribution, Docker Hub, GHCR, ACR's
 * retention covers only untagged manifests, Artifactory, Nexus, Yandex, Selectel, OCI layouts) are `unsupported`.
 */
import type { Policy, RegistryType } from '../config/types.ts';
import { compileArtifactRegistry } from './artifact-registry.ts';
import { compileEcr } from './ecr.ts';
import { compileGitlab } from './gitlab.ts';
import { compileHarbor } from './harbor.ts';
import { compileQuay } from './quay.ts';
import type { Limitation, PolicyExport } from './types.ts';

/** Where the repo lives, as detection tells it. */
export interface ExportTarget {
  /** The repo address for display. */
  repo: string;
  type: RegistryType;
  host: string;
  /** Repository path on the registry (`acme/api`). */
  name: string;
}

/** Why a registry type has no export, in words. */
const UNSUPPORTED: Partial<Record<RegistryType, string>> = {
  acr: 'ACR\'s retention policy only removes untagged manifests after N days, registry-wide; it has no tag rules',
  dockerhub: 'Docker Hub has no server-side tag cleanup policy',
  github: 'GitHub Packages has no server-side retention policy for container versions',
};

/** The Artifact Registry package (image) of a repo path: after PROJECT/REPOSITORY on *-docker.pkg.dev, after PROJECT on gcr.io. */
export function artifactRegistryPackage(host: string, name: string): string {
  const parts = name.split('/');
  return (/-docker\.pkg\.dev$/.test(host.replace(/:\d+$/, '')) ? parts.slice(2) : parts.slice(1)).join('/');
}

/**
 * What no lifecycle language sees, listed on every export: content relationships the evaluator follows
 * (plan/protection.ts). These are not rules the export could drop; `regplan drift` finds them on the live repo.
 */
export const RELATIONSHIPS: Limitation = {
  rule: 'content relationships',
  reason: 'regplan keeps the children of kept indexes and the subject of a kept artifact, and an artifact that names a subject (OCI subject) follows it instead of counting as a tag; the registry\'s policy does not see these links',
  effect: 'not covered by the export: run "regplan drift" to check them against the live repo',
};

/** Compiles one repo's policy for its registry. */
export function exportPolicy(target: ExportTarget, policy: Policy, options: { graceMs: number }): PolicyExport {
  const result = compileFor(target, policy, options);
  return result.status === 'unsupported' ? result : { ...result, limitations: [...result.limitations, RELATIONSHIPS] };
}

function compileFor(target: ExportTarget, policy: Policy, options: { graceMs: number }): PolicyExport {
  const base = { repo: target.repo, graceMs: options.graceMs };
  switch (target.type) {
    case 'ecr':
      return compileEcr(policy, base);
    case 'gitlab':
      return compileGitlab(policy, base);
    case 'harbor':
      return compileHarbor(policy, { ...base, name: target.name });
    case 'gcr':
      return compileArtifactRegistry(policy, { ...base, packageName: artifactRegistryPackage(target.host, target.name) });
    case 'quay':
      return compileQuay(policy, base);
    default:
      return {
        repo: target.repo,
        registry: target.type,
        status: 'unsupported',
        limitations: [],
        notes: [UNSUPPORTED[target.type] ?? `${target.type} has no server-side lifecycle language regplan can compile to; keep running regplan apply on a schedule`],
      };
  }
}
