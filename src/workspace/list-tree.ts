import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface ListedEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink';
  size: number;
  executable: boolean;
  target?: string;
}

/**
 * Lists a tree on disk below `dir` (what a run sees, including files runs created), without
 * following symlinks, depth first in name order, up to `maxEntries`.
 */
export async function listTree(
  root: string,
  under: string,
  maxEntries: number,
): Promise<{ entries: ListedEntry[]; truncated: boolean }> {
  const entries: ListedEntry[] = [];
  let truncated = false;
  const visit = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      if (entries.length >= maxEntries) {
        truncated = true;
        return;
      }
      const path = rel === '' ? name : `${rel}/${name}`;
      const info = await lstat(join(root, path));
      if (info.isSymbolicLink()) {
        entries.push({
          path,
          type: 'symlink',
          size: 0,
          executable: false,
          target: await readlink(join(root, path)),
        });
      } else if (info.isDirectory()) {
        entries.push({ path, type: 'directory', size: 0, executable: false });
        await visit(path);
      } else if (info.isFile()) {
        entries.push({ path, type: 'file', size: info.size, executable: (info.mode & 0o100) !== 0 });
      }
    }
  };
  await visit(under);
  return { entries, truncated };
}
