import { mkdir, mkdtemp, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { walkProject } from '../../../src/sync/walk.js';

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
});
