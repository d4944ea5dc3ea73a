import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { RepoConfig } from '../config/types.ts';
import { isRegplanError } from '../errors.ts';
import { chooseShard, describeShards, parseShardFlag, shardFromEnv, shardIndexOf, shardRepos } from './shard.ts';

const RUNS = Number(process.env['REGPLAN_PROPERTY_RUNS'] ?? 300);
const repo = (address: string, extra: Partial<RepoConfig> = {}): RepoConfig => ({ repo: address, bundles: [], ...extra });

/** The message of what `run` throws (a RegplanError), or undefined. */
function thrown(run: () => unknown): { message: string; hint: string | undefined; flag: string | undefined } | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!isRegplanError(error)) throw error;
    return { message: error.message, hint: error.hint, flag: error.context.flag };
  }
}

test('a repo\'s shard is sha256(address)\'s first 8 bytes, big-endian, mod N, plus 1 (values from sha256sum)', () => {
  // printf %s ADDRESS | sha256sum, the first 16 hex digits as an integer, mod N + 1, for N = 1..7.
  const expected: Record<string, number[]> = {
    'ghcr.io/acme/api': [1, 2, 3, 4, 4, 6, 3],
    'oci:./layout': [1, 1, 1, 1, 5, 1, 5],
    'quay.io/acme/charts/web': [1, 1, 3, 3, 3, 3, 5],
  };
  for (const [address, shards] of Object.entries(expected)) {
    assert.equal(shards.map((_, i) => shardIndexOf(address, i + 1)), shards, address);
  }
});

test('the shard record lists the shard\'s repos by display address, sorted, and how many the selection has', () => {
  const repos = ['ghcr.io/acme/api', 'oci:./layout', 'quay.io/acme/charts/web'].map((a) => repo(a));
  const written = repo('oci:/abs/dir/layout', { written: 'oci:./layout' });
  assert.equal(shardRepos([...repos, written], { index: 3, total: 3 }).shard, { indexes: [3], total: 3, repos: ['ghcr.io/acme/api', 'quay.io/acme/charts/web'], selectedRepos: 4 });
  // The address as written decides (oci:./layout is shard 1 of 3), not the resolved path.
  assert.equal(shardRepos([written], { index: 1, total: 3 }).repos, [written]);
  assert.equal(shardRepos(repos, undefined), { repos });
});

test('a repo entry is never split: its bundles and its cleanup stay together in one shard', () => {
  const both = repo('ghcr.io/acme/api', { bundles: [{ tag: 'docs' } as RepoConfig['bundles'][number]], cleanup: { name: 'ci' } as NonNullable<RepoConfig['cleanup']> });
  const shards = [1, 2, 3, 4].map((index) => shardRepos([both], { index, total: 4 }).repos);
  assert.equal(shards, [[], [], [], [both]]);
});

const addresses = fc.uniqueArray(fc.stringMatching(/^[a-z0-9.:/_-]{1,40}$/), { minLength: 0, maxLength: 40 });

test('property: for any N the shards are disjoint and together hold every repo, each in its given order', () => {
  fc.assert(
    fc.property(addresses, fc.integer({ min: 1, max: 9 }), (list, total) => {
      const repos = list.map((a) => repo(a));
      const shards = Array.from({ length: total }, (_, i) => shardRepos(repos, { index: i + 1, total }).repos);
      const seen = shards.flat().map((r) => r.repo);
      assert.is(seen.length, repos.length);
      assert.equal([...seen].sort(), [...list].sort());
      for (const shard of shards) assert.equal(shard, repos.filter((r) => shard.includes(r)));
    }),
    { numRuns: RUNS },
  );
});

test('property: a repo\'s shard does not change when unrelated repos are added, removed or reordered', () => {
  fc.assert(
    fc.property(addresses, addresses, fc.integer({ min: 1, max: 9 }), fc.integer(), (kept, others, total, seed) => {
      const before = [...kept, ...others.slice(0, others.length >> 1)].map((a) => repo(a));
      const grown = [...others.slice(others.length >> 1), ...kept].map((a) => repo(a));
      const after = seed & 1 ? grown.reverse() : grown;
      for (let index = 1; index <= total; index++) {
        const inShard = (repos: RepoConfig[]) => new Set(shardRepos(repos, { index, total }).repos.map((r) => r.repo));
        const [x, y] = [inShard(before), inShard(after)];
        for (const address of kept) assert.is(x.has(address), y.has(address), `${address} in shard ${index}/${total}`);
      }
    }),
    { numRuns: RUNS },
  );
});

