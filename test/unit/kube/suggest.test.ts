import { describe, expect, it } from 'vitest';
import { editDistance, nearMisses } from '../../../src/kube/suggest.js';

describe('near misses', () => {
  it('measures edits', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('suggests close names and abbreviations, best first', () => {
    const names = ['user-service', 'user-api', 'orders', 'payments', 'api'];
    expect(nearMisses('user-svc', names)).toEqual(['user-service', 'user-api']);
    expect(nearMisses('oders', names)).toEqual(['orders']);
    expect(nearMisses('apii', names)).toEqual(['api']);
  });

  it('suggests nothing for an unrelated name or an exact hit', () => {
    expect(nearMisses('zzzzzz', ['user-service', 'orders'])).toEqual([]);
    expect(nearMisses('orders', ['orders'])).toEqual([]);
  });
});
