import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTime, plausiblePushTime } from './time.ts';

const NOW = Date.parse('2026-12-01T00:00:00Z');

test('parseTime reads RFC 3339 with micro- and nanoseconds, Dates and epoch units; nonsense is undefined', () => {
  assert.is(parseTime('2024-05-01T10:00:00.123456789Z'), '2024-05-01T10:00:00.123Z');
  assert.is(parseTime('2024-05-01T12:00:00+02:00'), '2024-05-01T10:00:00.000Z');
  assert.is(parseTime(new Date('2024-05-01T10:00:00Z')), '2024-05-01T10:00:00.000Z');
  assert.is(parseTime({ epochSeconds: 1714557600 }), '2024-05-01T10:00:00.000Z');
  assert.is(parseTime({ epochMilliseconds: 1714557600000 }), '2024-05-01T10:00:00.000Z');
  for (const bad of ['', 'yesterday', '1714557600', null, undefined, 17, {}, { epochSeconds: 'x' }]) assert.is(parseTime(bad), undefined, String(bad));
});

test('plausiblePushTime: zeroed build times and times more than a day ahead are unknown', () => {
  assert.is(plausiblePushTime('1970-01-01T00:00:00.000Z', NOW), undefined);
  assert.is(plausiblePushTime(parseTime('0001-01-01T00:00:00Z'), NOW), undefined);
  assert.is(plausiblePushTime('1999-12-31T23:59:59.000Z', NOW), undefined);
  assert.is(plausiblePushTime('2027-01-01T00:00:00.000Z', NOW), undefined);
  assert.is(plausiblePushTime('2026-12-01T20:00:00.000Z', NOW), '2026-12-01T20:00:00.000Z');
  assert.is(plausiblePushTime('2000-01-01T00:00:00.000Z', NOW), '2000-01-01T00:00:00.000Z');
  assert.is(plausiblePushTime(undefined, NOW), undefined);
});

test.run();
