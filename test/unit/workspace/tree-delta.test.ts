import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { buildTree, sameEntry, type TreeEntry } from '../../../src/workspace/manifest.js';
import { parentDirs } from '../../../src/workspace/paths.js';
import { applyDelta, deltaBetween, type TreeDelta } from '../../../src/workspace/tree-delta.js';
import { dirsOf } from '../../../src/workspace/tree-writer.js';

const limits = { maxFiles: 100, maxBytes: 1000 };
const file = (path: string, size = 1, sha = 'a'): TreeEntry => ({
  type: 'file',
  path,
  size,
  executable: false,
  sha256: sha.repeat(64),
});
const link = (path: string, target: string): TreeEntry => ({ type: 'symlink', path, target });

const base = buildTree(
  [file('README.md'), file('src/a.ts'), file('src/b.ts'), file('src/lib/c.ts'), link('docs', 'src')],
  limits,
);

function codeOf(delta: TreeDelta, tree = base, lim = limits): string {
  try {
    applyDelta(tree, delta, lim);
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  throw new Error('the delta was accepted');
}

describe('applyDelta', () => {
  it('makes the same tree (entries, totals, digest) as building the whole manifest anew', () => {
    const cases: [TreeDelta, TreeEntry[]][] = [
      [{ changes: [], removed: [] }, [...base.entries]],
      [
        { changes: [file('src/a.ts', 5, 'b'), file('zz/new.txt', 3)], removed: ['README.md'] },
        [
          file('src/a.ts', 5, 'b'),
          file('src/b.ts'),
          file('src/lib/c.ts'),
          link('docs', 'src'),
          file('zz/new.txt', 3),
        ],
      ],
      // A directory becomes a file, a symlink becomes a directory.
      [
        { changes: [file('src/lib'), file('docs/x.md')], removed: ['src/lib/c.ts', 'docs'] },
        [file('README.md'), file('src/a.ts'), file('src/b.ts'), file('src/lib'), file('docs/x.md')],
      ],
      // "src.ts" sorts between "src" and "src/": the merge keeps the canonical order.
      [{ changes: [file('src.ts'), file('a')], removed: [] }, [...base.entries, file('src.ts'), file('a')]],
    ];
    for (const [delta, expected] of cases) {
      const tree = applyDelta(base, delta, limits);
      expect(tree).toEqual(buildTree(expected, limits));
    }
    expect(base.files).toBe(5);
  });

  it('refuses unsafe paths and symlinks in a delta', () => {
    expect(codeOf({ changes: [file('../../etc/cron.d/x')], removed: [] })).toBe('INVALID_PATH');
    expect(codeOf({ changes: [file('/etc/passwd')], removed: [] })).toBe('INVALID_PATH');
    expect(codeOf({ changes: [file('a/./b')], removed: [] })).toBe('INVALID_PATH');
    expect(codeOf({ changes: [], removed: ['../README.md'] })).toBe('INVALID_PATH');
    expect(codeOf({ changes: [link('l', '../../etc')], removed: [] })).toBe('SYMLINK_ESCAPE');
    expect(codeOf({ changes: [link('l', '/etc')], removed: [] })).toBe('SYMLINK_ESCAPE');
  });

  it('refuses conflicts with the paths that stay', () => {
    // Below a symlink or a file of the base.
    expect(codeOf({ changes: [file('docs/evil')], removed: [] })).toBe('PATH_CONFLICT');
    expect(codeOf({ changes: [file('README.md/x')], removed: [] })).toBe('PATH_CONFLICT');
    // A file (or symlink) where the base has a directory with entries left in it.
    expect(codeOf({ changes: [file('src/lib')], removed: [] })).toBe('PATH_CONFLICT');
    expect(codeOf({ changes: [link('src', 'README.md')], removed: ['src/a.ts'] })).toBe('PATH_CONFLICT');
    // Conflicts among the changes themselves.
    expect(codeOf({ changes: [link('n', 'src'), file('n/x')], removed: [] })).toBe('PATH_CONFLICT');
    expect(codeOf({ changes: [file('n/x'), file('n')], removed: [] })).toBe('PATH_CONFLICT');
    expect(codeOf({ changes: [file('n'), file('n')], removed: [] })).toBe('PATH_CONFLICT');
    expect(codeOf({ changes: [file('src/a.ts')], removed: ['src/a.ts'] })).toBe('PATH_CONFLICT');
    expect(codeOf({ changes: [], removed: ['src/a.ts', 'src/a.ts'] })).toBe('PATH_CONFLICT');
    // Removing what is not there.
    expect(codeOf({ changes: [], removed: ['nope'] })).toBe('INVALID_MANIFEST');
    expect(codeOf({ changes: [], removed: ['src'] })).toBe('INVALID_MANIFEST');
  });

  it('enforces the file and byte limits on the new tree', () => {
    expect(
      codeOf({ changes: [file('x'), file('y')], removed: [] }, base, { maxFiles: 6, maxBytes: 1000 }),
    ).toBe('TOO_MANY_FILES');
    // Replacing and removing frees room.
    expect(
      applyDelta(
        base,
        { changes: [file('x'), file('y')], removed: ['README.md'] },
        { maxFiles: 6, maxBytes: 1000 },
      ).files,
    ).toBe(6);
    expect(
      codeOf({ changes: [file('src/a.ts', 998)], removed: [] }, base, { maxFiles: 100, maxBytes: 1000 }),
    ).toBe('WORKSPACE_TOO_LARGE');
    expect(
      applyDelta(base, { changes: [file('src/a.ts', 997)], removed: [] }, { maxFiles: 100, maxBytes: 1000 })
        .bytes,
    ).toBe(1000);
  });
});

describe('deltaBetween, applyDelta and dirsOf on random trees', () => {
  // Paths from a small alphabet, so that trees share, replace and nest paths often.
  const segment = fc.constantFrom('a', 'b', 'c', 'a.b', 'z');
  const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
  const entry = fc
    .tuple(path, fc.integer({ min: 0, max: 3 }), fc.boolean())
    .map(([p, content, executable]): TreeEntry => ({
      type: 'file',
      path: p,
      size: content,
      executable,
      sha256: String(content).repeat(64),
    }));
  // A valid tree: no path below another path that is a file.
  const tree = fc.array(entry, { maxLength: 30 }).map((entries) => {
    const byPath = new Map(entries.map((e) => [e.path, e]));
    const kept = [...byPath.values()].filter((e) => !parentDirs(e.path).some((d) => byPath.has(d)));
    return buildTree(kept, { maxFiles: 1000, maxBytes: 1_000_000 });
  });

  it('turns any tree into any other, with the digest buildTree gives', () => {
    fc.assert(
      fc.property(tree, tree, (from, to) => {
        const delta = deltaBetween(from, to.entries);
        const made = applyDelta(from, delta, { maxFiles: 1000, maxBytes: 1_000_000 });
        expect(made.entries).toEqual(to.entries);
        expect(made.digest).toBe(to.digest);
        expect(made.bytes).toBe(to.bytes);
        // Only what differs travels.
        const unchanged = to.entries.filter((e) =>
          from.entries.some((o) => o.path === e.path && sameEntry(o, e)),
        );
        expect(delta.changes.length).toBe(to.entries.length - unchanged.length);
      }),
      { numRuns: 300 },
    );
  });

  it('dirsOf lists exactly the parents of every entry', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const expected = new Set(t.entries.flatMap((e) => parentDirs(e.path)));
        expect(dirsOf(t.entries)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
