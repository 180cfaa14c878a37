import {
  chmod,
  copyFile,
  link,
  mkdir,
  rename,
  rm,
  rmdir,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { blobPath, type WorkspaceLayout } from './layout.js';
import { type Tree, type TreeEntry } from './manifest.js';
import { compareEntries } from './tree-delta.js';
import { forEachLimit } from './mutex.js';

const parallelism = 32;

/**
 * Materializes a tree as `trees/<id>/`: directories are created, files are hard links to their
 * read-only blobs (so a tree costs one link per file, not a copy), symlinks are recreated. On
 * failure the partial tree is removed. Nothing points at it until `switchCurrent`.
 */
export async function materializeTree(layout: WorkspaceLayout, id: string, tree: Tree): Promise<string> {
  const dir = join(layout.trees, id);
  try {
    await mkdir(dir);
    const dirs = dirsOf(tree.entries);
    // Parents before children: sorting by depth lets each level go in parallel.
    const byDepth = new Map<number, string[]>();
    for (const d of dirs) {
      const depth = d.split('/').length;
      const level = byDepth.get(depth);
      if (level) level.push(d);
      else byDepth.set(depth, [d]);
    }
    for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
      await forEachLimit(byDepth.get(depth) ?? [], parallelism, (d) => mkdir(join(dir, d)));
    }
    await forEachLimit(tree.entries, parallelism, async (entry) => {
      const target = `${dir}/${entry.path}`;
      if (entry.type === 'symlink') await symlink(entry.target, target);
      else await link(blobPath(layout, entry.sha256, entry.executable), target);
    });
    await writeFile(`${dir}.json`, JSON.stringify({ id, digest: tree.digest, entries: tree.entries }));
    return dir;
  } catch (error) {
    await removeTree(layout, id);
    throw error;
  }
}

/** The directories a tree's entries need. */
export function dirsOf(entries: readonly TreeEntry[]): Set<string> {
  const dirs = new Set<string>();
  let previous = '';
  for (const entry of entries) {
    // Sorted entries come directory by directory: most share the previous one's parent, and a
    // directory already known has all its parents known too.
    const slash = entry.path.lastIndexOf('/');
    if (slash === -1) continue;
    const parent = entry.path.slice(0, slash);
    if (parent === previous) continue;
    previous = parent;
    for (
      let dir = parent;
      dir !== '' && !dirs.has(dir);
      dir = dir.slice(0, Math.max(dir.lastIndexOf('/'), 0))
    )
      dirs.add(dir);
  }
  return dirs;
}

const depth = (path: string): number => path.split('/').length;

/**
 * Turns the unused tree `from.id` (holding exactly `from.entries` and `from.dirs`) into tree `id` holding `tree`: only the
 * entries that differ are unlinked and linked, so a one-file change costs a few calls instead of
 * one link per file. The caller guarantees that no run uses `fromId` and that nothing else wrote
 * into it. On failure the half-patched tree is removed and the error rethrown (the current tree is
 * another directory, untouched).
 */
export async function patchTree(
  layout: WorkspaceLayout,
  from: { id: string; entries: readonly TreeEntry[]; dirs: ReadonlySet<string> },
  id: string,
  tree: Tree,
): Promise<string> {
  const fromId = from.id;
  const dir = join(layout.trees, fromId);
  try {
    // What to unlink (gone or replaced) and what to link.
    const add: TreeEntry[] = [];
    const drop: string[] = [];
    compareEntries(from.entries, tree.entries, {
      changed: (entry, replaces) => {
        if (replaces) drop.push(entry.path);
        add.push(entry);
      },
      removed: (path) => drop.push(path),
    });
    await forEachLimit(drop, parallelism, (path) => unlink(join(dir, path)));
    const oldDirs = from.dirs;
    const newDirs = dirsOf(tree.entries);
    const emptied = [...oldDirs].filter((d) => !newDirs.has(d)).sort((a, b) => depth(b) - depth(a));
    for (const d of emptied) await rmdir(join(dir, d));
    const created = [...newDirs].filter((d) => !oldDirs.has(d)).sort((a, b) => depth(a) - depth(b));
    for (const d of created) await mkdir(join(dir, d));
    await forEachLimit(add, parallelism, async (entry) => {
      const target = `${dir}/${entry.path}`;
      if (entry.type === 'symlink') await symlink(entry.target, target);
      else await link(blobPath(layout, entry.sha256, entry.executable), target);
    });
    await rename(dir, join(layout.trees, id));
    await rm(join(layout.trees, `${fromId}.json`), { force: true });
    await writeFile(
      join(layout.trees, `${id}.json`),
      JSON.stringify({ id, digest: tree.digest, entries: tree.entries }),
    );
    return join(layout.trees, id);
  } catch (error) {
    await removeTree(layout, fromId);
    await removeTree(layout, id);
    throw error;
  }
}

/** Makes the executable variant of a blob (a hard link cannot have its own mode). */
export async function ensureExecutableBlob(layout: WorkspaceLayout, sha256: string): Promise<void> {
  const plain = blobPath(layout, sha256, false);
  const exec = blobPath(layout, sha256, true);
  const tmp = `${exec}.tmp`;
  await copyFile(plain, tmp);
  await chmod(tmp, 0o555);
  await rename(tmp, exec);
}

/** Points `current` at a tree atomically: a new symlink renamed over the old one. */
export async function switchCurrent(layout: WorkspaceLayout, id: string): Promise<void> {
  const tmp = `${layout.current}.${id}`;
  await rm(tmp, { force: true });
  await symlink(join('trees', id), tmp);
  await rename(tmp, layout.current);
}

export async function removeTree(layout: WorkspaceLayout, id: string): Promise<void> {
  await rm(join(layout.trees, id), { recursive: true, force: true });
  await rm(join(layout.trees, `${id}.json`), { force: true });
}
