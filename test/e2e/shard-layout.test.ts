/**
 * Sharding end to end on local OCI layouts, through runCli as CI runs it: for N = 1..5 the shard plans of a
 * 15-repo config are disjoint, together hold exactly the unsharded plan, and `plan --merge` of them is the
 * unsharded plan file byte for byte (createdAt aside); CI_NODE_INDEX/CI_NODE_TOTAL pick the same shard as the
 * flag; an empty shard is a valid empty plan; and apply of one shard plan changes that shard's repos only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { OciLayout } from '../../src/layout/store.ts';
import { shardIndexOf } from '../../src/plan/shard.ts';
import type { Plan } from '../../src/plan/types.ts';
import { captureIo } from '../support/io.ts';
import { DEMO_LAYOUT, removeTempDirs, tempDir } from '../support/oci-layout.ts';

test.after(removeTempDirs);

const CLEANUP = Array.from({ length: 12 }, (_, i) => `oci:./r${String(i + 1).padStart(2, '0')}`);
/** r12 also gets a bundle; out/b1..b3 only bundles (created by apply). */
const BUNDLE_ONLY = ['oci:./out/b1', 'oci:./out/b2', 'oci:./out/b3'];
const ALL = [...CLEANUP, ...BUNDLE_ONLY].sort();

const BUNDLE = ['    bundles:', '      - tag: release-notes', '        files: [./notes.md]', '        artifactType: application/vnd.regplan.demo.notes.v1'];

/** A temp dir with twelve copies of the demo layout, a bundle file and a config covering 15 repos. */
async function world(repos: { cleanup: readonly string[]; bundleOnly: readonly string[] } = { cleanup: CLEANUP, bundleOnly: BUNDLE_ONLY }) {
  const dir = await tempDir('regplan-shard-');
  const lines = [
    'version: 1',
    'settings: { grace: 2h }',
    'policies:',
    '  ci:',
    '    keep:',
    '      - semver: { latestPerMinor: 2, latestMajors: 3 }',
    "      - tags: '^v\\d+\\.\\d+\\.\\d+$'",
    '      - { newest: 3, tags: "^main-" }',
    "    delete: { tags: '^(pr|branch|main)-' }",
    'repos:',
  ];
  for (const address of repos.cleanup) {
    await cp(DEMO_LAYOUT, path.join(dir, address.slice('oci:./'.length)), { recursive: true });
    lines.push(`  - repo: ${address}`, '    cleanup: ci', ...(address === 'oci:./r12' ? BUNDLE : []));
  }
  for (const address of repos.bundleOnly) lines.push(`  - repo: ${address}`, ...BUNDLE);
  await writeFile(path.join(dir, 'registry.config.yaml'), lines.join('\n') + '\n');
  await writeFile(path.join(dir, 'notes.md'), '# release notes\n');
  const run = async (argv: string[], env: Record<string, string> = {}) => {
    const io = captureIo({ REGPLAN_CACHE_DIR: path.join(dir, '.cache'), HOME: dir, ...env }, dir);
    const code = await runCli(argv, io);
    return { code, out: io.out(), err: io.err() };
  };
  const planFile = async (name: string): Promise<string> => readFile(path.join(dir, name), 'utf8');
  return { dir, run, planFile };
}

/** A plan file's text with its creation time blanked: the one field two runs may differ in. */
const timeless = (text: string): string => text.replace(/"createdAt": "[^"]+"/, '"createdAt": ""');
const parse = (text: string): Plan => JSON.parse(text) as Plan;
/** A list of plan entries in one canonical order, for comparing unions. */
const sorted = (items: readonly unknown[]): string[] => items.map((item) => JSON.stringify(item)).sort();

test('the 15 repos spread over the shards of every N from 2 to 5 (the test exercises real splits)', () => {
  for (let total = 2; total <= 5; total++) assert.ok(new Set(ALL.map((repo) => shardIndexOf(repo, total))).size >= 2, `N = ${total}`);
});

