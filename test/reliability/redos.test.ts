/**
 * ReDoS: user patterns run on a linear-time engine, so the reported stalls finish fast. Each case runs in a child
 * process killed after 20 s (a backtracking engine takes minutes); the < 2 s assertion is only a hang guard, the
 * measurement is `npm run bench -- --only redos`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const CHILD = path.join(import.meta.dirname, 'evaluate-pattern.ts');

function evaluate(pattern: string, where: 'keep' | 'newest' | 'delete', hostile: string): { ms: number; deleted: number; kept: number } {
  const started = Date.now();
  const child = spawnSync(process.execPath, [CHILD, pattern, where, hostile], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
  assert.is(child.signal, null, `evaluation of ${pattern} over 10,001 tags was killed after ${Date.now() - started} ms`);
  assert.is(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout) as { ms: number; deleted: number; kept: number; errors?: string[] };
  assert.is(out.errors, undefined, `the config is valid: ${out.errors?.join('; ')}`);
  return out;
}

test('keep tags (a+)+$ with a 41-character tag among 10,000 evaluates in under 2 s', () => {
  const result = evaluate('(a+)+$', 'keep', `${'a'.repeat(40)}!`);
  assert.ok(result.ms < 2000, `${result.ms} ms`);
  assert.is(result.kept + result.deleted, 10_001);
});

test('^v(\\d+\\.?)+$ on a 29- and a 40-character tag evaluates in under 2 s, in keep, newest and delete scopes', () => {
  for (const where of ['keep', 'newest', 'delete'] as const) {
    for (const digits of [27, 38]) {
      const result = evaluate('^v(\\d+\\.?)+$', where, `v${'1'.repeat(digits)}!`);
      assert.ok(result.ms < 2000, `${where}, ${digits + 2} characters: ${result.ms} ms`);
    }
  }
});

test.run();
