/**
 * fast-check generators for cleanup evaluation: small random repos with tags sharing digests, known, unknown and
 * garbled push times around the grace boundary, cosign-style referrer tags (some orphaned), OCI referrers,
 * indexes with children, untagged manifests (duplicated, overlapping tags), and random policies over every rule.
 */
import fc from 'fast-check';
import type { KeepRule, Policy } from '../../src/config/types.ts';
import type { PolicyFacts } from '../../src/plan/types.ts';
import { NOW, digestOf, hexOf } from './fixtures.ts';
import type { ManifestFacts, RepoInventory, UntaggedRecord } from '../../src/model/inventory.ts';

/** The repo every generated inventory is for. */
export const REPO = 'registry.example.com/acme/app';
const POOL = ['img0', 'img1', 'img2', 'img3', 'img4', 'img5', 'img6', 'img7', 'img8', 'img9'].map(digestOf);
const EXTRA = ['u0', 'u1', 'u2'].map(digestOf);
const GONE = digestOf('gone');
const POOL_0 = POOL[0] as string;
const POOL_1 = POOL[1] as string;

const NAMES = [
  'v1.0.0', 'v1.0.1', 'v1.1.0', '1.1.1', 'v2.0.0-rc.1', 'v2.0.0', 'v3.0.0', 'main', 'main-abc1234', 'feature-x', 'feature-X',
  'pr-1', 'pr-2', 'pr-3', 'pr-4', 'branch-a', 'latest', 'x-1', 'sha-1234567',
  ...POOL.slice(0, 4).flatMap((d) => [`sha256-${hexOf(d)}.sig`, `sha256-${hexOf(d)}.att`, `sha256-${hexOf(d)}`]),
  `sha256-${hexOf(GONE)}.sig`,
];

const HOURS_AGO = [-1, 0, 1, 2, 2.5, 24, 240, 500, 960, 2000];
const time = fc.option(
  fc.oneof(
    { arbitrary: fc.constantFrom(...HOURS_AGO).map((h) => new Date(NOW.getTime() - h * 3_600_000).toISOString()), weight: 12 },
    { arbitrary: fc.constant('garbled'), weight: 1 },
  ),
  { nil: undefined, freq: 6 },
);

/** A tag's last pull as inventory hands it over: a time, 'never', a garbled value, or unknown (absent). */
const PULLED = fc.option(
  fc.oneof(
    { arbitrary: fc.constantFrom(...HOURS_AGO).map((h) => new Date(NOW.getTime() - h * 3_600_000).toISOString()), weight: 6 },
    { arbitrary: fc.constant('never'), weight: 3 },
    { arbitrary: fc.constant('garbled'), weight: 1 },
  ),
  { nil: undefined, freq: 3 },
);

const withTime = <T extends object>(value: T, pushedAt: string | undefined): T & { pushedAt?: string } =>
  pushedAt === undefined ? value : { ...value, pushedAt };

const manifestFacts: fc.Arbitrary<ManifestFacts> = fc
  .record({
    index: fc.boolean(),
    children: fc.subarray([...POOL, ...EXTRA], { maxLength: 3 }),
    subject: fc.option(fc.constantFrom(...POOL, GONE), { nil: undefined, freq: 3 }),
    artifactType: fc.option(fc.constant('application/vnd.dev.cosign.artifact.sig.v1+json'), { nil: undefined }),
  })
  .map(({ index, children, subject, artifactType }) => ({
    mediaType: index ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json',
    children: index ? children : [],
    ...(subject === undefined ? {} : { subject }),
    ...(artifactType === undefined ? {} : { artifactType }),
  }));

/** A random inventory of REPO. */
export const inventoryArb: fc.Arbitrary<RepoInventory> = fc
  .record({
    tags: fc.uniqueArray(
      fc.record({ tag: fc.constantFrom(...NAMES), digest: fc.constantFrom(...POOL), pushedAt: time, pulled: PULLED })
        .map(({ tag, digest, pushedAt, pulled }) => ({ ...withTime({ tag, digest }, pushedAt), ...(pulled === undefined ? {} : { pulled }) })),
      { selector: (t) => t.tag, maxLength: 14 },
    ),
    untagged: fc.array(
      fc.record({ digest: fc.constantFrom(...POOL, ...EXTRA), pushedAt: time }).map(({ digest, pushedAt }): UntaggedRecord => withTime({ digest }, pushedAt)),
      { maxLength: 5 },
    ),
    manifests: fc.array(fc.tuple(fc.constantFrom(...POOL, ...EXTRA), manifestFacts), { maxLength: 8 }),
    untag: fc.boolean(),
    listUntagged: fc.boolean(),
  })
  .map(({ tags, untagged, manifests, untag, listUntagged }) => ({
    repo: REPO,
    driver: { type: 'default' as const, untag, listUntagged },
    tags,
    untagged,
    manifests: Object.fromEntries(manifests),
  }));

