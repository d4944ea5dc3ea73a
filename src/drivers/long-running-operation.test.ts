/** `awaitOperation`: reads an operation until done with growing waits, and gives up with the last state when time runs out. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { awaitOperation, OperationTimeout } from './long-running-operation.ts';

/** A fake clock whose sleeps advance it and are recorded. */
function fakeTime() {
  let now = 0;
  const waits: number[] = [];
  return { waits, now: () => now, sleep: async (ms: number) => void (waits.push(ms), (now += ms)) };
}

test('an operation done in its first answer is not read again', async () => {
  const time = fakeTime();
  let reads = 0;
  const value = await awaitOperation({ done: true, value: 'first' }, async () => ((reads += 1), { done: true, value: 'read' }), time);
  assert.is(value, 'first');
  assert.is(reads, 0);
  assert.equal(time.waits, []);
});

test('reads until done, doubling the wait up to the cap, and returns the final state', async () => {
  const time = fakeTime();
  let reads = 0;
  const value = await awaitOperation({ done: false, value: 0 }, async () => ((reads += 1), { done: reads === 5, value: reads }), { ...time, intervalMs: 100, maxIntervalMs: 300 });
  assert.is(value, 5);
  assert.equal(time.waits, [100, 200, 300, 300, 300]);
});

test('an operation still running at the timeout throws OperationTimeout with its last state, never resolves', async () => {
  const time = fakeTime();
  const error = await awaitOperation({ done: false, value: 'running' }, async () => ({ done: false, value: 'still running' }), { ...time, intervalMs: 1_000, maxIntervalMs: 1_000, timeoutMs: 5_000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(error, OperationTimeout);
  assert.is((error as OperationTimeout<string>).last, 'still running');
  assert.is((error as OperationTimeout<string>).waitedMs, 5_000);
});

test('an error reading the operation propagates', async () => {
  const time = fakeTime();
  const error = await awaitOperation({ done: false, value: 1 }, async () => {
    throw new Error('HTTP 503');
  }, time).then(() => undefined, (e: unknown) => e);
  assert.match(String(error), 'HTTP 503');
});

test.run();
