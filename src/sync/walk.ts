import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { createIgnoreRules, ignoreFileNames, type IgnoreScope } from './ignore-rules.js';

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
  // Plain concatenation, not path.join: `root` is absolute and normalized, the names are plain,
  // and join's normalization was a tenth of the walk.
  const prefix = root.endsWith('/') ? root : `${root}/`;
  // Synchronous calls on purpose: the client has nothing else to do meanwhile, and 10,000 lstat
  // calls cost ~15 ms this way against ~250 ms through the libuv pool.
  // The walk is synchronous, so it lets the event loop turn every few milliseconds: requests
  // started before it (the sync client asks the server for its digest meanwhile) make progress.
  let yielded = performance.now();
  const visit = async (dir: string, parent: IgnoreScope | undefined): Promise<void> => {
    if (performance.now() - yielded > 2) {
      await new Promise((resolve) => setImmediate(resolve));
      yielded = performance.now();
    }
    const items = readdirSync(dir === '' ? root : prefix + dir, { withFileTypes: true });
    const names = new Set<string>();
    for (const name of ignoreFileNames) if (items.some((item) => item.name === name)) names.add(name);
    const scope = parent ? await rules.enter(dir, parent, names) : await rules.root(names);
    for (const item of items) {
      const path = dir === '' ? item.name : `${dir}/${item.name}`;
      if (item.isDirectory()) {
        if (!scope.ignores(path, true)) await visit(path, scope);
        continue;
      }
      if (!item.isFile() && !item.isSymbolicLink()) continue;
      if (scope.ignores(path, false)) continue;
      const full = prefix + path;
      const info = lstatSync(full);
      const symlink = info.isSymbolicLink();
      out.push({
        path,
        type: symlink ? 'symlink' : 'file',
        size: symlink ? 0 : info.size,
        mode: info.mode & 0o7777,
        mtimeMs: info.mtimeMs,
        ctimeMs: info.ctimeMs,
        ino: info.ino,
        ...(symlink ? { target: readlinkSync(full) } : {}),
      });
    }
  };
  await visit('', undefined);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
