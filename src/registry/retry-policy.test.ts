import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatWait, parseRetryAfter, retryableAnswer, retryDelay, retryTuning } from './retry-policy.ts';

const tuning = retryTuning();

test('defaults follow oras-go: 5 attempts, 500 ms doubling, every wait capped at 60 s', () => {
  assert.equal(tuning, { attempts: 5, baseDelayMs: 500, maxDelayMs: 60_000 });
});

test('backoff doubles per retry with jitter from the upper half, and never passes the cap', () => {
  assert.is(retryDelay(1, tuning, undefined, () => 0), 250);
  assert.is(retryDelay(1, tuning, undefined, () => 1), 500);
  assert.is(retryDelay(3, tuning, undefined, () => 1), 2_000);
  assert.is(retryDelay(3, tuning, undefined, () => 0), 1_000);
  assert.is(retryDelay(20, tuning, undefined, () => 1), 60_000);
});

test('a wait the server asks for is used as is, up to the cap', () => {
  assert.is(retryDelay(1, tuning, 30_000), 30_000);
  assert.is(retryDelay(1, tuning, 3_600_000), 60_000);
  assert.is(retryDelay(1, tuning, 0), 0);
});

test('Retry-After: delay-seconds and HTTP dates; anything else is ignored', () => {
  const now = Date.parse('2026-01-02T03:04:05Z');
  assert.is(parseRetryAfter('120', now), 120_000);
  assert.is(parseRetryAfter('Fri, 02 Jan 2026 03:04:35 GMT', now), 30_000);
  assert.is(parseRetryAfter('Fri, 02 Jan 2026 03:00:00 GMT', now), 0, 'a date in the past means now');
  assert.is(parseRetryAfter('1.5', now), undefined);
  assert.is(parseRetryAfter('soon', now), undefined);
  assert.is(parseRetryAfter(null, now), undefined);
});

test('which answers are resent: 408/429/503 for any method, 500/502/504 only when idempotent, others only through retryWhen', () => {
  const answer = (status: number, headers: Record<string, string> = {}) => new Response(null, { status, headers });
  assert.equal(retryableAnswer('POST', answer(503)), { reason: 'HTTP 503' });
  assert.equal(retryableAnswer('PATCH', answer(429, { 'retry-after': '7' })), { reason: 'HTTP 429, Retry-After', askedMs: 7_000 });
  assert.equal(retryableAnswer('PUT', answer(502)), { reason: 'HTTP 502' });
  assert.is(retryableAnswer('POST', answer(500)), undefined);
  assert.is(retryableAnswer('PATCH', answer(504)), undefined);
  assert.is(retryableAnswer('GET', answer(404)), undefined);
  assert.is(retryableAnswer('GET', answer(403)), undefined);
  assert.equal(retryableAnswer('DELETE', answer(409), (r) => (r.status === 409 ? 1_500 : undefined)), { reason: 'HTTP 409', askedMs: 1_500 });
});

test('waits read as people say them', () => {
  assert.is(formatWait(2_000), '2s');
  assert.is(formatWait(59_400), '59s');
  assert.is(formatWait(60_000), '1m');
  assert.is(formatWait(90_000), '1m30s');
});

test.run();
