/**
 * A cleanup scenario big enough that every native listing spans several pages and apply deletes concurrently:
 * 150 old PR builds, 10 kept releases, 3 PR tags sharing a kept release's manifest, 2 untagged manifests and a
 * fresh PR build within grace. Native-driver e2e tests seed it into their emulator, run plan + apply, and then
 * check the emulator's own state with `pagedScenarioLeft`.
 */
import type { RegistryStore } from '../emulators/memory-registry.ts';
import { daysAgo } from './cleanup-scenario.ts';

/** What was seeded: the digests each assertion needs. */
export interface PagedScenario {
  /** Kept release tag -> digest. */
  releases: Map<string, string>;
  /** Old PR tag -> digest (one image each): all planned for deletion. */
  doomed: Map<string, string>;
  /** PR tags sharing a release's manifest: untagged where the registry can, else skipped. */
  shared: string[];
  /** Untagged manifests, old enough to delete. */
  orphans: string[];
  /** The PR build within grace (kept). */
  fresh: string;
}

/** Old PR builds seeded: more than one page of any listing the emulators serve. */
export const PAGED_DOOMED = 150;

/** Seeds the scenario into `repo`. */
export function seedPagedScenario(store: RegistryStore, repo: string): PagedScenario {
  const releases = new Map<string, string>();
  for (let i = 0; i < 10; i++) releases.set(`v1.${i}.0`, store.seedImage(repo, [`v1.${i}.0`], { pushedAt: daysAgo(100 - i), content: `release ${i}` }).digest);
  const doomed = new Map<string, string>();
  for (let i = 0; i < PAGED_DOOMED; i++) doomed.set(`pr-${i}`, store.seedImage(repo, [`pr-${i}`], { pushedAt: daysAgo(10 + (i % 30)), content: `pr ${i}` }).digest);
  const shared = ['pr-shared-0', 'pr-shared-1', 'pr-shared-2'];
  shared.forEach((tag, i) => {
    const release = store.manifest(repo, releases.get(`v1.${i}.0`) ?? '');
    if (release === undefined) throw new Error('seeding: release missing');
    store.putManifest(repo, tag, release.bytes, release.mediaType, daysAgo(20));
  });
  const orphans = [0, 1].map((i) => {
    const { digest } = store.seedImage(repo, [`orphan-${i}`], { pushedAt: daysAgo(30), content: `orphan ${i}` });
    store.untag(repo, `orphan-${i}`);
    return digest;
  });
  const fresh = store.seedImage(repo, ['pr-fresh'], { pushedAt: daysAgo(0.01), content: 'fresh' }).digest;
  return { releases, doomed, shared, orphans, fresh };
}

/** The config that cleans it: releases kept, every PR tag a candidate, untagged deleted, 8 deletes at a time. */
export function pagedScenarioConfig(options: { host: string; type: string; api: string; repo: string }): string {
  return [
    'version: 1',
    'settings: { concurrency: 8, grace: 2h }',
    'registries:',
    `  "${options.host}": { type: ${options.type}, api: "${options.api}" }`,
    'policies:',
    '  ci:',
    "    keep: [{ tags: '^v\\d+\\.\\d+\\.\\d+$' }]",
    "    delete: { tags: '^pr-' }",
    '    untagged: delete',
    'repos:',
    `  - repo: ${options.host}/${options.repo}`,
    '    cleanup: ci',
    '',
  ].join('\n');
}

/**
 * What the emulator should hold after apply, read from its store: the tags left (sorted), and the planned
 * digests still present. `untag` says whether the registry removed the shared PR tags (else they were skipped).
 */
export function pagedScenarioLeft(store: RegistryStore, repo: string, scenario: PagedScenario, options: { untag: boolean }): { tags: string[]; expectedTags: string[]; doomedLeft: string[]; releasesMissing: string[] } {
  const tags = store.tags(repo).map((t) => t.tag);
  const expectedTags = [...scenario.releases.keys(), 'pr-fresh', ...(options.untag ? [] : scenario.shared)].sort();
  const doomedLeft = [...scenario.doomed.values(), ...scenario.orphans].filter((digest) => store.manifest(repo, digest) !== undefined);
  const releasesMissing = [...scenario.releases].filter(([tag, digest]) => store.manifest(repo, digest) === undefined || store.resolve(repo, tag)?.digest !== digest).map(([tag]) => tag);
  return { tags, expectedTags, doomedLeft, releasesMissing };
}
