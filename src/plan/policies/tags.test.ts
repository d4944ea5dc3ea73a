import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keepMatchingTags } from './tags.ts';
import { NOW, digestOf, noFacts, tag } from '../../../test/plan/fixtures.ts';
import { RegplanError } from '../../errors.ts';

const input = (...names: string[]) => ({ repo: 'r.example.com/app', tags: names.map((n) => tag(n, digestOf(n))), now: NOW, facts: noFacts });

test('tags: keeps every tag the regex matches, labelled with the pattern', () => {
  const kept = keepMatchingTags({ pattern: '^v\\d+\\.\\d+\\.\\d+$' }, input('v1.2.3', 'v1.2', 'v1.2.3-rc1', 'main'));
  assert.equal([...kept], [['v1.2.3', 'tags ^v\\d+\\.\\d+\\.\\d+$']]);
});

test('tags: the regex is not anchored unless written so (RE2 syntax, as given)', () => {
  const kept = keepMatchingTags({ pattern: 'main' }, input('main', 'main-1', 'not-main', 'dev'));
  assert.equal([...kept.keys()].sort(), ['main', 'main-1', 'not-main']);
});

test('tags: an invalid regex refuses the plan with a RegplanError naming the pattern', () => {
  try {
    keepMatchingTags({ pattern: '(' }, input('a'));
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, RegplanError);
    assert.match((error as Error).message, '"("');
  }
});

test('tags: a pattern that backtracks exponentially in JavaScript matches in linear time', () => {
  const started = performance.now();
  const kept = keepMatchingTags({ pattern: '(a+)+$' }, input(`${'a'.repeat(28)}!`, 'aaa'));
  assert.equal([...kept.keys()], ['aaa']);
  assert.ok(performance.now() - started < 1000, 'a hang guard only; bench/run.ts measures');
});

test.run();