test('N = 1..5: shards are disjoint, their union is the unsharded plan, and --merge gives the unsharded plan file byte for byte', async () => {
  const { run, planFile } = await world();
  // The reasons say "pushed 73d ago": a plan made across a day boundary of a push time differs. Retry once then.
  for (let attempt = 1; ; attempt++) {
    assert.is((await run(['plan', '--out', 'whole.json'])).code, 0);
    const whole = await planFile('whole.json');
    const problems: string[] = [];
    for (let total = 1; total <= 5; total++) {
      const files: string[] = [];
      const shards: Plan[] = [];
      for (let index = 1; index <= total; index++) {
        const file = `plan-${index}-of-${total}.json`;
        const result = await run(['plan', '--shard', `${index}/${total}`, '--out', file]);
        assert.is(result.code, 0, result.err);
        const plan = parse(await planFile(file));
        const mine = ALL.filter((repo) => shardIndexOf(repo, total) === index);
        assert.equal(plan.shard, { indexes: [index], total, repos: mine, selectedRepos: ALL.length });
        assert.ok(result.out.startsWith(`shard ${index}/${total}: ${mine.length} of ${ALL.length} repos`), result.out);
        for (const entry of [...plan.actions, ...plan.kept, ...plan.skipped]) assert.ok(mine.includes(entry.repo), `${entry.repo} is in shard ${index}/${total}`);
        files.push(file);
        shards.push(plan);
      }
      // Disjoint, and together every repo.
      const listed = shards.flatMap((plan) => plan.shard?.repos ?? []);
      assert.equal([...listed].sort(), ALL, `N = ${total}`);
      // The union of the shards' entries is the unsharded plan's.
      const unsharded = parse(whole);
      for (const key of ['actions', 'kept', 'skipped'] as const) {
        if (JSON.stringify(sorted(shards.flatMap((plan): unknown[] => plan[key]))) !== JSON.stringify(sorted(unsharded[key]))) problems.push(`N = ${total}: ${key} differ`);
      }
      const merged = await run(['plan', '--merge', ...files, '--out', `merged-${total}.json`]);
      assert.is(merged.code, 0, merged.err);
      assert.match(merged.err, `Merged ${total} plan file${total === 1 ? '' : 's'}: all ${total} shard${total === 1 ? '' : 's'}, 15 repos.`);
      if (timeless(await planFile(`merged-${total}.json`)) !== timeless(whole)) problems.push(`N = ${total}: the merged plan file differs from the unsharded one`);
    }
    assert.is((await run(['plan', '--out', 'whole-after.json'])).code, 0);
    const clockMoved = timeless(await planFile('whole-after.json')) !== timeless(whole);
    if (clockMoved && attempt === 1) continue;
    assert.not.ok(clockMoved, 'the unsharded plan changed during the test twice');
    assert.equal(problems, []);
    const merged = parse(await planFile('merged-3.json'));
    assert.ok(merged.actions.some((a) => a.type === 'push') && merged.actions.some((a) => a.type === 'delete') && merged.kept.length > 0, 'the plan has pushes, deletes and kept tags');
    break;
  }
});

test('CI_NODE_INDEX/CI_NODE_TOTAL choose the same shard as --shard; CI_NODE_TOTAL=1 alone plans every repo', async () => {
  const { run } = await world();
  const byEnv = await run(['plan', '--json'], { CI_NODE_INDEX: '2', CI_NODE_TOTAL: '3' });
  const byFlag = await run(['plan', '--json', '--shard', '2/3']);
  assert.is(byEnv.code, 0, byEnv.err);
  assert.equal(parse(byEnv.out).shard, parse(byFlag.out).shard);
  assert.is(timeless(byEnv.out), timeless(byFlag.out));
  const unsharded = await run(['plan', '--json'], { CI_NODE_TOTAL: '1' });
  assert.is(parse(unsharded.out).shard, undefined);
  assert.equal([...new Set(parse(unsharded.out).kept.map((k) => k.repo))].sort(), CLEANUP);
  const bad = await run(['plan', '--json'], { CI_NODE_INDEX: '4', CI_NODE_TOTAL: '3' });
  assert.is(bad.code, 2);
  assert.match(bad.err, 'Error: CI_NODE_INDEX=4 is larger than CI_NODE_TOTAL=3');
  assert.is(bad.out, '');
});

