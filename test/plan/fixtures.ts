/**
 * Builders for cleanup-evaluation tests: inventories, policies and times, so each test states only what matters.
 */
import { createHash } from 'node:crypto';
import type { KeepRule, Policy } from '../../src/config/types.ts';
import type { PolicyFacts } from '../../src/plan/types.ts';
import type { ManifestFacts, RepoInventory, TagRecord, UntaggedRecord } from '../../src/model/inventory.ts';

/** The fixed "now" of every evaluation test. */
export const NOW = new Date('2026-06-01T12:00:00.000Z');
/** Two hours, the default grace. */
export const GRACE_MS = 2 * 3_600_000;

/** A deterministic sha256 digest named after `seed`. */
export const digestOf = (seed: string): string => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
/** The hex part of a digest (for cosign-style tag names). */
export const hexOf = (digest: string): string => digest.slice('sha256:'.length);

/** ISO time `days` days before NOW. */
export const daysAgo = (days: number): string => new Date(NOW.getTime() - days * 86_400_000).toISOString();
/** ISO time `hours` hours before NOW. */
export const hoursAgo = (hours: number): string => new Date(NOW.getTime() - hours * 3_600_000).toISOString();

/** A tag record; `pushedAt: undefined` means unknown. */
export const tag = (name: string, digest: string, pushedAt?: string): TagRecord => ({ tag: name, digest, ...(pushedAt === undefined ? {} : { pushedAt }) });

/** An inventory for `repo` (defaults: a driver that can neither untag nor list untagged). */
export function inventory(parts: {
  repo?: string;
  tags: TagRecord[];
  untag?: boolean;
  untagByPlaceholder?: boolean;
  listUntagged?: boolean;
  untagged?: UntaggedRecord[];
  manifests?: Record<string, ManifestFacts>;
}): RepoInventory {
  return {
    repo: parts.repo ?? 'registry.example.com/acme/app',
    driver: { type: 'default', untag: parts.untag ?? false, ...(parts.untagByPlaceholder ? { untagByPlaceholder: true } : {}), listUntagged: parts.listUntagged ?? false },
    tags: parts.tags,
    untagged: parts.untagged ?? [],
    manifests: parts.manifests ?? {},
  };
}

/** A policy with the given keep rules (defaults: no delete scope, untagged kept). */
export function policy(keep: KeepRule[], extra: { deleteTags?: string; untagged?: 'delete' | 'keep' } = {}): Policy {
  return { name: 'test', keep, untagged: extra.untagged ?? 'keep', ...(extra.deleteTags === undefined ? {} : { deleteTags: extra.deleteTags }) };
}

/** Facts for policies without gitRefs or listed rules. */
export const noFacts: PolicyFacts = { git: {}, listed: {} };

/** Image manifest facts. */
export const image = (extra: Partial<ManifestFacts> = {}): ManifestFacts => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', children: [], ...extra });
/** Index facts with children. */
export const index = (children: string[]): ManifestFacts => ({ mediaType: 'application/vnd.oci.image.index.v1+json', children });
