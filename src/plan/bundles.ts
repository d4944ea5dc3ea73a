/**
 * Planning bundle pushes (design §5.5): per configured bundle, first whether the registry can take it at all
 * (capabilities are data, so a refusal never touches the network), then package it, resolve its tag on the
 * target and compare digests: the same digest is "unchanged" (kept, no action), anything else a push.
 * The planned state of every bundle tag is handed to cleanup (see merge.ts), so a tag this plan pushes or keeps
 * as a bundle is never a deletion candidate.
 */
import type { Config, RegistryType, RepoConfig } from '../config/types.ts';
import { detectRegistry } from '../drivers/detect.ts';
import type { Capabilities } from '../drivers/driver.ts';
import { capabilitiesFor, driverFactory } from '../drivers/index.ts';
import type { OpenedRepo } from '../drivers/open.ts';
import { isRegplanError, RegplanError } from '../errors.ts';
import { shortDigest } from '../registry/digest.ts';
import { isIndex, type Manifest } from '../registry/oci.ts';
import type { Kept, PushAction, SkippedPush } from './types.ts';
import { prepareBundle } from '../bundles/prepare.ts';
import { bundleSize, type PreparedBundle } from '../bundles/types.ts';

/** The label an unchanged bundle's tag is kept by. */
export const BUNDLE_UNCHANGED = 'bundle unchanged';

/** What a registry address can take, decided without opening it. */
export interface RegistryCapabilities {
  type: RegistryType;
  host: string;
  capabilities: Capabilities;
}

/** The state a bundle tag will have once the plan is applied: its digest and the facts cleanup follows. */
export interface PlannedTag {
  digest: string;
  mediaType: string;
  artifactType?: string;
  /** Digests of an index's direct children. */
  children: string[];
  /** True when this plan pushes it; false when it is already there (unchanged). */
  pushed: boolean;
}

/** The bundle part of a plan. */
export interface BundleDecision {
  actions: PushAction[];
  /** Unchanged bundles, kept with the rule "bundle unchanged". */
  kept: Kept[];
  skipped: SkippedPush[];
  /** Display repo address -> bundle tag -> planned state (refused bundles are not in it). */
  planned: Map<string, Map<string, PlannedTag>>;
}

/** Inputs of `planBundles`. */
export interface BundlePlanRequest {
  /** Repos whose bundles to plan, with the address plans show for each. */
  repos: readonly { repo: RepoConfig; display: string }[];
  open: (address: string) => OpenedRepo;
  capabilitiesOf: (address: string) => RegistryCapabilities;
  /** Runs registry requests under the per-host limit (default: run directly). */
  limit?: (hostKey: string, work: () => Promise<unknown>) => Promise<unknown>;
}

/** Capabilities of a repo address from detection (flag > env > config > host rules), as opening it would choose. */
export function registryCapabilities(config: Config, options: { env?: Readonly<Record<string, string | undefined>>; registryFlag?: string } = {}) {
  return (address: string): RegistryCapabilities => {
    const detection = detectRegistry(address, { config, env: options.env ?? {}, ...(options.registryFlag === undefined ? {} : { flag: options.registryFlag }) });
    const host = detection.ref.kind === 'registry' ? detection.ref.host : detection.ref.address;
    return { type: detection.type, host, capabilities: capabilitiesFor(driverFactory(detection.type), detection.ref.kind === 'registry' ? host : undefined) };
  };
}

