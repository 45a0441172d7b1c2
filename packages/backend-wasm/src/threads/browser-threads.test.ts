// The browser thread count as a function of isolation, core count and the `threads` option, and the
// temporary `hardwareConcurrency` override that lifts tfjs's cores / 2 cap (on stand-ins for navigator:
// an object whose prototype has the getter, as WorkerNavigator and Navigator do). The real browser run
// is apps/demo's e2e test (2 threads on a 2-core machine).
import { describe, expect, it } from 'vitest';
import { MAX_WASM_THREADS, resolveBrowserThreads, withHardwareConcurrency } from './browser-threads.js';

describe('resolveBrowserThreads', () => {
  it.each([
    // isolated, hardwareConcurrency, requested, expected
    [true, 2, undefined, 2],
    [true, 4, undefined, 4],
    [true, 8, undefined, 8],
    [true, 16, undefined, 8],
    [true, 1, undefined, false],
    [true, undefined, undefined, false],
    [true, 0, undefined, false],
    [true, 16, false, false],
    [true, 16, 1, false],
    [true, 16, 3, 3],
    [true, 2, 4, 4],
    [true, 1, 2, 2],
    [false, 16, undefined, false],
    [false, 16, 4, false],
    [false, 2, false, false],
  ] as const)('isolated %s, %s cores, threads %s → %s', (isolated, hardwareConcurrency, requested, expected) => {
    expect(resolveBrowserThreads({ isolated, hardwareConcurrency, requested }).threads).toBe(expected);
  });

  it('says why threads are off where the page is not cross-origin isolated', () => {
    const plan = resolveBrowserThreads({ isolated: false, hardwareConcurrency: 8, requested: undefined });
    expect(plan.reason).toMatch(/not cross-origin isolated/);
    expect(plan.reason).toMatch(/Cross-Origin-Opener-Policy: same-origin/);
    expect(plan.reason).toMatch(/Cross-Origin-Embedder-Policy: require-corp/);
  });

  it('names the core count it used', () => {
    expect(resolveBrowserThreads({ isolated: true, hardwareConcurrency: 12, requested: undefined }).reason).toMatch(
      /hardwareConcurrency 12, at most 8/,
    );
    expect(MAX_WASM_THREADS).toBe(8);
  });
});

/** A stand-in for WorkerNavigator: the core count is a getter on the prototype. */
class FakeNavigator {
  get hardwareConcurrency(): number {
    return 2;
  }
}

describe('withHardwareConcurrency', () => {
  it('reads the given count while the promise is pending, then the prototype getter again', async () => {
    const nav = new FakeNavigator();
    let seen = 0;
    const result = await withHardwareConcurrency(nav, 4, async () => {
      await new Promise((r) => setTimeout(r, 5));
      seen = nav.hardwareConcurrency;
      return 'done';
    });
    expect(result).toBe('done');
    expect(seen).toBe(4);
    expect(nav.hardwareConcurrency).toBe(2);
    expect(Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency')).toBeUndefined();
  });

  it('restores after a rejection, which it passes on', async () => {
    const nav = new FakeNavigator();
    await expect(
      withHardwareConcurrency(nav, 6, async () => {
        expect(nav.hardwareConcurrency).toBe(6);
        throw new Error('init failed');
      }),
    ).rejects.toThrow('init failed');
    expect(nav.hardwareConcurrency).toBe(2);
    expect(Object.hasOwn(nav, 'hardwareConcurrency')).toBe(false);
  });

  it('covers a synchronous factory too, and restores an own property that was already there', async () => {
    const nav = { hardwareConcurrency: 3 };
    const seen = await withHardwareConcurrency(nav, 8, () => nav.hardwareConcurrency);
    expect(seen).toBe(8);
    expect(Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency')).toEqual({
      value: 3,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  });

  it('nests: the inner override ends with the outer value back', async () => {
    const nav = new FakeNavigator();
    await withHardwareConcurrency(nav, 4, async () => {
      await withHardwareConcurrency(nav, 6, async () => expect(nav.hardwareConcurrency).toBe(6));
      expect(nav.hardwareConcurrency).toBe(4);
    });
    expect(nav.hardwareConcurrency).toBe(2);
    expect(Object.hasOwn(nav, 'hardwareConcurrency')).toBe(false);
  });

  it('runs unchanged where the property cannot be defined', async () => {
    const nav = Object.freeze({ hardwareConcurrency: 2 });
    expect(await withHardwareConcurrency(nav, 4, () => nav.hardwareConcurrency)).toBe(2);
  });
});