test('a shard with no repos is a valid empty plan that says so; applying it changes nothing', async () => {
  // oci:./r01 falls in shard 2 of 2 (sha256), so shard 1/2 of a one-repo config is empty.
  assert.is(shardIndexOf('oci:./r01', 2), 2);
  const { run, dir, planFile } = await world({ cleanup: ['oci:./r01'], bundleOnly: [] });
  const before = await readFile(path.join(dir, 'r01', 'index.json'), 'utf8');
  const empty = await run(['plan', '--shard', '1/2', '--out', 'empty.json', '--detailed-exitcode']);
  assert.is(empty.code, 0, empty.err);
  assert.is(empty.out, 'shard 1/2: 0 of 1 repo (no repo falls in this shard: the plan is empty)\n\nNo changes. 0 kept, 0 skipped.\n');
  assert.equal(parse(await planFile('empty.json')).shard, { indexes: [1], total: 2, repos: [], selectedRepos: 1 });
  const applied = await run(['apply', 'empty.json']);
  assert.is(applied.code, 0, applied.err);
  assert.match(applied.out, 'Applying shard 1/2: 0 of 1 repo (no repo falls in this shard: the plan is empty)\nApply: 0 done, 0 stale, 0 failed.');
  assert.is(await readFile(path.join(dir, 'r01', 'index.json'), 'utf8'), before);
  const markdown = await run(['plan', '--shard', '2/2', '--format', 'markdown']);
  assert.match(markdown.out, /^### regplan: Plan: 0 to push, 7 to delete, 11 kept, 0 skipped\.\n\n\*\*shard 2\/2: 1 of 1 repo\*\*\n/);
});

test('apply of one shard plan changes only that shard\'s repos: the others keep every tag, bundles go only to its repos', async () => {
  const { run, dir, planFile } = await world();
  const total = 3;
  const index = 1;
  const mine = ALL.filter((repo) => shardIndexOf(repo, total) === index);
  const others = ALL.filter((repo) => !mine.includes(repo));
  assert.ok(mine.some((r) => CLEANUP.includes(r)) && others.some((r) => CLEANUP.includes(r)), 'both sides hold cleanup repos');
  const dirOf = (repo: string) => path.join(dir, repo.slice('oci:./'.length));
  const indexOf = async (repo: string) => readFile(path.join(dirOf(repo), 'index.json'), 'utf8').catch(() => '(no layout)');
  const before = new Map(await Promise.all(ALL.map(async (repo) => [repo, await indexOf(repo)] as const)));

  assert.is((await run(['plan', '--shard', `${index}/${total}`, '--out', 'shard.json'])).code, 0);
  const plan = parse(await planFile('shard.json'));
  const applied = await run(['apply', 'shard.json']);
  assert.is(applied.code, 0, applied.err);
  assert.match(applied.out, new RegExp(`^Applying shard 1/3: ${mine.length} of 15 repos\n`));
  assert.match(applied.out, `Apply: ${plan.actions.length} done, 0 stale, 0 failed.`);

  for (const repo of others) assert.is(await indexOf(repo), before.get(repo), `${repo} (another shard) is untouched`);
  for (const repo of mine) {
    const deleted = plan.actions.filter((a) => a.type === 'delete' && a.repo === repo).map((a) => a.tag);
    const pushed = plan.actions.filter((a) => a.type === 'push' && a.repo === repo).map((a) => a.tag);
    const tags = [...new Set(await (await OciLayout.open(dirOf(repo))).listTags())].sort();
    if (CLEANUP.includes(repo)) assert.ok(deleted.length > 0, `${repo} had deletions planned`);
    for (const tag of deleted) assert.not.ok(tags.includes(tag as string), `${repo}:${String(tag)} deleted`);
    for (const tag of pushed) assert.ok(tags.includes(tag as string), `${repo}:${String(tag)} pushed`);
  }
  // The next unsharded plan has nothing left to do in this shard, and everything still to do elsewhere.
  const next = parse((await run(['plan', '--json'])).out);
  assert.equal([...new Set(next.actions.map((a) => a.repo))].sort(), others);

  // apply without a plan file in a GitLab parallel job re-plans only its shard (CI_NODE_INDEX of CI_NODE_TOTAL).
  const second = ALL.filter((repo) => shardIndexOf(repo, total) === 2);
  const third = ALL.filter((repo) => shardIndexOf(repo, total) === 3);
  const replanned = await run(['apply', '--auto-approve'], { CI_NODE_INDEX: '2', CI_NODE_TOTAL: '3' });
  assert.is(replanned.code, 0, replanned.err);
  assert.match(replanned.out, `shard 2/3: ${second.length} of 15 repos`);
  for (const repo of third) assert.is(await indexOf(repo), before.get(repo), `${repo} (shard 3) is untouched`);
  const last = parse((await run(['plan', '--json'])).out);
  assert.equal([...new Set(last.actions.map((a) => a.repo))].sort(), third);
});

test.run();
