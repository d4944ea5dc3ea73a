/** The one pattern door: RE2 syntax and semantics, linear-time matching, and the limits that keep compiling cheap. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RegplanError } from '../errors.ts';
import { compileGlob, compileTagPattern, estimatedInstructions, PATTERN_LIMITS, patternProblem } from './pattern.ts';

const matches = (pattern: string, text: string) => compileTagPattern(pattern, 'a test').test(text);

test('pattern: everyday JavaScript-style syntax works, unanchored unless written so', () => {
  assert.ok(matches('^v\\d+\\.\\d+\\.\\d+$', 'v1.2.3'));
  assert.not.ok(matches('^v\\d+\\.\\d+\\.\\d+$', 'v1.2.3-rc1'));
  assert.ok(matches('main', 'not-main'));
  assert.ok(matches('^(latest|\\d+(\\.\\d+){0,2})$', '1.25'));
  assert.ok(matches('^(?<kind>pr|main)-\\d+$', 'pr-7'));
  assert.ok(matches('^(?i)MAIN-', 'main-1'));
  assert.ok(matches('^[[:alpha:]]+$', 'latest'));
  assert.not.ok(matches('^a$', 'a\n'), '$ is the end of the text, as in JavaScript without flags');
});

test('pattern: (a+)+$ against a 41-character non-match is linear, not exponential', () => {
  const started = performance.now();
  assert.not.ok(matches('(a+)+$', `${'a'.repeat(40)}!`));
  assert.not.ok(matches('^v(\\d+\\.?)+$', `v${'1'.repeat(38)}!`));
  assert.ok(performance.now() - started < 500, 'a hang guard only');
});

test('pattern: lookaround and backreferences are refused with a hint saying what to write', () => {
  for (const [pattern, what] of [['^(?!pr-)', 'lookaround'], ['(?<=v)\\d', 'lookaround'], ['(?=a)', 'lookaround'], ['(a)\\1', 'backreference'], ['(?<n>a)\\k<n>', 'backreference']] as const) {
    const problem = patternProblem(pattern);
    assert.ok(problem, pattern);
    assert.match(problem.message, what);
    assert.match(problem.message, JSON.stringify(pattern));
    assert.ok(problem.hint.length > 20);
  }
  assert.is(patternProblem('\\(?=x'), undefined, 'an escaped parenthesis is not a lookahead');
});

test('pattern: a syntax error quotes RE2\'s message', () => {
  assert.is(patternProblem('^(v')?.message, 'invalid regular expression "^(v": missing closing ): `^(v`');
  assert.match(patternProblem('x{2}{3}')?.message ?? '', 'invalid nested repetition operator');
});

test('pattern: oversized patterns are refused before compiling, cheaply', () => {
  const started = performance.now();
  assert.match(patternProblem('a'.repeat(PATTERN_LIMITS.maxLength + 1))?.message ?? '', 'characters long');
  assert.match(patternProblem(`(?:${'.'.repeat(900)}){1000}`)?.message ?? '', 'too large');
  assert.match(patternProblem('[a-z]{1000}'.repeat(20))?.message ?? '', 'too large');
  assert.match(patternProblem('(?:.{1000}){1000}')?.message ?? '', /too large|repeat/);
  assert.ok(performance.now() - started < 500, `${(performance.now() - started).toFixed(0)} ms`);
  assert.is(patternProblem('^v\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$'), undefined);
  assert.is(patternProblem('[a-z]{1000}'), undefined);
});

test('pattern: the size estimate multiplies nested counted repetitions', () => {
  assert.is(estimatedInstructions('abc'), 3);
  assert.ok(estimatedInstructions('(?:a{10}){10}') >= 100);
  assert.ok(estimatedInstructions('[a-z]{1000}') >= 1000);
  assert.ok(estimatedInstructions('a{,3}') < 10, 'not a counted repetition in RE2 either');
});

test('pattern: an unusable pattern at plan time is a RegplanError naming where it is', () => {
  try {
    compileTagPattern('(', 'the delete scope of policy "ci"');
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, RegplanError);
    assert.match((error as Error).message, 'the delete scope of policy "ci"');
  }
});

test('glob: * and ? over the whole address, every other character literal', () => {
  assert.ok(compileGlob('ghcr.io/acme/*').test('ghcr.io/acme/api'));
  assert.not.ok(compileGlob('ghcr.io/acme/*').test('ghcrxio/acme/api'));
  assert.not.ok(compileGlob('ghcr.io/acme/*').test('x/ghcr.io/acme/api'));
  assert.ok(compileGlob('quay.io/a?c/x').test('quay.io/abc/x'));
  assert.ok(compileGlob('a+(b)[c]').test('a+(b)[c]'));
  const started = performance.now();
  assert.not.ok(compileGlob('*a*a*a*a*a*a*a*a*b').test('a'.repeat(255)));
  assert.ok(performance.now() - started < 500, 'linear, not polynomial in the stars');
});

test.run();
