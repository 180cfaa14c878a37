import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createIgnoreRules, type IgnoreScope } from './ignore-rules.js';

/** A file or symlink of the local project, with what the hash cache needs to trust old hashes. */
export interface LocalEntry {
  path: string;
  type: 'file' | 'symlink';
  size: number;
  mode: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  target?: string;
}

/**
 * Lists the files and symlinks below `root` that a sync sends: ignore files honoured, version
 * control directories skipped, sockets and devices left out. Sorted by path.
 */
export async function walkProject(root: string): Promise<LocalEntry[]> {
  const rules = createIgnoreRules(root);
  const out: LocalEntry[] = [];
  const visit = async (dir: string, scope: IgnoreScope): Promise<void> => {
    const items = await readdir(join(root, dir), { withFileTypes: true });
    const subdirs: Promise<void>[] = [];
    await Promise.all(
      items.map(async (item) => {
        const path = dir === '' ? item.name : `${dir}/${item.name}`;
        if (item.isDirectory()) {
          if (!scope.ignores(path, true)) subdirs.push(rules.enter(path, scope).then((s) => visit(path, s)));
          return;
        }
        if (!item.isFile() && !item.isSymbolicLink()) return;
        if (scope.ignores(path, false)) return;
        const info = await lstat(join(root, path));
        const entry: LocalEntry = {
          path,
          type: info.isSymbolicLink() ? 'symlink' : 'file',
          size: info.isSymbolicLink() ? 0 : info.size,
          mode: info.mode & 0o7777,
          mtimeMs: info.mtimeMs,
          ctimeMs: info.ctimeMs,
          ino: info.ino,
        };
        if (entry.type === 'symlink') entry.target = await readlink(join(root, path));
        out.push(entry);
      }),
    );
    await Promise.all(subdirs);
  };
  await visit('', await rules.root());
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
