import { describe, expect, it } from 'vitest';
import { ExpiringCache } from '../../src/expiring-cache.js';

describe('ExpiringCache', () => {
  it('answers until the entry expires, then reads as absent and forgets it', () => {
    const cache = new ExpiringCache<string | null>(10);
    cache.set('a', null, 1000, 0);
    expect(cache.get('a', 999)).toBeNull();
    expect(cache.get('a', 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const cache = new ExpiringCache<number>(2);
    cache.set('a', 1, 1000, 0);
    cache.set('b', 2, 1000, 0);
    cache.set('a', 3, 1000, 0); // re-set: now the newest
    cache.set('c', 4, 1000, 0);
    expect(cache.size).toBe(2);
    expect(cache.get('b', 1)).toBeUndefined();
    expect(cache.get('a', 1)).toBe(3);
    expect(cache.get('c', 1)).toBe(4);
  });

  it('does not store with no time to live', () => {
    const cache = new ExpiringCache<number>(2);
    cache.set('a', 1, 0);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
