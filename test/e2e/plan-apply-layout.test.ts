/**
 * plan and apply end to end on a temp copy of the demo OCI layout, in process through runCli: what a user sees
 * (exit codes, output, the tags left as skopeo reads them), stale plans, guards, refusal of changed configs,
 * and resuming from a journal.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { OciLayout } from '../../src/layout/store.ts';
import { planDigest, planSchemaProblems } from '../../src/plan/planfile.ts';
import type { Plan } from '../../src/plan/types.ts';
import { captureIo } from '../support/io.ts';
import { copyDemo, putTestImage, removeTempDirs, skopeoDigest } from '../support/oci-layout.ts';

const EXPECTED_DELETED = ['branch-feature-x', 'main-1a2b3c4', 'main-5d6e7f8', 'pr-101', 'pr-102', 'pr-103', 'pr-104'];

/** A temp demo: a copy of the layout next to a copy of the shipped config. */
async function demo(): Promise<{ dir: string; layout: string; config: string; run: (...argv: string[]) => Promise<{ code: number; out: string; err: string }> }> {
  const { dir, layout, config } = await copyDemo();
  const run = async (...argv: string[]) => {
    const io = captureIo({ REGPLAN_CACHE_DIR: path.join(dir, '.cache'), HOME: dir }, dir);
    const code = await runCli(argv, io);
    return { code, out: io.out(), err: io.err() };
  };
  return { dir, layout, config, run };
}

const tagsOf = async (layout: string): Promise<string[]> => [...new Set(await (await OciLayout.open(layout)).listTags())].sort();

test.after(removeTempDirs);

test('plan shows deletions with reasons, kept tags with their rules, and the closing Plan line', async () => {
  const { run } = await demo();
  const { code, out } = await run('plan');
  assert.is(code, 0);
  assert.match(out, /- pr-101 .*matches delete scope \^\(pr\|branch\|main\)-; pushed \d+d ago \(older than grace 2h\); no keep rule matched/);
  assert.match(out, /- main-5d6e7f8 .*\[untag only\].*shares manifest sha256:e28a4575ac1f\w+ with kept tag v1\.2\.1/);
  assert.match(out, /= v1\.2\.1 .*kept by: semver latestPerMinor 2/);
  assert.match(out, /= sha256-\w+\.sig .*kept by: follows subject/);
  assert.match(out, /\+ release-notes .*new tag/);
  assert.match(out, /Plan: 1 to push, 7 to delete, 11 kept, 0 skipped\.\n$/);
});

test('plan --json is a valid plan file, the same input gives the same actions, and --out saves it', async () => {
  const { run, dir } = await demo();
  const first = await run('plan', '--json', '--out', 'plan.json');
  const second = await run('plan', '--json');
  const plan = JSON.parse(first.out) as Plan;
  assert.equal(planSchemaProblems(plan), []);
  assert.is(plan.formatVersion, 1);
  assert.equal(plan.actions.filter((a) => a.type === 'delete').map((a) => a.tag).sort(), EXPECTED_DELETED);
  assert.equal(plan.actions.filter((a) => a.type === 'push').map((a) => a.tag), ['release-notes']);
  const again = JSON.parse(second.out) as Plan;
  assert.equal({ ...again, createdAt: '' }, { ...plan, createdAt: '' });
  const saved = JSON.parse(await readFile(path.join(dir, 'plan.json'), 'utf8')) as Plan;
  assert.equal(saved.actions, plan.actions);
});

