import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import {
  parentDirs,
  parseRelativeDir,
  parseRelativePath,
  parseWorkspaceName,
  resolveSymlinkTarget,
} from '../../../src/workspace/paths.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('parseWorkspaceName', () => {
  it.each(['api', 'my-app.v2', 'A_1', 'x'.repeat(63)])('accepts %s', (name) => {
    expect(parseWorkspaceName(name)).toBe(name);
  });
  it.each(['', '.', '..', '-x', '.hidden', 'a/b', 'a b', 'x'.repeat(64), 'a\0b', 42])(
    'refuses %j',
    (name) => {
      expect(codeOf(() => parseWorkspaceName(name))).toBe('INVALID_WORKSPACE_NAME');
    },
  );
});

describe('parseRelativePath', () => {
  it.each(['a', 'src/app.ts', '.gitignore', 'a/.b/c', 'weird name/with spaces', 'ünïcode'])(
    'accepts %s',
    (path) => {
      expect(parseRelativePath(path)).toBe(path);
    },
  );
  it.each([
    ['', /non-empty/],
    ['../etc/passwd', /climbs out/],
    ['a/../../b', /climbs out/],
    ['..', /climbs out/],
    ['/etc/passwd', /absolute/],
    ['a\0b', /NUL/],
    ['a\\..\\b', /backslash/],
    ['a//b', /not normalized/],
    ['a/./b', /not normalized/],
    ['a/', /not normalized/],
    ['x'.repeat(256), /longer than 255/],
    [`${'a/'.repeat(2100)}a`, /longer than 4096/],
  ])('refuses %j', (path, message) => {
    expect(codeOf(() => parseRelativePath(path))).toBe('INVALID_PATH');
    expect(() => parseRelativePath(path)).toThrow(message);
  });
  it('refuses what is not a string', () => {
    expect(codeOf(() => parseRelativePath(undefined))).toBe('INVALID_PATH');
  });
});

describe('parseRelativeDir', () => {
  it('takes "", "." and undefined as the root and drops a trailing slash', () => {
    expect(parseRelativeDir(undefined)).toBe('');
    expect(parseRelativeDir('.')).toBe('');
    expect(parseRelativeDir('')).toBe('');
    expect(parseRelativeDir('src/')).toBe('src');
  });
  it('refuses a climb', () => {
    expect(codeOf(() => parseRelativeDir('../x'))).toBe('INVALID_PATH');
  });
});

describe('resolveSymlinkTarget', () => {
  it('resolves links inside the workspace', () => {
    expect(resolveSymlinkTarget('link', 'src/a.ts')).toBe('src/a.ts');
    expect(resolveSymlinkTarget('a/b/link', '../c')).toBe('a/c');
    expect(resolveSymlinkTarget('a/link', '..')).toBe('');
  });
  it.each([
    ['link', '/etc/passwd', /absolute/],
    ['link', '../outside', /outside/],
    ['a/link', '../../x', /outside/],
    ['a/link', '../b/../../x', /outside/],
    ['link', '', /empty or unsafe/],
    ['link', 'a\\b', /empty or unsafe/],
  ])('refuses %s -> %s', (link, target, message) => {
    expect(codeOf(() => resolveSymlinkTarget(link, target))).toBe('SYMLINK_ESCAPE');
    expect(() => resolveSymlinkTarget(link, target)).toThrow(message);
  });
});

describe('parentDirs', () => {
  it('lists parents outermost first', () => {
    expect(parentDirs('a/b/c')).toEqual(['a', 'a/b']);
    expect(parentDirs('a')).toEqual([]);
  });
});
