/** `regplan apply` in-process on a temp copy of the demo layout: what the user is asked and shown. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { captureIo } from '../../test/support/io.ts';
import { copyDemoLayout, removeTempDirs } from '../../test/support/oci-layout.ts';
import { runCli } from './main.ts';
import { applyProgressLine } from './planning-context.ts';

test.after(removeTempDirs);

/** A demo layout whose config deletes the tags matching `scope` (and keeps every v* release). */
async function layoutDeleting(scope: string): Promise<{ dir: string; env: Record<string, string> }> {
  const layout = await copyDemoLayout();
  const dir = path.dirname(layout);
  await writeFile(
    path.join(dir, 'registry.config.yaml'),
    ['version: 1', 'policies:', '  ci:', "    keep: [{ tags: '^v' }]", `    delete: { tags: '${scope}' }`, 'repos:', `  - repo: oci:${layout}`, '    cleanup: ci', ''].join('\n'),
  );
  return { dir, env: { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'c') } };
}

test('the confirmation counts in good English: "this 1 action", "these 2 actions"', async () => {
  for (const [scope, question] of [['^pr-101$', 'Carry out this 1 action? Only "yes" proceeds: '], ['^pr-10[12]$', 'Carry out these 2 actions? Only "yes" proceeds: ']] as const) {
    const { dir, env } = await layoutDeleting(scope);
    const questions: string[] = [];
    const io = { ...captureIo(env, dir), prompt: async (q: string) => (questions.push(q), 'no') };
    assert.is(await runCli(['apply'], io), 1, io.err());
    assert.equal(questions, [question]);
  }
});

test('on a terminal apply keeps a done/total progress line on stderr between the outcome lines, erased at the end', async () => {
  const { dir, env } = await layoutDeleting('^pr-10[12]$');
  let err = '';
  const io = { ...captureIo(env, dir), stderrIsTTY: true, stderr: (text: string) => void (err += text) };
  assert.is(await runCli(['apply', '--auto-approve'], io), 0, err);
  assert.match(err, '\r\u001b[2Kapplying: 1/2 actions');
  assert.match(err, '\r\u001b[2Kapplying: 2/2 actions');
  assert.ok(err.endsWith('\r\u001b[2K'), 'the line is erased before the summary');
  assert.match(io.out(), /Apply: 2 done, 0 stale, 0 failed\./);
  const piped = await layoutDeleting('^pr-10[12]$');
  const quiet = captureIo(piped.env, piped.dir);
  assert.is(await runCli(['apply', '--auto-approve'], quiet), 0, quiet.err());
  assert.not.match(quiet.err(), 'applying:');
});

test('the apply progress line counts failures and stays off without a terminal', () => {
  let written = '';
  const tty = { ...captureIo(), stderrIsTTY: true, stderr: (text: string) => void (written += text) };
  const line = applyProgressLine(tty, { enabled: true, total: 3 });
  line.count(false);
  line.count(true);
  assert.ok(written.endsWith('\r\u001b[2Kapplying: 2/3 actions, 1 failed'), JSON.stringify(written));
  line.clear();
  assert.ok(written.endsWith('\r\u001b[2K'));
  const off = captureIo();
  applyProgressLine(off, { enabled: true, total: 3 }).count(true);
  assert.is(off.err(), '');
});

test.run();
