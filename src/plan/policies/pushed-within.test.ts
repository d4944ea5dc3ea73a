import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keepRecentlyPushed } from './pushed-within.ts';
import { NOW, daysAgo, digestOf, noFacts, tag } from '../../../test/plan/fixtures.ts';

const DAY = 86_400_000;

test('pushedWithin: keeps tags pushed within the window before now, boundary included', () => {
  const tags = [tag('fresh', digestOf('1'), daysAgo(1)), tag('edge', digestOf('2'), daysAgo(14)), tag('stale', digestOf('3'), daysAgo(15))];
  const kept = keepRecentlyPushed({ durationMs: 14 * DAY, text: '14d' }, { repo: 'r', tags, now: NOW, facts: noFacts });
  assert.equal([...kept], [['fresh', 'pushedWithin 14d'], ['edge', 'pushedWithin 14d']]);
});

test('pushedWithin: a push time in the future (clock skew) counts as within', () => {
  const kept = keepRecentlyPushed({ durationMs: DAY, text: '1d' }, { repo: 'r', tags: [tag('skew', digestOf('1'), daysAgo(-1))], now: NOW, facts: noFacts });
  assert.ok(kept.has('skew'));
});

test('pushedWithin: unknown or unparsable push times are left to the evaluator (not kept by this rule)', () => {
  const tags = [tag('unknown', digestOf('1')), tag('garbled', digestOf('2'), 'yesterday')];
  assert.is(keepRecentlyPushed({ durationMs: DAY, text: '1d' }, { repo: 'r', tags, now: NOW, facts: noFacts }).size, 0);
});

test('pushedWithin with groupBy: keeps every tag of a group whose newest push is within the window', () => {
  const tags = [
    tag('pr-1-old', digestOf('1'), daysAgo(40)),
    tag('pr-1-new', digestOf('2'), daysAgo(2)),
    tag('pr-2-old', digestOf('3'), daysAgo(40)),
    tag('pr-2-older', digestOf('4'), daysAgo(50)),
    tag('main', digestOf('5'), daysAgo(1)),
  ];
  const kept = keepRecentlyPushed({ durationMs: 7 * DAY, text: '7d', groupBy: '^pr-(\\d+)-' }, { repo: 'r', tags, now: NOW, facts: noFacts });
  assert.equal([...kept].sort(), [
    ['pr-1-new', 'pushedWithin 7d in group "1" of ^pr-(\\d+)-'],
    ['pr-1-old', 'pushedWithin 7d in group "1" of ^pr-(\\d+)-'],
  ]);
});

test('pushedWithin with groupBy: a member with an unknown push time makes its group recent (keeps more)', () => {
  const tags = [tag('pr-3-old', digestOf('1'), daysAgo(40)), tag('pr-3-unknown', digestOf('2'))];
  const kept = keepRecentlyPushed({ durationMs: DAY, text: '1d', groupBy: '^pr-(\\d+)-' }, { repo: 'r', tags, now: NOW, facts: noFacts });
  assert.equal([...kept.keys()].sort(), ['pr-3-old', 'pr-3-unknown']);
});

test.run();
