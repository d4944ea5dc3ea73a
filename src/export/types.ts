/**
 * What `regplan export-policy` produces per repo: the registry's own lifecycle document (the safe subset of the
 * repo's cleanup policy) and, rule by rule, what that language cannot say and what the export did about it.
 *
 * The contract every compiler in this folder keeps: the exported policy never deletes a tag or manifest that
 * regplan's plan would keep, for any inventory. A keep rule the registry cannot express either drops the delete
 * rules it would weaken (languages whose delete rules stand alone: ECR, Artifact Registry) or makes the export
 * `unsafe` with no policy printed (languages with one policy whose deletes cannot be narrowed: GitLab, Harbor,
 * Quay); each compiler's header says which and why.
 */
import type { RegistryType } from '../config/types.ts';

/** The lifecycle languages regplan compiles to. */
export type PolicyFormat = 'ecr-lifecycle-policy' | 'gitlab-cleanup-policy' | 'harbor-retention-policy' | 'artifact-registry-cleanup-policies' | 'quay-autoprune-policies';

/** One thing the registry's language cannot say, and what the export did about it. */
export interface Limitation {
  /** The regplan rule it concerns, as the config says it (`keep[2] semver`, `delete.tags`, `settings.grace`). */
  rule: string;
  /** Why the registry cannot express it. */
  reason: string;
  /** What the export did: e.g. "tagged delete rules dropped", "no policy exported", "rounded up to 14d". */
  effect: string;
}

/** The export of one repo. */
export interface PolicyExport {
  repo: string;
  registry: RegistryType;
  /** `exported`: `policy` is the safe subset; `unsafe`: no safe policy exists; `unsupported`: no lifecycle language. */
  status: 'exported' | 'unsafe' | 'unsupported';
  format?: PolicyFormat;
  /** The registry's own document (API payload), when exported. */
  policy?: unknown;
  /** How to install it (the API call or CLI), when exported. */
  install?: string;
  limitations: Limitation[];
  /** Things worth knowing that do not weaken safety (e.g. the policy keeps more than regplan would). */
  notes: string[];
}

/** A keep rule's label in messages: its index and kind, e.g. `keep[1] newest`. */
export const ruleLabel = (index: number, kind: string): string => `keep[${index}] ${kind}`;

/** Whole days covering `ms`, at least `min` (rounding up keeps more: the safe direction). */
export const daysCovering = (ms: number, min = 1): number => Math.max(min, Math.ceil(ms / 86_400_000));
