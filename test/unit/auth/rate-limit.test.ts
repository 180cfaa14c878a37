import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../../src/auth/rate-limit.js';

describe('rate limiter', () => {
  it('allows a burst, then refills at the rate, per key', () => {
    let now = 0;
    const limiter = createRateLimiter({ perMinute: 60, burst: 3, now: () => now });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0);
    now += 1000;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThanOrEqual(1);
  });

  it('says how long to wait at a slow rate', () => {
    let now = 0;
    const limiter = createRateLimiter({ perMinute: 2, burst: 1, now: () => now });
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(30);
    now += 29_000;
    expect(limiter.take('a')).toBe(1);
  });

  it('is off at 0 per minute', () => {
    const limiter = createRateLimiter({ perMinute: 0, burst: 1 });
    for (let i = 0; i < 100; i++) expect(limiter.take('a')).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('holds a bounded number of buckets, forgetting refilled ones first', () => {
    let now = 0;
    const limiter = createRateLimiter({ perMinute: 600, burst: 2, now: () => now });
    for (let i = 0; i < 10_000; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBe(10_000);
    now += 60_000;
    limiter.take('new');
    expect(limiter.size).toBe(1);
    for (let i = 0; i < 20_000; i++) limiter.take(`busy${i}`);
    expect(limiter.size).toBeLessThanOrEqual(10_000);
  });
});
