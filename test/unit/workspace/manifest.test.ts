import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { buildTree, toWireManifest, treeDigest, type TreeEntry } from '../../../src/workspace/manifest.js';
import { parseManifest } from '../../../src/workspace/wire-manifest.js';

const sha = (c: string): string => c.repeat(64);
const limits = { maxFiles: 10, maxBytes: 1000 };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('parseManifest', () => {
  it('parses files and symlinks, keeps the executable bit, sorts and totals', () => {
    const tree = parseManifest(
      {
        entries: [
          { path: 'run.sh', size: 10, mode: 0o755, sha256: sha('a') },
          { path: 'a/b.txt', size: 5, mode: 0o644, sha256: sha('b') },
          { path: 'link', type: 'symlink', target: 'a/b.txt' },
        ],
      },
      limits,
    );
    expect(tree.entries.map((e) => e.path)).toEqual(['a/b.txt', 'link', 'run.sh']);
    expect(tree.entries[2]).toMatchObject({ type: 'file', executable: true });
    expect(tree.entries[0]).toMatchObject({ type: 'file', executable: false });
    expect(tree.files).toBe(3);
    expect(tree.bytes).toBe(15);
    expect(tree.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives equal trees equal digests whatever the order, and different trees different ones', () => {
    const a = { path: 'a', size: 1, mode: 0o644, sha256: sha('a') };
    const b = { path: 'b', size: 1, mode: 0o644, sha256: sha('b') };
    const one = parseManifest({ entries: [a, b] }, limits);
    const two = parseManifest({ entries: [b, a] }, limits);
    const exec = parseManifest({ entries: [a, { ...b, mode: 0o755 }] }, limits);
    expect(one.digest).toBe(two.digest);
    expect(exec.digest).not.toBe(one.digest);
  });

  it('round-trips through the wire form', () => {
    const entries: TreeEntry[] = [
      { type: 'file', path: 'x', size: 3, executable: true, sha256: sha('c') },
      { type: 'symlink', path: 'y', target: 'x' },
    ];
    const tree = buildTree(entries, limits);
    expect(parseManifest(toWireManifest(tree.entries), limits).digest).toBe(tree.digest);
  });

  it.each([
    ['not an object', 'nope', 'INVALID_MANIFEST'],
    ['a bad hash', { entries: [{ path: 'a', size: 1, mode: 0o644, sha256: 'XYZ' }] }, 'INVALID_MANIFEST'],
    [
      'a negative size',
      { entries: [{ path: 'a', size: -1, mode: 0o644, sha256: sha('a') }] },
      'INVALID_MANIFEST',
    ],
    [
      'an unknown key',
      { entries: [{ path: 'a', size: 1, mode: 0o644, sha256: sha('a'), uid: 0 }] },
      'INVALID_MANIFEST',
    ],
    ['a traversal', { entries: [{ path: '../a', size: 1, mode: 0o644, sha256: sha('a') }] }, 'INVALID_PATH'],
    [
      'an absolute path',
      { entries: [{ path: '/a', size: 1, mode: 0o644, sha256: sha('a') }] },
      'INVALID_PATH',
    ],
    ['a NUL byte', { entries: [{ path: 'a\0', size: 1, mode: 0o644, sha256: sha('a') }] }, 'INVALID_PATH'],
    ['a backslash', { entries: [{ path: 'a\\b', size: 1, mode: 0o644, sha256: sha('a') }] }, 'INVALID_PATH'],
    [
      'an escaping symlink',
      { entries: [{ path: 'l', type: 'symlink', target: '../../etc' }] },
      'SYMLINK_ESCAPE',
    ],
    ['an absolute symlink', { entries: [{ path: 'l', type: 'symlink', target: '/etc' }] }, 'SYMLINK_ESCAPE'],
    [
      'a duplicate',
      {
        entries: [
          { path: 'a', size: 1, mode: 0o644, sha256: sha('a') },
          { path: 'a', size: 1, mode: 0o644, sha256: sha('b') },
        ],
      },
      'PATH_CONFLICT',
    ],
    [
      'a file below a file',
      {
        entries: [
          { path: 'a', size: 1, mode: 0o644, sha256: sha('a') },
          { path: 'a/b', size: 1, mode: 0o644, sha256: sha('b') },
        ],
      },
      'PATH_CONFLICT',
    ],
    [
      'a file below a symlink',
      {
        entries: [
          { path: 'l', type: 'symlink', target: 'd' },
          { path: 'l/x', size: 1, mode: 0o644, sha256: sha('b') },
        ],
      },
      'PATH_CONFLICT',
    ],
    [
      'too many files',
      {
        entries: Array.from({ length: 11 }, (_, i) => ({
          path: `f${i}`,
          size: 1,
          mode: 0o644,
          sha256: sha('a'),
        })),
      },
      'TOO_MANY_FILES',
    ],
    [
      'too many bytes',
      { entries: [{ path: 'big', size: 1001, mode: 0o644, sha256: sha('a') }] },
      'WORKSPACE_TOO_LARGE',
    ],
  ])('refuses %s', (_label, manifest, code) => {
    expect(codeOf(() => parseManifest(manifest, limits))).toBe(code);
  });
});

describe('treeDigest', () => {
  it('is the sha256 of the canonical lines, whatever their length or script', () => {
    const entries: TreeEntry[] = [];
    for (let i = 0; i < 3000; i++) {
      const path = `dir-${i % 7}/${'ñ日本'.repeat(i % 50)}file-${i}\u{1F600}.txt`;
      entries.push(
        i % 5 === 0
          ? { type: 'symlink', path, target: `../${'t'.repeat(i % 300)}` }
          : {
              type: 'file',
              path,
              size: i * 37,
              executable: i % 3 === 0,
              sha256: createHash('sha256').update(String(i)).digest('hex'),
            },
      );
    }
    entries.push({
      type: 'file',
      path: 'x'.repeat(40_000),
      size: 1,
      executable: false,
      sha256: 'a'.repeat(64),
    });
    const lines = entries
      .map((e) =>
        e.type === 'symlink'
          ? `l\0${e.path}\0${e.target}\n`
          : `f\0${e.path}\0${e.size}\0${e.executable ? 'x' : '-'}\0${e.sha256}\n`,
      )
      .join('');
    expect(treeDigest(entries)).toBe(createHash('sha256').update(lines, 'utf8').digest('hex'));
    expect(treeDigest([])).toBe(createHash('sha256').digest('hex'));
  });
});