test('--detailed-exitcode exits 2 with changes and 0 once applied; markdown: totals, then a collapsible table per repo', async () => {
  const { run } = await demo();
  assert.is((await run('plan', '--detailed-exitcode')).code, 2);
  const md = await run('plan', '--format', 'markdown');
  assert.match(md.out, /^### regplan: Plan: 1 to push, 7 to delete/);
  assert.match(md.out, /<details>\n<summary><code>oci:\.\/layout<\/code>: 7 to delete \(2 untag only\), 11 kept, 0 skipped<\/summary>\n\n\| \| tag \| digest \| why \|/);
  assert.match(md.out, /\| ➖ delete \| `pr-101` \|/);
  assert.match(md.out, /\| ➖ untag \| `main-5d6e7f8` \|/);
  assert.is((await run('apply', '--auto-approve')).code, 0);
  const after = await run('plan', '--detailed-exitcode');
  assert.is(after.code, 0);
  assert.match(after.out, /No changes\. 12 kept, 0 skipped\./);
});

test('with GITHUB_STEP_SUMMARY set, plan appends its markdown there: totals first, then <details> per repo', async () => {
  const { dir } = await demo();
  const summary = path.join(dir, 'step-summary.md');
  await writeFile(summary, '## an earlier step\n');
  const io = captureIo({ REGPLAN_CACHE_DIR: path.join(dir, '.cache'), HOME: dir, GITHUB_STEP_SUMMARY: summary }, dir);
  assert.is(await runCli(['plan', '--out', 'plan.json'], io), 0, io.err());
  assert.match(io.out(), /Plan: 1 to push, 7 to delete, 11 kept, 0 skipped\.\n$/, 'stdout keeps the human view');
  assert.not.match(io.out(), '<details>');
  const text = await readFile(summary, 'utf8');
  assert.ok(text.startsWith('## an earlier step\n### regplan: Plan: 1 to push, 7 to delete, 11 kept, 0 skipped.\n'), text);
  const blocks = [...text.matchAll(/<details>\n<summary><code>([^<]+)<\/code>: ([^<]+)<\/summary>\n\n([^]*?)\n<\/details>\n/g)];
  assert.equal(blocks.map((m) => [m[1], m[2]]), [
    ['oci:./build/air-gapped', '1 to push, 0 to delete, 0 kept, 0 skipped'],
    ['oci:./layout', '7 to delete (2 untag only), 11 kept, 0 skipped'],
  ]);
  assert.match(blocks[0]![3]!, /^\| ➕ push \| `release-notes` \|/m);
  assert.match(blocks[1]![3]!, /^\| ➖ delete \| `pr-101` \|/m);
  assert.match(blocks[1]![3]!, /^\| ✔ keep \| `v1\.2\.1` \|/m);
  // A second plan in the same job adds a second summary, never replaces the first.
  assert.is(await runCli(['plan', '--json'], io), 0);
  assert.is((await readFile(summary, 'utf8')).split('### regplan: Plan:').length, 3);
});

test('a step summary that cannot be written is a warning; the plan still succeeds', async () => {
  const { dir } = await demo();
  const io = captureIo({ REGPLAN_CACHE_DIR: path.join(dir, '.cache'), HOME: dir, GITHUB_STEP_SUMMARY: dir }, dir);
  assert.is(await runCli(['plan'], io), 0, io.err());
  assert.match(io.err(), `Warning: cannot append the plan to $GITHUB_STEP_SUMMARY (${dir}): `);
  assert.match(io.out(), /Plan: 1 to push, 7 to delete/);
});

test('apply of a saved plan deletes exactly its actions; skopeo sees the kept tags and not the deleted ones', async () => {
  const { run, layout } = await demo();
  const before = await tagsOf(layout);
  assert.is((await run('plan', '--out', 'plan.json')).code, 0);
  const applied = await run('apply', 'plan.json');
  assert.is(applied.code, 0, applied.err);
  assert.match(applied.out, /Apply: 8 done, 0 stale, 0 failed\./);
  assert.equal(await tagsOf(layout), before.filter((t) => !EXPECTED_DELETED.includes(t)));
  assert.ok(await skopeoDigest(layout, 'v1.2.1'), 'the kept tag sharing main-5d6e7f8\'s manifest survives');
  assert.is(await skopeoDigest(layout, 'pr-101'), undefined);
});

test('apply collects the garbage of what it deleted: the deleted manifests leave the blob store, kept content stays', async () => {
  const { run, layout } = await demo();
  assert.is((await run('plan', '--out', 'plan.json')).code, 0);
  const plan = JSON.parse(await readFile(path.join(path.dirname(layout), 'plan.json'), 'utf8')) as Plan;
  const store = await OciLayout.open(layout);
  const keptDigest = (await store.resolveTag('v1.2.1'))?.digest;
  const deletedOnly = plan.actions.filter((a) => a.type === 'delete' && a.mode === 'manifest').map((a) => a.digest);
  assert.ok(deletedOnly.length > 0 && keptDigest);
  for (const digest of deletedOnly) assert.ok(await store.hasBlob(digest), 'present before apply');
  assert.is((await run('apply', 'plan.json')).code, 0);
  const after = await OciLayout.open(layout);
  for (const digest of deletedOnly) assert.not.ok(await after.hasBlob(digest), `${digest} was garbage-collected`);
  assert.ok(await after.hasBlob(keptDigest as string), 'kept manifest blob stays');
});

test('a tag re-pushed to another digest between plan and apply is left alone and reported stale', async () => {
  const { run, layout } = await demo();
  await run('plan', '--out', 'plan.json');
  const moved = await putTestImage(await OciLayout.open(layout), 'a new pr-102 build', { tag: 'pr-102' });
  const applied = await run('apply', 'plan.json');
  assert.is(applied.code, 0);
  assert.match(applied.out, /stale\s+oci:\.\/layout:pr-102: tag now points at sha256:\w+, not sha256:\w+ as planned/);
  assert.is(await skopeoDigest(layout, 'pr-102'), moved.manifest.digest);
  assert.match(applied.out, /Apply: 7 done, 1 stale, 0 failed\./);
});

test('a manifest that gained a new tag since the plan is not deleted', async () => {
  const { run, layout } = await demo();
  await run('plan', '--out', 'plan.json');
  const store = await OciLayout.open(layout);
  const pr103 = await store.resolveTag('pr-103');
  assert.ok(pr103);
  const manifest = await store.readManifest(pr103.digest);
  await store.putManifest(manifest.bytes, manifest.mediaType, { tag: 'rollback' });
  const applied = await run('apply', 'plan.json');
  assert.match(applied.out, /stale\s+oci:\.\/layout:pr-103: manifest sha256:\w+ is now also tagged "rollback"/);
  assert.is(await skopeoDigest(layout, 'rollback'), pr103.digest);
  assert.is(await skopeoDigest(layout, 'pr-103'), pr103.digest);
});

test('apply refuses a plan made from another config, and one of another format version', async () => {
  const { run, dir, config } = await demo();
  await run('plan', '--out', 'plan.json');
  await appendFile(config, '# an edit after planning\n');
  const changed = await run('apply', 'plan.json');
  assert.is(changed.code, 1);
  assert.match(changed.err, /Error: plan "plan\.json" was made from a different config/);
  assert.match(changed.err, /Hint: make a fresh plan from the current config/);
  const plan = JSON.parse(await readFile(path.join(dir, 'plan.json'), 'utf8')) as Plan;
  await writeFile(path.join(dir, 'old.json'), JSON.stringify({ ...plan, formatVersion: 99 }));
  const old = await run('apply', 'old.json');
  assert.is(old.code, 1);
  assert.match(old.err, /has format version 99; this regplan reads format version 1/);
});

test('a rerun after an interrupted apply finishes the rest, skipping what the journal says is done', async () => {
  const { run, dir, layout } = await demo();
  await run('plan', '--out', 'plan.json');
  const plan = JSON.parse(await readFile(path.join(dir, 'plan.json'), 'utf8')) as Plan;
  // Simulate a kill after two deletions: do them by hand and journal them, plus a torn last line.
  const store = await OciLayout.open(layout);
  const firstTwo = plan.actions.filter((a) => a.type === 'delete').slice(0, 2);
  for (const action of firstTwo) if (action.type === 'delete') await store.deleteManifest(action.digest);
  const { actionKey } = await import('../../src/apply/journal.ts');
  const lines = firstTwo.map((a) => JSON.stringify({ at: '', plan: planDigest(plan), key: actionKey(a), type: a.type, repo: a.repo, tag: a.tag, digest: a.digest, outcome: 'deleted' }));
  await writeFile(path.join(dir, 'plan.json.journal.jsonl'), lines.join('\n') + '\n{"at":"2026-');
  const rerun = await run('apply', 'plan.json');
  assert.is(rerun.code, 0, rerun.err);
  assert.match(rerun.out, /Apply: 6 done, 0 stale, 0 failed, 2 done by an earlier run\./);
  const again = await run('plan', '--detailed-exitcode');
  assert.is(again.code, 0);
});

test('apply without a plan file and without a terminal needs --auto-approve (usage error, nothing deleted)', async () => {
  const { run, layout } = await demo();
  const before = await tagsOf(layout);
  const refused = await run('apply');
  assert.is(refused.code, 2);
  assert.match(refused.err, /needs --auto-approve when it cannot ask/);
  assert.equal(await tagsOf(layout), before);
});

test('apply without a plan file asks on a terminal: only "yes" proceeds', async () => {
  const { dir, layout } = await copyDemo();
  const before = await tagsOf(layout);
  const ask = async (answer: string) => {
    const questions: string[] = [];
    const io = { ...captureIo({ REGPLAN_CACHE_DIR: path.join(dir, '.cache'), HOME: dir }, dir), prompt: async (q: string) => (questions.push(q), answer) };
    return { code: await runCli(['apply'], io), out: io.out(), err: io.err(), questions };
  };
  const declined = await ask('y');
  assert.is(declined.code, 1);
  assert.match(declined.questions[0] ?? '', /Carry out these 8 actions\? Only "yes" proceeds/);
  assert.match(declined.err, 'Apply cancelled; nothing was changed.');
  assert.equal(await tagsOf(layout), before);
  const accepted = await ask('yes');
  assert.is(accepted.code, 0, accepted.err);
  assert.match(accepted.out, /Apply: 8 done, 0 stale, 0 failed\./);
});

test('a plan with a config error exits 1 and lists each problem with its line', async () => {
  const { run, config } = await demo();
  await writeFile(config, (await readFile(config, 'utf8')).replace('cleanup: ci', 'cleanup: cj'));
  const result = await run('plan');
  assert.is(result.code, 1);
  assert.match(result.err, /registry\.config\.yaml:\d+:\d+ \/repos\/0\/cleanup: .*"cj"/);
});

test.run();
