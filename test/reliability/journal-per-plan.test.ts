/**
 * A journal belongs to one plan. The reported case: plan --out plan.json, apply, the registry changes, plan
 * --out plan.json again, apply — which used to answer "0 done, 1 done by an earlier run" and push nothing.
 * And a rerun of the same plan still resumes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { OciLayout } from '../../src/layout/store.ts';
import { journalLines, put, PUSH_CONFIG, removeWorlds, runInProcess, worldDir } from './support.ts';

test.after(removeWorlds);

test('a new plan saved to the same --out never resumes from the old plan\'s journal', async () => {
  const dir = await worldDir();
  await put(path.join(dir, 'registry.config.yaml'), PUSH_CONFIG);
  await put(path.join(dir, 'notes.md'), 'release notes\n');
  const run = (...argv: string[]) => runInProcess(dir, argv);

  assert.is((await run('plan', '--out', 'plan.json')).code, 0);
  const first = await run('apply', 'plan.json');
  assert.is(first.code, 0, first.err);
  assert.match(first.out, /pushed\s+oci:\.\/layout:bundle/);
  const pushed = await (await OciLayout.open(path.join(dir, 'layout'))).resolveTag('bundle');
  assert.ok(pushed);

  // The registry changes: someone removes the tag. The same bundle plans as the same push again.
  await (await OciLayout.open(path.join(dir, 'layout'))).untag('bundle');
  assert.is((await run('plan', '--out', 'plan.json')).code, 0);
  const second = await run('apply', 'plan.json');
  assert.is(second.code, 0, second.err);
  assert.match(second.out, /pushed\s+oci:\.\/layout:bundle/);
  assert.match(second.out, /Apply: 1 done, 0 stale, 0 failed\. /);
  assert.match(second.err, /plan\.json\.journal\.jsonl also holds 1 outcome of another plan; they are history, not reused/);
  assert.is((await (await OciLayout.open(path.join(dir, 'layout'))).resolveTag('bundle'))?.digest, pushed.digest, 'the tag is back');

  // The same plan again: its own outcome is reused.
  const third = await run('apply', 'plan.json');
  assert.match(third.out, /Apply: 0 done, 0 stale, 0 failed, 1 done by an earlier run\./);
  const lines = await journalLines(path.join(dir, 'plan.json.journal.jsonl'));
  assert.is(lines.length, 2);
  assert.is(new Set(lines.map((l) => l.plan)).size, 2, 'each line names its plan');
});

test.run();
