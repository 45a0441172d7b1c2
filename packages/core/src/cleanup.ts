// "Change some state, run the caller's function, change it back": for callbacks that may be sync or async.

/**
 * Runs `fn`, then `cleanup` once `fn` is done: at once when it returns or throws, or, when it returns a
 * promise, once that promise settles. Returns what `fn` returns (the same promise chained through
 * `finally`). Used by `withAdaptersDisabled` and other helpers that set state for the duration of a call.
 */
export function withCleanup<T>(fn: () => T, cleanup: () => void): T {
  let result: T;
  try {
    result = fn();
  } catch (e) {
    cleanup();
    throw e;
  }
  if (result instanceof Promise) return result.finally(cleanup) as T;
  cleanup();
  return result;
}
