import { describe, expect, it } from 'vitest';
import { selectorMatches } from '../../../src/kube/selector.js';

describe('label selectors', () => {
  const labels = { app: 'api', tier: 'web', track: 'stable' };

  it('matchLabels needs every pair', () => {
    expect(selectorMatches({ matchLabels: { app: 'api' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'api', tier: 'db' } }, labels)).toBe(false);
  });

  it('matchExpressions: In, NotIn, Exists, DoesNotExist', () => {
    const m = (operator: string, values?: string[]) =>
      selectorMatches(
        { matchExpressions: [{ key: 'track', operator, ...(values ? { values } : {}) }] },
        labels,
      );
    expect(m('In', ['stable', 'canary'])).toBe(true);
    expect(m('In', ['canary'])).toBe(false);
    expect(m('NotIn', ['canary'])).toBe(true);
    expect(m('NotIn', ['stable'])).toBe(false);
    expect(m('Exists')).toBe(true);
    expect(m('DoesNotExist')).toBe(false);
    expect(m('Bogus')).toBe(false);
  });

  it('an empty selector selects everything, a missing one nothing', () => {
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches(undefined, labels)).toBe(false);
    expect(selectorMatches({ matchLabels: { app: 'api' } }, undefined)).toBe(false);
  });
});
