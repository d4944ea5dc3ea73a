/**
 * ReDoS: user patterns run on a linear-time engine, so the reported stalls finish fast. The cases run in a child
 * process killed after 60 s (a backtracking engine needs minutes for the first one alone); the < 2 s per case is
 * only a hang guard, the measurement is `npm run bench -- --only redos`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { PatternCase } from './evaluate-pattern.ts';

const CHILD = path.join(import.meta.dirname, 'evaluate-pattern.ts');

function evaluate(cases: PatternCase[]): { ms: number; deleted: number; kept: number }[] {
  const started = Date.now();
  const child = spawnSync(process.execPath, [CHILD, JSON.stringify(cases)], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  assert.is(child.signal, null, `evaluating ${cases.length} patterns over 10,001 tags was killed after ${Date.now() - started} ms`);
  assert.is(child.status, 0, child.stderr);
  const results = child.stdout.trim().split('\n').map((line) => JSON.parse(line) as { ms: number; deleted: number; kept: number; errors?: string[] });
  assert.is(results.length, cases.length);
  for (const result of results) assert.is(result.errors, undefined, `the config is valid: ${result.errors?.join('; ')}`);
  return results;
}

test('keep tags (a+)+$ with a 41-character tag among 10,000 evaluates in under 2 s', () => {
  const [result] = evaluate([{ pattern: '(a+)+$', where: 'keep', hostile: `${'a'.repeat(40)}!` }]);
  assert.ok(result !== undefined && result.ms < 2000, `${result?.ms} ms`);
  assert.is((result?.kept ?? 0) + (result?.deleted ?? 0), 10_001);
});

test('^v(\\d+\\.?)+$ on a 29- and a 40-character tag evaluates in under 2 s, in keep, newest and delete scopes', () => {
  const cases = (['keep', 'newest', 'delete'] as const).flatMap((where) => [27, 38].map((digits): PatternCase => ({ pattern: '^v(\\d+\\.?)+$', where, hostile: `v${'1'.repeat(digits)}!` })));
  evaluate(cases).forEach((result, i) => assert.ok(result.ms < 2000, `${cases[i]?.where}, ${cases[i]?.hostile.length} characters: ${result.ms} ms`));
});

test.run();
