/**
 * The same saved plan applied by two regplan processes at once (a CI retry beside a still-running job): the
 * journal must hold one outcome per action, the counts must add up to the plan, and the second apply must wait
 * its turn or refuse with a message naming the other process and the journal.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Journal } from '../../src/apply/journal.ts';
import { planDigest } from '../../src/plan/planfile.ts';
import type { Plan } from '../../src/plan/types.ts';
import { CLEANUP_CONFIG, copyLayout, journalLines, put, removeWorlds, runInProcess, runProcess, seedLayout, worldDir, type RunResult } from './support.ts';

const ROUNDS = Number(process.env['REGPLAN_RACE_ROUNDS'] ?? 5);

test.after(removeWorlds);

/** `Apply: N done, …, M done by an earlier run` as numbers. */
function counts(result: RunResult): { done: number; earlier: number } | undefined {
  const match = /Apply: (\d+) done, \d+ stale, \d+ failed(?:, (\d+) done by an earlier run)?\./.exec(result.out);
  return match ? { done: Number(match[1]), earlier: Number(match[2] ?? 0) } : undefined;
}

test(`two applies of one plan at once: one outcome per action, truthful counts, a clear refusal (${ROUNDS} rounds)`, async () => {
  const template = await worldDir();
  await seedLayout(path.join(template, 'layout'), 60);
  await put(path.join(template, 'registry.config.yaml'), CLEANUP_CONFIG);
  assert.is((await runInProcess(template, ['plan', '--out', 'plan.json'])).code, 0);
  const plan = JSON.parse(await readFile(path.join(template, 'plan.json'), 'utf8')) as Plan;
  for (let round = 0; round < ROUNDS; round++) {
    const dir = await worldDir();
    await copyLayout(template, dir);
    const journal = path.join(dir, 'plan.json.journal.jsonl');

    const runs = await Promise.all([runProcess(dir, ['apply', 'plan.json']), runProcess(dir, ['apply', 'plan.json'])]);
    const shown = runs.map((r) => `exit ${r.code}: ${(r.out + r.err).trim().split('\n').slice(-2).join(' | ')}`).join('\n');

    const lines = await journalLines(journal);
    const keys = lines.map((l) => l.key);
    assert.is(new Set(keys).size, keys.length, `round ${round}: the journal repeats outcomes (${keys.length} lines for ${new Set(keys).size} actions)\n${shown}`);
    assert.is(lines.length, plan.actions.length, `round ${round}: one journal line per action\n${shown}`);

    const finished = runs.filter((r) => counts(r) !== undefined);
    const refused = runs.filter((r) => counts(r) === undefined);
    const done = finished.reduce((sum, r) => sum + (counts(r)?.done ?? 0), 0);
    assert.is(done, plan.actions.length, `round ${round}: the runs together report each action done once\n${shown}`);
    for (const r of finished) assert.is(r.code, 0, shown);
    for (const r of refused) {
      assert.is(r.code, 1, shown);
      assert.match(r.err, /Error: journal .*plan\.json\.journal\.jsonl is in use by another regplan apply \(pid \d+/, shown);
      assert.match(r.err, /Hint: .*plan\.json\.journal\.jsonl\.lock/, shown);
    }
  }
});

test('an apply while another holds the journal is refused at once, naming its pid and the journal; afterwards it runs', async () => {
  const dir = await worldDir();
  await seedLayout(path.join(dir, 'layout'), 3);
  await put(path.join(dir, 'registry.config.yaml'), CLEANUP_CONFIG);
  assert.is((await runInProcess(dir, ['plan', '--out', 'plan.json'])).code, 0);
  const plan = JSON.parse(await readFile(path.join(dir, 'plan.json'), 'utf8')) as Plan;
  const journalFile = path.join(dir, 'plan.json.journal.jsonl');
  const holder = await Journal.open(journalFile, { plan: planDigest(plan), purpose: 'regplan apply of plan.json' });
  let refused: RunResult;
  try {
    refused = await runProcess(dir, ['apply', 'plan.json']);
  } finally {
    await holder.close();
  }
  assert.is(refused.code, 1);
  assert.is(refused.out, '', 'nothing was applied');
  assert.match(refused.err, `Error: journal ${journalFile} is in use by another regplan apply (pid ${process.pid} (regplan apply of plan.json, since `);
  assert.match(refused.err, `Hint: wait for that apply to finish, then rerun this one to finish whatever it left; if no regplan is running, remove the stale lock ${journalFile}.lock`);
  const after = await runProcess(dir, ['apply', 'plan.json']);
  assert.is(after.code, 0, after.err);
  assert.match(after.out, /Apply: 3 done, 0 stale, 0 failed\./);
});

test.run();
