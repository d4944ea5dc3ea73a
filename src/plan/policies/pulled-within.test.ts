import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keepRecentlyPulled } from './pulled-within.ts';
import { NOW, daysAgo, digestOf, noFacts, tag } from '../../../test/plan/fixtures.ts';
import { judgePullTime } from '../../model/time.ts';

const DAY = 86_400_000;
const rule = { durationMs: 30 * DAY, text: '30d' };
const pulled = (name: string, when: string | undefined) => ({ ...tag(name, digestOf(name), daysAgo(100)), ...(when === undefined ? {} : { pulled: when }) });

test('pulledWithin: keeps tags pulled within the window, not those pulled before it or never', () => {
  const tags = [pulled('recent', daysAgo(3)), pulled('edge', daysAgo(30)), pulled('stale', daysAgo(31)), pulled('never', 'never')];
  assert.equal([...keepRecentlyPulled(rule, { repo: 'r', tags, now: NOW, facts: noFacts })], [['recent', 'pulledWithin 30d'], ['edge', 'pulledWithin 30d']]);
});

test('pulledWithin: an unknown pull time (the registry does not say, or garbled) keeps the tag and says why', () => {
  const tags = [pulled('unknown', undefined), pulled('garbled', 'last tuesday')];
  const kept = keepRecentlyPulled(rule, { repo: 'r', tags, now: NOW, facts: noFacts });
  assert.equal([...kept.keys()], ['unknown', 'garbled']);
  assert.is(kept.get('unknown'), 'pulledWithin 30d (pull time unknown: the registry does not say)');
});

test('judgePullTime: never stays, zero time (Harbor) is never, future is now, unparsable is unknown', () => {
  const now = NOW.getTime();
  assert.is(judgePullTime('never', now), 'never');
  assert.is(judgePullTime('0001-01-01T00:00:00.000Z', now), 'never');
  assert.is(judgePullTime(new Date(now + 5 * DAY).toISOString(), now), NOW.toISOString());
  assert.is(judgePullTime('2026-01-02T03:04:05.000Z', now), '2026-01-02T03:04:05.000Z');
  assert.is(judgePullTime('garbled', now), undefined);
  assert.is(judgePullTime(undefined, now), undefined);
});

test.run();