test('--shard K/N parses whole numbers with 1 <= K <= N; anything else is a usage error naming the flag', () => {
  assert.equal(parseShardFlag('2/4'), { index: 2, total: 4 });
  assert.equal(parseShardFlag('1/1'), { index: 1, total: 1 });
  for (const bad of ['0/4', '2/0', '3', '2/4/1', '-1/4', 'a/b', '1.5/4', '', '02/4', '2 / 4']) {
    const error = thrown(() => parseShardFlag(bad));
    assert.ok(error, `"${bad}" is refused`);
    assert.is(error.flag, '--shard');
    assert.match(error.message, `--shard must be K/N (e.g. 2/4), not "${bad}"`);
  }
  const error = thrown(() => parseShardFlag('5/4'));
  assert.is(error?.message, '--shard 5/4: K (5) is larger than N (4)');
  assert.is(error?.flag, '--shard');
});

test('CI_NODE_INDEX/CI_NODE_TOTAL: GitLab\'s 1-based shard; none, or CI_NODE_TOTAL=1 alone, means no sharding', () => {
  assert.is(shardFromEnv({}), undefined);
  assert.is(shardFromEnv({ CI_NODE_TOTAL: '1' }), undefined);
  assert.is(shardFromEnv({ CI_NODE_INDEX: '', CI_NODE_TOTAL: '' }), undefined);
  assert.equal(shardFromEnv({ CI_NODE_INDEX: '2', CI_NODE_TOTAL: '4' }), { index: 2, total: 4 });
  assert.equal(shardFromEnv({ CI_NODE_INDEX: '1', CI_NODE_TOTAL: '1' }), { index: 1, total: 1 });
});

test('malformed CI_NODE_INDEX/CI_NODE_TOTAL are usage errors naming the variable and its value', () => {
  const cases: [Record<string, string>, string][] = [
    [{ CI_NODE_INDEX: 'two', CI_NODE_TOTAL: '4' }, 'CI_NODE_INDEX="two" is not a whole number of at least 1'],
    [{ CI_NODE_INDEX: '0', CI_NODE_TOTAL: '4' }, 'CI_NODE_INDEX="0" is not a whole number of at least 1'],
    [{ CI_NODE_INDEX: '2', CI_NODE_TOTAL: '4x' }, 'CI_NODE_TOTAL="4x" is not a whole number of at least 1'],
    [{ CI_NODE_INDEX: '5', CI_NODE_TOTAL: '4' }, 'CI_NODE_INDEX=5 is larger than CI_NODE_TOTAL=4'],
    [{ CI_NODE_TOTAL: '4' }, 'CI_NODE_TOTAL=4 is set but CI_NODE_INDEX is not, so the shard is unknown'],
    [{ CI_NODE_TOTAL: 'many' }, 'CI_NODE_TOTAL="many" is not a whole number of at least 1'],
    [{ CI_NODE_INDEX: '2' }, 'CI_NODE_INDEX=2 is set but CI_NODE_TOTAL is not, so the number of shards is unknown'],
  ];
  for (const [env, message] of cases) {
    const error = thrown(() => shardFromEnv(env));
    assert.is(error?.message, message, JSON.stringify(env));
    assert.match(error?.hint ?? '', '--shard 1/1 to plan every repo');
  }
});

test('--shard wins over the CI variables, even malformed ones (how a parallel:matrix job plans every repo)', () => {
  assert.equal(chooseShard('1/1', { CI_NODE_INDEX: 'x', CI_NODE_TOTAL: '3' }), { index: 1, total: 1 });
  assert.equal(chooseShard(undefined, { CI_NODE_INDEX: '3', CI_NODE_TOTAL: '3' }), { index: 3, total: 3 });
  assert.is(chooseShard(undefined, {}), undefined);
});

test('shards are described as people count them', () => {
  assert.is(describeShards({ indexes: [2], total: 4 }), 'shard 2/4');
  assert.is(describeShards({ indexes: [1, 3], total: 4 }), 'shards 1, 3 of 4');
});

test.run();