/** Plans every bundle of the given repos: refused, unchanged, or pushed. */
export async function planBundles(request: BundlePlanRequest): Promise<BundleDecision> {
  const decision: BundleDecision = { actions: [], kept: [], skipped: [], planned: new Map() };
  const limit = request.limit ?? ((_host, work) => work());
  const jobs: Promise<void>[] = [];
  for (const { repo, display } of request.repos) {
    if (repo.bundles.length === 0) continue;
    const target = request.capabilitiesOf(repo.repo);
    let opened: OpenedRepo | undefined;
    for (const bundle of repo.bundles) {
      const refusal = refusalOf(bundle, target);
      if (refusal !== undefined) {
        decision.skipped.push({ repo: display, tag: bundle.tag, reason: refusal });
        continue;
      }
      opened ??= request.open(repo.repo);
      const { driver, name, hostKey } = opened;
      jobs.push((async () => {
        const prepared = await prepareWithContext(bundle, display);
        const current = (await limit(hostKey, () => driver.resolveTag(name, bundle.tag))) as Awaited<ReturnType<typeof driver.resolveTag>>;
        const tags = decision.planned.get(display) ?? new Map<string, PlannedTag>();
        decision.planned.set(display, tags);
        const unchanged = current?.digest === prepared.manifest.digest;
        tags.set(bundle.tag, plannedTag(prepared, !unchanged));
        if (unchanged) {
          decision.kept.push({ repo: display, tag: bundle.tag, digest: prepared.manifest.digest, rules: [BUNDLE_UNCHANGED] });
          return;
        }
        decision.actions.push(pushAction(prepared, { repo: display, tag: bundle.tag, ...(current === undefined ? {} : { previous: current.digest }) }));
      })());
    }
  }
  await Promise.all(jobs);
  const byRepoTag = (a: { repo: string; tag: string }, b: { repo: string; tag: string }) =>
    a.repo < b.repo ? -1 : a.repo > b.repo ? 1 : a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0;
  decision.actions.sort(byRepoTag);
  decision.kept.sort(byRepoTag);
  decision.skipped.sort(byRepoTag);
  return decision;
}

/** Why the registry cannot take this bundle, or undefined when it can. */
function refusalOf(bundle: RepoConfig['bundles'][number], target: RegistryCapabilities): string | undefined {
  const { capabilities, type, host } = target;
  if (!capabilities.bundles) return capabilities.bundlesRefusal ?? `the ${type} registry at ${host} cannot store OCI artifacts`;
  if (bundle.kind === 'files' && bundle.artifactType !== undefined && !capabilities.customArtifactType) {
    return `the ${type} registry at ${host} rejects a custom artifactType (${bundle.artifactType}); remove artifactType or publish to another registry`;
  }
  return undefined;
}

/** The push action for a packaged bundle. */
export function pushAction(prepared: PreparedBundle, target: { repo: string; tag: string; previous?: string }): PushAction {
  return {
    type: 'push',
    repo: target.repo,
    tag: target.tag,
    digest: prepared.manifest.digest,
    reason: target.previous === undefined ? 'new tag' : `tag moves from ${shortDigest(target.previous)}`,
    source: prepared.kind,
    mediaType: prepared.manifest.mediaType,
    ...(prepared.manifest.artifactType === undefined ? {} : { artifactType: prepared.manifest.artifactType }),
    ...(target.previous === undefined ? {} : { previous: target.previous }),
    blobs: prepared.blobs.length,
    size: bundleSize(prepared),
    ...(prepared.children.length === 0 ? {} : { manifests: prepared.children.length }),
  };
}

function plannedTag(prepared: PreparedBundle, pushed: boolean): PlannedTag {
  const manifest = JSON.parse(new TextDecoder().decode(prepared.manifest.bytes)) as Manifest;
  return {
    digest: prepared.manifest.digest,
    mediaType: prepared.manifest.mediaType,
    ...(prepared.manifest.artifactType === undefined ? {} : { artifactType: prepared.manifest.artifactType }),
    children: isIndex(manifest) ? manifest.manifests.map((d) => d.digest) : [],
    pushed,
  };
}

/** Packages a bundle; a failure names the repo and tag it belongs to. */
async function prepareWithContext(bundle: RepoConfig['bundles'][number], display: string): Promise<PreparedBundle> {
  try {
    return await prepareBundle(bundle);
  } catch (error) {
    if (!isRegplanError(error)) throw error;
    throw new RegplanError(`cannot package bundle "${bundle.tag}" of ${display}: ${error.message}`, {
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      cause: error,
      context: { ...error.context, repo: display, ref: bundle.tag },
    });
  }
}
