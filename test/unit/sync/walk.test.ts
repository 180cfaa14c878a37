import { mkdir, mkdtemp, rename, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import ignore from 'ignore';
import { relistProject, walkProject } from '../../../src/sync/walk.js';

let root: string;

async function put(path: string, content = 'x'): Promise<void> {
  await mkdir(join(root, path, '..'), { recursive: true });
  await writeFile(join(root, path), content);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mms-walk-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('walkProject', () => {
  it('honours nested .gitignore and .mirrordignore with negation, and skips .git', async () => {
    await put('.gitignore', 'node_modules/\n*.log\n!keep.log\n');
    await put('.mirrordignore', 'secret.env\n');
    await put('src/app.ts');
    await put('src/debug.log');
    await put('src/keep.log');
    await put('node_modules/x/index.js');
    await put('secret.env');
    await put('.git/HEAD');
    await put('pkg/.gitignore', 'dist\n');
    await put('pkg/dist/out.js');
    await put('pkg/src/dist.ts');
    await put('dist/top.js');
    const paths = (await walkProject(root)).map((e) => e.path);
    expect(paths).toEqual([
      '.gitignore',
      '.mirrordignore',
      'dist/top.js',
      'pkg/.gitignore',
      'pkg/src/dist.ts',
      'src/app.ts',
      'src/keep.log',
    ]);
  });

  it('reports symlinks with their target, modes and sizes', async () => {
    await put('run.sh', '#!/bin/sh\n');
    await chmod(join(root, 'run.sh'), 0o755);
    await symlink('run.sh', join(root, 'link'));
    const entries = await walkProject(root);
    expect(entries.find((e) => e.path === 'link')).toMatchObject({
      type: 'symlink',
      target: 'run.sh',
      size: 0,
    });
    expect(entries.find((e) => e.path === 'run.sh')).toMatchObject({ type: 'file', size: 10, mode: 0o755 });
  });

  it('answers directory-only ignore files per directory exactly as matching every file would', async () => {
    // Random trees and ignore files; the reference asks the `ignore` package about every path at
    // every level, which is what the walk did before it asked directory-only files once per directory.
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const names = ['a', 'b', 'build', 'dist', 'x'];
    const dirPatterns = ['build/', 'a/', '/dist/', 'a/b/', '**/x/', '*/', 'b/**/', '# c/', ''];
    const anyPatterns = ['!build/', '*.log', '!a/', 'x', 'b/*'];
    for (let round = 0; round < 6; round++) {
      await rm(root, { recursive: true, force: true });
      await mkdir(root);
      const ignoreFiles = new Map<string, string>();
      const files: string[] = [];
      const grow = async (dir: string, depth: number): Promise<void> => {
        if (rand(3) === 0 || dir === '') {
          const mixed = dir !== '' && rand(2) === 0;
          const lines = Array.from({ length: 1 + rand(3) }, () =>
            mixed && rand(2) === 0
              ? anyPatterns[rand(anyPatterns.length)]
              : dirPatterns[rand(dirPatterns.length)],
          );
          ignoreFiles.set(dir, `${lines.join('\n')}\n`);
          await put(dir === '' ? '.gitignore' : `${dir}/.gitignore`, `${lines.join('\n')}\n`);
          files.push(dir === '' ? '.gitignore' : `${dir}/.gitignore`);
        }
        for (const name of names) {
          const path = dir === '' ? name : `${dir}/${name}`;
          if (depth < 3 && rand(2) === 0) await grow(path, depth + 1);
          else if (rand(2) === 0) {
            await put(path);
            files.push(path);
          }
        }
      };
      await grow('', 0);
      const compiled = [...ignoreFiles]
        .sort(([a], [b]) => a.length - b.length)
        .map(([base, text]) => ({ base, rules: ignore().add(text) }));
      const levelsFor = (path: string) =>
        compiled.filter(({ base }) => base === '' || path.startsWith(`${base}/`));
      const ignoredRef = (path: string, isDir: boolean): boolean => {
        let ignored = false;
        for (const level of levelsFor(path)) {
          const rel = level.base === '' ? path : path.slice(level.base.length + 1);
          const result = level.rules.test(isDir ? `${rel}/` : rel);
          if (result.ignored) ignored = true;
          else if (result.unignored) ignored = false;
        }
        return ignored;
      };
      const expected = files
        .filter((path) => {
          const parts = path.split('/');
          for (let i = 1; i < parts.length; i++)
            if (ignoredRef(parts.slice(0, i).join('/'), true)) return false;
          return !ignoredRef(path, false);
        })
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect((await walkProject(root)).map((e) => e.path)).toEqual(expected);
    }
  });
});

describe('relistProject', () => {
  it('equals a new walk when it is told every path that changed', async () => {
    await put('.gitignore', 'node_modules/\n*.log\n');
    await put('pkg/.gitignore', 'gen/\n');
    for (const dir of ['src', 'src/deep', 'pkg/src', 'pkg/gen', 'node_modules/x'])
      for (const name of ['a.ts', 'b.ts', 'c.log']) await put(`${dir}/${name}`);
    let previous = await walkProject(root);
    // Each step: what it does, and the paths a watch reports for it (a directory for what is in it).
    const steps: [() => Promise<unknown>, string[]][] = [
      [() => writeFile(join(root, 'src/a.ts'), 'changed'), ['src/a.ts']],
      [() => put('src/new/dir/f.ts'), ['src/new']],
      [() => rm(join(root, 'src/deep'), { recursive: true }), ['src/deep']],
      [() => put('src/debug.log'), ['src/debug.log']],
      [() => put('node_modules/x/more.js'), ['node_modules/x/more.js']],
      [() => put('pkg/gen/out.ts'), ['pkg/gen/out.ts']],
      [() => rename(join(root, 'pkg/src'), join(root, 'moved')), ['pkg/src', 'moved']],
      [
        async () => {
          await rm(join(root, 'src/b.ts'));
          await put('src/b.ts/inner.ts');
        },
        ['src/b.ts'],
      ],
      [
        async () => {
          await rm(join(root, 'src/new'), { recursive: true });
          await put('src/new', 'now a file');
        },
        ['src/new'],
      ],
      [() => symlink('a.ts', join(root, 'src/link')), ['src/link']],
      [() => chmod(join(root, 'src/a.ts'), 0o755), ['src/a.ts']],
      // A path reported twice, and a directory and a file in it together.
      [() => put('moved/a.ts', 'again'), ['moved/a.ts', 'moved', 'moved/a.ts']],
      // Reported but unchanged, and reported but never there.
      [() => Promise.resolve(), ['src/a.ts', 'nowhere/at/all']],
    ];
    for (const [step, changed] of steps) {
      await step();
      const relisted = await relistProject(root, previous, changed);
      const walked = await walkProject(root);
      expect(relisted, `after a change to ${changed.join(', ')}`).toEqual(walked);
      previous = relisted;
    }
  });

  it('refuses a path that is not inside the project', async () => {
    for (const path of ['', '/etc', '../x', 'a//b', 'a/../b'])
      await expect(relistProject(root, [], [path])).rejects.toThrow(/not a path inside the project/);
  });
});
