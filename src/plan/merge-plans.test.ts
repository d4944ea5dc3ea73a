import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isRegplanError } from '../errors.ts';
import { assemblePlan } from './assemble.ts';
import { mergeShardPlans, type ShardPlanFile } from './merge-plans.ts';
import { planSchemaProblems } from './planfile.ts';
import { shardIndexOf } from './shard.ts';
import type { Action, Kept, Plan, PlanShard, Skipped } from './types.ts';

const TOTAL = 3;
const DIGEST = `sha256:${'a'.repeat(64)}`;
const CONFIG = `sha256:${'c'.repeat(64)}`;
/** Twelve repo addresses, and the shard of 3 each falls in. */
const REPOS = Array.from({ length: 12 }, (_, i) => `ghcr.io/acme/app-${i}`);
const shardOf = (repo: string) => shardIndexOf(repo, TOTAL);

/** What each repo contributes to a plan (the same whatever else is planned): a push for even-numbered ones, two deletes, a kept and a skipped tag. */
function entries(repos: readonly string[]): { actions: Action[]; kept: Kept[]; skipped: Skipped[] } {
  const sorted = [...repos].sort();
  return {
    actions: [
      ...sorted.filter((repo) => /[02468]$/.test(repo)).map((repo): Action => ({ type: 'push', repo, tag: 'docs', digest: DIGEST, reason: 'new tag' })),
      ...sorted.flatMap((repo): Action[] => [
        { type: 'delete', repo, tag: 'pr-2', digest: DIGEST, mode: 'manifest', reason: 'old' },
        { type: 'delete', repo, tag: 'pr-10', digest: DIGEST, mode: 'manifest', reason: 'old', coveredBy: 'pr-2' },
      ]),
    ],
    kept: sorted.map((repo) => ({ repo, tag: 'v1', digest: DIGEST, rules: ['tags ^v'] })),
    skipped: sorted.map((repo) => ({ repo, tag: 'main-1', digest: DIGEST, reason: 'shares manifest' })),
  };
}

/** The plan of shard `index` (of all REPOS unless `repos` says otherwise), as `plan --shard index/TOTAL` makes it. */
function shardPlan(index: number, options: { repos?: string[]; configDigest?: string; regplanVersion?: string; createdAt?: string; shard?: Partial<PlanShard> } = {}): Plan {
  const repos = options.repos ?? REPOS.filter((repo) => shardOf(repo) === index);
  const shard = { indexes: [index], total: TOTAL, repos: [...repos].sort(), selectedRepos: REPOS.length, ...options.shard };
  return assemblePlan(entries(repos), {
    createdAt: new Date(options.createdAt ?? `2026-01-0${index}T00:00:00.000Z`),
    configDigest: options.configDigest ?? CONFIG,
    regplanVersion: options.regplanVersion ?? '1.0.0',
    shard,
  });
}

const files = (...plans: Plan[]): ShardPlanFile[] => plans.map((plan, i) => ({ file: `plan-${plan.shard?.indexes.join('+') ?? 'whole'}${i > 0 && plans.slice(0, i).some((p) => p.shard?.indexes[0] === plan.shard?.indexes[0]) ? 'b' : ''}.json`, plan }));

/** The message of the refusal, or undefined. */
function refusal(inputs: ShardPlanFile[], options: { allowPartial?: boolean } = {}): { message: string; hint: string | undefined } | undefined {
  try {
    mergeShardPlans(inputs, options);
    return undefined;
  } catch (error) {
    if (!isRegplanError(error)) throw error;
    return { message: error.message, hint: error.hint };
  }
}

test('the repos fall in every shard (the fixture exercises a real split)', () => {
  assert.equal([...new Set(REPOS.map(shardOf))].sort(), [1, 2, 3]);
});

test('merging every shard, in any order, gives the unsharded plan byte for byte, created at the earliest shard\'s time', () => {
  const whole = assemblePlan(entries(REPOS), { createdAt: new Date('2026-01-01T00:00:00.000Z'), configDigest: CONFIG, regplanVersion: '1.0.0' });
  const merged = mergeShardPlans(files(shardPlan(3), shardPlan(1), shardPlan(2)));
  assert.equal(merged.missing, []);
  assert.is(JSON.stringify(merged.plan, null, 2), JSON.stringify(whole, null, 2));
  assert.not.ok('shard' in merged.plan);
});

test('a plan made without --shard is refused, naming its file', () => {
  const whole = assemblePlan(entries(REPOS), { createdAt: new Date(), configDigest: CONFIG });
  assert.match(refusal([{ file: 'plan.json', plan: whole }])?.message ?? '', '"plan.json" is a plan of every selected repo, not of one shard');
});

