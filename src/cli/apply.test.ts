/** `regplan apply` in-process on a temp copy of the demo layout: what the user is asked and shown. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { captureIo } from '../../test/support/io.ts';
import { copyDemoLayout, removeTempDirs } from '../../test/support/oci-layout.ts';
import { runCli } from './main.ts';

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

test.run();
