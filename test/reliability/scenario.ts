/**
 * The cleanup scenario of the fault suite, varied by seed: releases (kept), a PR tag sharing a kept release's
 * manifest (untagged through a placeholder, the canary for a wrong digest delete), main builds of which the newest is kept, `latest`
 * pointing at one of the main builds (it protects that build's manifest; an older main tag on it is untagged), PR builds, and sometimes two PR tags
 * on one manifest. What must remain follows from the policy by hand, and the fault-free run (rate 0) proves
 * this model matches regplan's plan.
 */
import { mulberry32 } from './fault-proxy.ts';

/** One image to push and the tags it gets. */
export interface SeedImage {
  tags: string[];
  /** Days after 2025-01-01 (the image config's `created`). */
  day: number;
  content: string;
}

/** A seeded world and what a correct cleanup leaves. */
export interface Scenario {
  repo: string;
  images: SeedImage[];
  /** Tags that must survive every run, sorted. */
  kept: string[];
  /** Tags the policy deletes, sorted. */
  doomed: string[];
}

/** The policy every scenario is cleaned with. */
export const POLICY_YAML = [
  'policies:',
  '  ci:',
  '    keep:',
  "      - tags: '^v\\d+\\.\\d+\\.\\d+$'",
  '      - newest: 1',
  "        tags: '^main-'",
  "    delete: { tags: '^(pr|main)-' }",
];

/** The scenario for `seed`: 8 to 14 tags, the same every time for the same seed. */
export function scenarioFor(seed: number): Scenario {
  const random = mulberry32(seed * 7919 + 17);
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const repo = `rel/s${seed}`;
  const images: SeedImage[] = [
    { tags: ['v1.0.0'], day: 0, content: `${repo} v1.0.0` },
    { tags: ['v1.1.0', 'pr-shared'], day: 10, content: `${repo} v1.1.0` },
  ];
  const kept = ['v1.0.0', 'v1.1.0'];
  const doomed: string[] = ['pr-shared'];
  const mains = int(2, 4);
  const latestOn = int(1, mains);
  for (let i = 1; i <= mains; i++) {
    const tags = [`main-${i}`, ...(i === latestOn ? ['latest'] : [])];
    images.push({ tags, day: 100 + i, content: `${repo} main-${i}` });
    // A main build under `latest` but not the newest shares latest's manifest: its tag goes through a placeholder.
    if (i === mains) {
      kept.push(...tags);
    } else if (i === latestOn) {
      kept.push('latest');
      doomed.push(`main-${i}`);
    } else {
      doomed.push(...tags);
    }
  }
  for (let i = 1, prs = int(1, 3); i <= prs; i++) {
    images.push({ tags: [`pr-${i}`], day: 200 + i, content: `${repo} pr-${i}` });
    doomed.push(`pr-${i}`);
  }
  if (random() < 0.5) {
    images.push({ tags: ['pr-dup-a', 'pr-dup-b'], day: 230, content: `${repo} pr-dup` });
    doomed.push('pr-dup-a', 'pr-dup-b');
  }
  return { repo, images, kept: kept.sort(), doomed: doomed.sort() };
}