test('shard plans of different configs, regplan versions, N or repo selections are refused, naming the files', () => {
  const other = `sha256:${'d'.repeat(64)}`;
  assert.is(
    refusal(files(shardPlan(1), shardPlan(2, { configDigest: other }), shardPlan(3)))?.message,
    `the shard plans were made from different configs (plan-1.json and plan-3.json: config ${CONFIG}; plan-2.json: config ${other})`,
  );
  assert.is(
    refusal(files(shardPlan(1), shardPlan(2, { regplanVersion: '1.1.0' }), shardPlan(3)))?.message,
    'the shard plans were made by different regplan versions (plan-1.json and plan-3.json: regplan 1.0.0; plan-2.json: regplan 1.1.0)',
  );
  assert.is(
    refusal(files(shardPlan(1), shardPlan(2, { shard: { total: 4 } }), shardPlan(3)))?.message,
    'the shard plans split the repos into different numbers of shards (plan-1.json and plan-3.json: N = 3; plan-2.json: N = 4)',
  );
  assert.is(
    refusal(files(shardPlan(1), shardPlan(2, { shard: { selectedRepos: 11 } }), shardPlan(3)))?.message,
    'the shard plans were made from different repo selections (plan-1.json and plan-3.json: 12 repos selected; plan-2.json: 11 repos selected)',
  );
});

test('a shard given twice is refused, naming both files', () => {
  assert.is(refusal(files(shardPlan(1), shardPlan(2), shardPlan(2), shardPlan(3)))?.message, 'shard 2/3 is given twice: in "plan-2.json" and in "plan-2b.json"');
});

test('a repo in two shard plans is refused, naming the repo and both files', () => {
  const [inOne] = REPOS.filter((repo) => shardOf(repo) === 1);
  const second = shardPlan(2, { repos: [...REPOS.filter((repo) => shardOf(repo) === 2), inOne as string] });
  assert.is(refusal(files(shardPlan(1), second, shardPlan(3)))?.message, `repo "${inOne}" is in two shard plans: "plan-1.json" and "plan-2.json"`);
});

test('a repo listed in a shard it does not hash to, or an entry for an unlisted repo, is refused as an edited file', () => {
  const [inOne] = REPOS.filter((repo) => shardOf(repo) === 1);
  const moved = shardPlan(2, { repos: [...REPOS.filter((repo) => shardOf(repo) === 2), inOne as string] });
  const withoutOne = shardPlan(1, { repos: REPOS.filter((repo) => shardOf(repo) === 1 && repo !== inOne) });
  assert.is(refusal(files(withoutOne, moved, shardPlan(3)))?.message, `"plan-2.json" (shard 2/3) lists repo "${inOne}", which belongs to shard 1/3`);
  const stray = shardPlan(1);
  stray.shard = { ...(stray.shard as PlanShard), repos: (stray.shard as PlanShard).repos.slice(1) };
  assert.match(refusal(files(stray, shardPlan(2), shardPlan(3)))?.message ?? '', /^"plan-1\.json" has an entry for repo "[^"]+", which its shard record does not list$/);
});

test('all N shards that cover fewer repos than the selection has are refused', () => {
  const [dropped] = REPOS.filter((repo) => shardOf(repo) === 3);
  const short = shardPlan(3, { repos: REPOS.filter((repo) => shardOf(repo) === 3 && repo !== dropped) });
  assert.is(refusal(files(shardPlan(1), shardPlan(2), short))?.message, 'the 3 shard plans cover 11 repos, but each says the selection has 12');
});

test('missing shards are an error naming them and the files given; --allow-partial makes a plan that records its shards', () => {
  const inputs = files(shardPlan(1), shardPlan(3));
  const covered = REPOS.filter((repo) => shardOf(repo) !== 2).sort();
  const error = refusal(inputs);
  assert.is(error?.message, `shard 2/3 missing: the files given (plan-1.json, plan-3.json) cover shards 1, 3 of 3 (${covered.length} of 12 repos), so the merged plan would not cover the whole config`);
  assert.match(error?.hint ?? '', '--allow-partial');
  const partial = mergeShardPlans(inputs, { allowPartial: true });
  assert.equal(partial.missing, [2]);
  assert.equal(partial.plan.shard, { indexes: [1, 3], total: 3, repos: covered, selectedRepos: 12 });
  assert.equal([...new Set(partial.plan.actions.map((a) => a.repo))].sort(), covered);
  assert.is(partial.plan.summary.delete, covered.length * 2);
});

test('merged partial plans merge again with the missing shard into the whole plan', () => {
  const partial = mergeShardPlans(files(shardPlan(1), shardPlan(3)), { allowPartial: true }).plan;
  const whole = mergeShardPlans(files(shardPlan(1), shardPlan(2), shardPlan(3))).plan;
  assert.equal(mergeShardPlans([{ file: 'partial.json', plan: partial }, { file: 'plan-2.json', plan: shardPlan(2) }]).plan, whole);
});

test('the plan schema takes a shard record and refuses a malformed one', () => {
  assert.equal(planSchemaProblems(shardPlan(1)), []);
  const withShard = (shard: unknown) => ({ ...shardPlan(1), shard });
  assert.ok(planSchemaProblems(withShard({ indexes: [], total: 3, repos: [], selectedRepos: 0 })).length > 0, 'no shard index');
  assert.ok(planSchemaProblems(withShard({ indexes: [0], total: 3, repos: [], selectedRepos: 0 })).length > 0, 'shard 0');
  assert.ok(planSchemaProblems(withShard({ indexes: [1], total: 3, repos: [] })).length > 0, 'no selectedRepos');
  assert.ok(planSchemaProblems(withShard({ indexes: [1], total: 3, repos: [], selectedRepos: 0, extra: 1 })).length > 0, 'an unknown field');
});

test.run();
