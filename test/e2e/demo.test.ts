/**
 * The README's first command, `npm run demo`, on this checkout: it prints a real plan (deletions with reasons,
 * kept tags with their rules), applies it, and leaves the committed demo layout untouched.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

test('npm run demo plans with reasons, applies, then shows no changes; the committed layout is untouched', async () => {
  const indexBefore = await readFile(path.join(ROOT, 'examples/demo-layout/index.json'), 'utf8');
  const { stdout, code } = await new Promise<{ stdout: string; code: number }>((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts/demo.ts')], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } }, (error, out) =>
      resolve({ stdout: out, code: error ? ((error as { code?: number }).code ?? 1) : 0 }),
    );
  });
  assert.is(code, 0, stdout);
  assert.match(stdout, /- pr-101 .*no keep rule matched/);
  assert.match(stdout, /= v1\.2\.1 .*kept by: semver/);
  assert.match(stdout, /Plan: \d+ to push, 7 to delete, \d+ kept, 0 skipped\./);
  assert.match(stdout, /Apply: \d+ done, 0 stale, 0 failed\./);
  assert.match(stdout, /No changes\./);
  assert.is(await readFile(path.join(ROOT, 'examples/demo-layout/index.json'), 'utf8'), indexBefore);
});

test.run();
