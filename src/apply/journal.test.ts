/**
 * The apply journal: outcomes resume only for the plan they belong to, one apply holds a journal at a time (a
 * second is refused naming the holder and the path), stale locks of dead or silent processes are taken over with
 * a notice, and the file is private whatever the umask.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { DeleteAction } from '../plan/types.ts';
import { Journal, JournalInUseError, journalLockFile } from './journal.ts';

const dirs: string[] = [];
const temp = async (): Promise<string> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-journal-'));
  dirs.push(dir);
  return dir;
};
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const action: DeleteAction = { type: 'delete', repo: 'oci:./layout', tag: 'pr-1', digest: `sha256:${'a'.repeat(64)}`, mode: 'manifest', reason: 'old' };
const PLAN_A = `sha256:${'1'.repeat(64)}`;
const PLAN_B = `sha256:${'2'.repeat(64)}`;

/** The pid of a process that has exited (so no process has it, for a while). */
const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim());

test('an outcome counts as done only for the plan it was recorded for', async () => {
  const file = path.join(await temp(), 'plan.json.journal.jsonl');
  const first = await Journal.open(file, { plan: PLAN_A });
  await first.record(action, 'deleted');
  await first.close();

  const other = await Journal.open(file, { plan: PLAN_B });
  assert.is(other.isFinished(action), false, 'a different plan never resumes from it');
  assert.is(other.otherPlanLines, 1);
  await other.record(action, 'already-gone');
  await other.close();

  const same = await Journal.open(file, { plan: PLAN_A });
  assert.is(same.isFinished(action), true);
  assert.is(same.otherPlanLines, 1);
  await same.close();
  const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { plan: string });
  assert.equal(lines.map((l) => l.plan), [PLAN_A, PLAN_B]);
});

test('a second open while an apply holds the journal is refused at once, naming its pid and the journal', async () => {
  const file = path.join(await temp(), 'plan.json.journal.jsonl');
  const held = await Journal.open(file, { plan: PLAN_A, purpose: 'regplan apply of plan.json' });
  try {
    await Journal.open(file, { plan: PLAN_A });
    assert.unreachable('the second open should be refused');
  } catch (error) {
    assert.instance(error, JournalInUseError);
    const e = error as JournalInUseError;
    assert.match(e.message, `journal ${file} is in use by another regplan apply (pid ${process.pid} (regplan apply of plan.json, since `);
    assert.match(e.hint ?? '', journalLockFile(file));
  } finally {
    await held.close();
  }
  const after = await Journal.open(file, { plan: PLAN_A });
  await after.close();
});

test('a lock left by a dead process is taken over, with a notice naming it', async () => {
  const file = path.join(await temp(), 'plan.json.journal.jsonl');
  const pid = deadPid();
  await writeFile(journalLockFile(file), JSON.stringify({ pid, host: (await import('node:os')).hostname(), purpose: 'regplan apply of plan.json', since: '2026-01-01T00:00:00Z', token: 'x' }));
  const notices: string[] = [];
  const journal = await Journal.open(file, { plan: PLAN_A, onNotice: (line) => notices.push(line) });
  await journal.close();
  assert.is(notices.length, 1);
  assert.match(notices[0] ?? '', `removed the stale lock ${journalLockFile(file)}: it was left by pid ${pid}`);
  assert.match(notices[0] ?? '', 'no longer running');
});

test('a lock from another host that stopped being refreshed is stale; a fresh one is not', async () => {
  const file = path.join(await temp(), 'plan.json.journal.jsonl');
  const lock = journalLockFile(file);
  await writeFile(lock, JSON.stringify({ pid: 1, host: 'ci-runner-7', purpose: 'regplan apply', since: '2026-01-01T00:00:00Z', token: 'y' }));
  try {
    await Journal.open(file, { plan: PLAN_A });
    assert.unreachable('a fresh lock of another host holds');
  } catch (error) {
    assert.instance(error, JournalInUseError);
    assert.match((error as Error).message, 'pid 1 on host ci-runner-7');
  }
  const old = new Date(Date.now() - 10 * 60_000);
  await utimes(lock, old, old);
  const notices: string[] = [];
  const journal = await Journal.open(file, { plan: PLAN_A, onNotice: (line) => notices.push(line) });
  await journal.close();
  assert.match(notices[0] ?? '', /has not been refreshed for \d+ s/);
});

test('under umask 000 the journal is 0600 and a directory it creates 0700', async () => {
  const file = path.join(await temp(), '.regplan', 'nested', 'apply.jsonl');
  const previous = process.umask(0o000);
  try {
    const journal = await Journal.open(file, { plan: PLAN_A });
    await journal.record(action, 'deleted');
    await journal.close();
  } finally {
    process.umask(previous);
  }
  assert.is((await stat(file)).mode & 0o777, 0o600);
  assert.is((await stat(path.dirname(file))).mode & 0o777, 0o700);
  assert.is((await stat(path.dirname(path.dirname(file)))).mode & 0o777, 0o700);
});

test.run();
