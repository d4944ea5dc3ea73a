/**
 * The cleanup scenario several native-driver e2e tests share: one repo seeded into an emulator's store with
 * releases, a PR tag sharing a kept release's manifest, PR and main builds of various ages, a fresh PR build
 * within grace, and an untagged manifest; plus the config that cleans it.
 */
import type { RegistryStore } from '../emulators/memory-registry.ts';

const DAY = 86_400_000;
/** A time `days` ago. */
export const daysAgo = (days: number): Date => new Date(Date.now() - days * DAY);

/** Seeds the scenario; returns the kept release digest (shared with `pr-shared`) and the untagged manifest. */
export function seedCleanupScenario(store: RegistryStore, repo: string): { release: string; orphan: string } {
  const seed = (tags: string[], days: number) => store.seedImage(repo, tags, { pushedAt: daysAgo(days), created: daysAgo(days) });
  seed(['v1.0.0'], 90);
  const release = seed(['v1.1.0'], 60).digest;
  const bytes = store.manifest(repo, release)?.bytes as Uint8Array;
  store.putManifest(repo, 'pr-shared', bytes, 'application/vnd.oci.image.manifest.v1+json', daysAgo(30)); // same manifest as the kept v1.1.0
  for (const [i, tag] of ['pr-1', 'pr-2', 'pr-3'].entries()) seed([tag], 40 - i);
  seed(['pr-locked'], 35);
  for (const [i, tag] of ['main-1', 'main-2', 'main-3', 'main-4'].entries()) seed([tag], 20 - i);
  seed(['pr-fresh'], 0.01);
  const orphan = seed(['orphan'], 50).digest;
  store.untag(repo, 'orphan');
  return { release, orphan };
}

/** The config that cleans the scenario: releases kept, the 2 newest main builds kept, untagged deleted. */
export function cleanupScenarioConfig(options: { host: string; type: string; api: string; repo: string }): string {
  return [
    'version: 1',
    'settings: { concurrency: 4, grace: 2h }',
    'registries:',
    `  "${options.host}": { type: ${options.type}, api: "${options.api}" }`,
    'policies:',
    '  ci:',
    '    keep:',
    "      - tags: '^v\\d+\\.\\d+\\.\\d+$'",
    '      - newest: 2',
    "        tags: '^main-'",
    "    delete: { tags: '^(pr|main)-' }",
    '    untagged: delete',
    'repos:',
    `  - repo: ${options.host}/${options.repo}`,
    '    cleanup: ci',
    '',
  ].join('\n');
}

/**
 * Adds `count` old PR builds (`pr-build-000`, …), each its own manifest, pushed 45 days ago and older, so the
 * listing spans more than one page of 100 and apply deletes many tags concurrently. All are planned for deletion.
 */
export function seedManyPrBuilds(store: RegistryStore, repo: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const tag = `pr-build-${String(i).padStart(3, '0')}`;
    store.seedImage(repo, [tag], { pushedAt: daysAgo(45 + i / 100), created: daysAgo(45 + i / 100), content: `${repo}:${tag}` });
    return tag;
  });
}

/** The tags `cleanupScenarioConfig` keeps of `seedCleanupScenario` (releases, pr-shared's manifest via v1.1.0, the 2 newest mains, pr-fresh). */
export const CLEANUP_SCENARIO_KEPT = ['main-3', 'main-4', 'pr-fresh', 'v1.0.0', 'v1.1.0'] as const;
