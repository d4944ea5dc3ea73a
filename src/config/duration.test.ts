import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closestName } from './did-you-mean.ts';
import { parseDuration } from './duration.ts';

test('durations: a number and a unit, optionally combined, in milliseconds', () => {
  assert.is(parseDuration('30s'), 30_000);
  assert.is(parseDuration('30m'), 1_800_000);
  assert.is(parseDuration('2h'), 7_200_000);
  assert.is(parseDuration('14d'), 14 * 86_400_000);
  assert.is(parseDuration('1w'), 604_800_000);
  assert.is(parseDuration('1d12h'), 36 * 3_600_000);
  assert.is(parseDuration('0s'), 0);
});

test('durations: anything else does not parse', () => {
  for (const text of ['', '2', 'h', '2 h', '2hours', '-1h', '1.5h', '2H', '99999999999999999999w']) {
    assert.is(parseDuration(text), undefined, text);
  }
});

test('did you mean: close names are suggested, far ones are not', () => {
  assert.is(closestName('polices', ['version', 'settings', 'policies', 'repos']), 'policies');
  assert.is(closestName('harbour', ['harbor', 'quay']), 'harbor');
  assert.is(closestName('zzz', ['harbor', 'quay']), undefined);
});

test.run();
