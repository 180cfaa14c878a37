import { describe, expect, it } from 'vitest';
import { globToRegExp, isGlob, matchesAnyGlob } from '../../src/glob.js';

describe('globs', () => {
  it('* matches any run, ? one character, the rest is literal', () => {
    expect(globToRegExp('team-*').test('team-a')).toBe(true);
    expect(globToRegExp('team-*').test('team-')).toBe(true);
    expect(globToRegExp('team-*').test('xteam-a')).toBe(false);
    expect(globToRegExp('ns-?').test('ns-1')).toBe(true);
    expect(globToRegExp('ns-?').test('ns-12')).toBe(false);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    expect(globToRegExp('*').test('anything-at-all')).toBe(true);
  });

  it('tells globs from names and matches any of several', () => {
    expect(isGlob('staging')).toBe(false);
    expect(isGlob('team-*')).toBe(true);
    expect(matchesAnyGlob('staging', ['prod', 'stag*'])).toBe(true);
    expect(matchesAnyGlob('dev', ['prod', 'stag*'])).toBe(false);
  });
});
