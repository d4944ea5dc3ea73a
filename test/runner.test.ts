/**
 * The test runner (`npm test -- …`): a path selects that file or directory, and a selection that matches nothing
 * fails instead of reporting "0 passed, 0 failed" as success.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const runner = (...args: string[]) => spawnSync(process.execPath, [path.join(root, 'test/run.ts'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, REGPLAN_TEST_PARALLEL: '1' } });

test('a file path runs exactly that file', () => {
  const result = runner('src/model/time.test.ts');
  assert.is(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /^ok {3}src\/model\/time\.test\.ts /m);
  assert.is(result.stdout.match(/^(ok|FAIL) /gm)?.length, 1);
  assert.match(result.stdout, /^\d+ passed, 0 failed$/m);
});

test('a directory runs the test files under it', () => {
  const result = runner('src/model');
  assert.is(result.status, 0, result.stdout + result.stderr);
  assert.ok((result.stdout.match(/^ok /gm)?.length ?? 0) >= 2, result.stdout);
});

test('a selection that matches nothing fails', () => {
  for (const args of [['src/no-such.test.ts'], ['src/model', '--grep=no-such-name']]) {
    const result = runner(...args);
    assert.is(result.status, 1, `${args.join(' ')}: ${result.stdout}`);
    assert.match(result.stdout, /^0 passed, 1 failed$/m);
  }
});

test.run();
