/**
 * Long-running operations: some vendor APIs answer a change with an operation to poll instead of the result
 * (Yandex Cloud's `Operation`: `{id, done, error | response}`, read back at `GET /operations/{id}`). `awaitOperation`
 * is the one polling loop for them, so a vendor driver only says how to read its operation and what "done" means;
 * an operation still running when the time is up is an error (the caller says what to do about it), never success.
 */

/** What one read of an operation says. */
export interface OperationState<T> {
  done: boolean;
  /** The operation as read (its `error` or `response` when done). */
  value: T;
}

/** How long and how often to poll. */
export interface PollOptions {
  /** First wait between reads; each wait doubles up to `maxIntervalMs` (default 200 ms, 5 s). */
  intervalMs?: number;
  maxIntervalMs?: number;
  /** Give up after this long (default 120 s). */
  timeoutMs?: number;
  /** Waits (tests pass a fake; default a timer). */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** The operation did not finish in time: `last` is its last state. */
export class OperationTimeout<T> extends Error {
  readonly last: T;
  readonly waitedMs: number;
  constructor(last: T, waitedMs: number) {
    super(`operation still running after ${Math.round(waitedMs / 1000)} s`);
    this.last = last;
    this.waitedMs = waitedMs;
  }
}

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves with the operation once `read` says it is done (starting from `first`, the state the change answered
 * with); throws `OperationTimeout` when `timeoutMs` passes first. Errors of `read` propagate.
 */
export async function awaitOperation<T>(first: OperationState<T>, read: () => Promise<OperationState<T>>, options: PollOptions = {}): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const started = now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  let interval = options.intervalMs ?? 200;
  let state = first;
  while (!state.done) {
    if (now() - started >= timeoutMs) throw new OperationTimeout(state.value, now() - started);
    await sleep(interval);
    interval = Math.min(interval * 2, options.maxIntervalMs ?? 5_000);
    state = await read();
  }
  return state.value;
}
