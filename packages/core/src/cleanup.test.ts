import { describe, expect, it } from 'vitest';
import { withCleanup } from './cleanup.js';

describe('withCleanup', () => {
  it('cleans up after a return and after a throw, before the caller sees either', () => {
    const log: string[] = [];
    expect(
      withCleanup(
        () => (log.push('run'), 7),
        () => log.push('clean'),
      ),
    ).toBe(7);
    expect(log).toEqual(['run', 'clean']);
    expect(() =>
      withCleanup(
        () => {
          throw new Error('boom');
        },
        () => log.push('clean after throw'),
      ),
    ).toThrow('boom');
    expect(log.at(-1)).toBe('clean after throw');
  });

  it('with a promise, cleans up when it settles (resolved or rejected), not before', async () => {
    const log: string[] = [];
    let finish!: (v: number) => void;
    const p = withCleanup(
      () => new Promise<number>((r) => (finish = r)),
      () => log.push('clean'),
    );
    expect(log).toEqual([]);
    finish(3);
    await expect(p).resolves.toBe(3);
    expect(log).toEqual(['clean']);
    await expect(
      withCleanup(
        () => Promise.reject(new Error('late')),
        () => log.push('clean 2'),
      ),
    ).rejects.toThrow('late');
    expect(log).toEqual(['clean', 'clean 2']);
  });
});