const DAY = 86_400_000;
/** The one inUse source generated rules name (its facts are generated in factsArb). */
const IN_USE_SOURCE = { kind: 'file' as const, file: 'running.txt' };
const IN_USE_KEY = JSON.stringify(IN_USE_SOURCE);
/** groupBy patterns over NAMES: by captured prefix word, by version major, by two captures, by whole match. */
const GROUP_BY = fc.option(fc.constantFrom('^([a-z]+)', '^v?(\\d+)\\.', '^(pr|main)-?(\\d*)', '^[a-z]+-'), { nil: undefined, freq: 2 });
const keepRuleArb: fc.Arbitrary<KeepRule> = fc.oneof(
  fc.constantFrom('^v', '^main$', 'x', '^pr-1$', '^sha256-').map((pattern): KeepRule => ({ kind: 'tags', pattern })),
  fc.record({ count: fc.integer({ min: 0, max: 4 }), tags: fc.option(fc.constantFrom('^main', '^pr-', '^(pr|main)'), { nil: undefined }), groupBy: GROUP_BY })
    .map(({ count, tags, groupBy }): KeepRule => ({ kind: 'newest', count, ...(tags === undefined ? {} : { tags }), ...(groupBy === undefined ? {} : { groupBy }) })),
  fc.record({ window: fc.constantFrom<[number, string]>([3_600_000, '1h'], [DAY, '1d'], [10 * DAY, '10d']), groupBy: GROUP_BY })
    .map(({ window: [durationMs, text], groupBy }): KeepRule => ({ kind: 'pushedWithin', durationMs, text, ...(groupBy === undefined ? {} : { groupBy }) })),
  fc.constantFrom<[number, string]>([DAY, '1d'], [10 * DAY, '10d'], [100 * DAY, '100d']).map(([durationMs, text]): KeepRule => ({ kind: 'pulledWithin', durationMs, text })),
  fc.record({
    latestPerMinor: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
    latestPerMajor: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
    latestMajors: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
    prerelease: fc.boolean(),
  }).map(({ latestPerMinor, latestPerMajor, latestMajors, prerelease }): KeepRule => ({
    kind: 'semver',
    prerelease,
    ...(latestPerMinor === undefined ? {} : { latestPerMinor }),
    ...(latestPerMajor === undefined ? {} : { latestPerMajor }),
    ...(latestMajors === undefined ? {} : { latestMajors }),
  })),
  fc.record({ branches: fc.boolean(), tags: fc.boolean(), commits: fc.integer({ min: 0, max: 3 }) }).map((r): KeepRule => ({ kind: 'gitRefs', repo: '.', ...r })),
  fc.constant<KeepRule>({ kind: 'listed', file: 'keep.txt' }),
  fc.constant<KeepRule>({ kind: 'inUse', source: IN_USE_SOURCE }),
);

/** A random cleanup policy. */
export const policyArb: fc.Arbitrary<Policy> = fc
  .record({
    keep: fc.array(keepRuleArb, { maxLength: 3 }),
    deleteTags: fc.option(fc.constantFrom('^pr-', '^(pr|branch)-', '.', 'main'), { nil: undefined }),
    untagged: fc.constantFrom<'delete' | 'keep'>('delete', 'keep'),
  })
  .map(({ keep, deleteTags, untagged }) => ({ name: 'random', keep, untagged, ...(deleteTags === undefined ? {} : { deleteTags }) }));

/** Random gathered facts for the gitRefs ('.') and listed ('keep.txt') rules. */
export const factsArb: fc.Arbitrary<PolicyFacts> = fc
  .record({
    lines: fc.subarray(['pr-1', `${REPO}:pr-2`, 'other.example.com/app:pr-3', POOL_1, '# comment', 'latest # deployed', `${REPO}:${'v1.0.0'}`]),
    images: fc.subarray([
      `${REPO}:pr-3`, `${REPO}@${POOL_0}`, `${REPO}:main@${POOL_1}`, REPO, 'REGISTRY.example.com/acme/app:feature-x',
      'registry.example.com/acme/other:pr-4', `registry.example.com/acme/other@${POOL_1}`, 'pr-1',
    ]),
  })
  .map(({ lines, images }) => ({
    git: {
      '.': {
        branches: ['feature/X', 'main'],
        tags: ['v1.0.0'],
        commits: ['1234567aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'abc1234bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', `${hexOf(POOL_0).slice(0, 40)}`],
      },
    },
    listed: { 'keep.txt': lines },
    inUse: { [IN_USE_KEY]: images.map((image, i) => ({ image, by: `Pod ns/p${i}` })) },
  }));

/** Grace windows to try: none, and the default 2h (some generated times sit exactly on it). */
export const graceArb = fc.constantFrom(0, 2 * 3_600_000);
