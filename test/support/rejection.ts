/** The error a promise rejects with, for asserting on failures; one helper instead of one per test file. */

/**
 * Awaits `promise` and returns what it rejected with; throws when it resolved. With `type`, an error of another
 * class is rethrown as is, so the test fails on the real error rather than on a confusing assertion.
 */
export async function rejection(promise: Promise<unknown>): Promise<unknown>;
export async function rejection<E>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E>;
export async function rejection<E>(promise: Promise<unknown>, type?: abstract new (...args: never[]) => E): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    if (type !== undefined && !(error instanceof type)) throw error;
    return error;
  }
  throw new Error('expected the operation to fail, but it succeeded');
}
