import { AppError } from '../errors.js';
import { sameEntry, treeDigest, type Tree, type TreeEntry, type TreeLimits } from './manifest.js';
import { parentDirs, parseRelativePath, resolveSymlinkTarget } from './paths.js';

/** A change to a tree: entries added or replaced, and paths removed. */
export interface TreeDelta {
  changes: readonly TreeEntry[];
  removed: readonly string[];
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Index of the first entry whose path is >= `path` (entries are sorted by path). */
function lowerBound(entries: readonly TreeEntry[], path: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid] as TreeEntry).path < path) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The entry of `path` in sorted entries, by binary search (no index to build for a few lookups). */
export function findEntry(entries: readonly TreeEntry[], path: string): TreeEntry | undefined {
  const entry = entries[lowerBound(entries, path)];
  return entry?.path === path ? entry : undefined;
}

/**
 * Entries sorted by path, read by index: what `compareEntries` merges with an old list. It asks for
 * an entry object only where one differs, so a source that is not an array of entries (the sync
 * client's walk and hashes) allocates nothing for the entries that did not change.
 */
export interface EntrySource {
  readonly length: number;
  path(index: number): string;
  /** Whether entry `index` has the content of `old` (same path). */
  same(index: number, old: TreeEntry): boolean;
  entry(index: number): TreeEntry;
}

function arraySource(entries: readonly TreeEntry[]): EntrySource {
  return {
    length: entries.length,
    path: (i) => (entries[i] as TreeEntry).path,
    same: (i, old) => sameEntry(old, entries[i] as TreeEntry),
    entry: (i) => entries[i] as TreeEntry,
  };
}

/** What `compareEntries` reports, in path order. */
export interface Differences {
  /** An entry the old list lacks (`replaces` false) or holds with other content (true). */
  changed(entry: TreeEntry, replaces: boolean): void;
  /** A path of the old list that the new one lacks. */
  removed(path: string): void;
}

/**
 * Compares two entry lists, both sorted by path, in one merge without an index of either: what
 * a delta carries, what a tree patch unlinks and links, what a commit counts as changed.
 */
export function compareEntries(
  old: readonly TreeEntry[],
  next: readonly TreeEntry[] | EntrySource,
  report: Differences,
): void {
  const source = Array.isArray(next) ? arraySource(next) : (next as EntrySource);
  let j = 0;
  for (let i = 0; i < source.length; i++) {
    const path = source.path(i);
    while (j < old.length && (old[j] as TreeEntry).path < path) report.removed((old[j++] as TreeEntry).path);
    const same = j < old.length ? (old[j] as TreeEntry) : undefined;
    const replaces = same?.path === path;
    if (replaces) {
      j += 1;
      if (source.same(i, same)) continue;
    }
    report.changed(source.entry(i), replaces);
  }
  while (j < old.length) report.removed((old[j++] as TreeEntry).path);
}

/** The delta that turns `base` into the tree of exactly `entries` (sorted by path). */
export function deltaBetween(base: Tree, entries: readonly TreeEntry[] | EntrySource): TreeDelta {
  const changes: TreeEntry[] = [];
  const removed: string[] = [];
  compareEntries(base.entries, entries, {
    changed: (entry) => changes.push(entry),
    removed: (path) => removed.push(path),
  });
  return { changes, removed };
}

/**
 * Applies a delta to a valid tree and returns the new tree, validating only what the delta
 * touches: the changed and removed paths, the symlink targets, and the conflicts a changed path
 * can create (a parent that is a file or symlink; entries below a path that became a file or
 * symlink). Everything else was validated when `base` was built. Costs O(k log n) checks plus
 * one pass to merge and digest, instead of validating (or indexing) all n paths again.
 */
export function applyDelta(base: Tree, delta: TreeDelta, limits: TreeLimits): Tree {
  // A few binary searches per changed path: cheaper than indexing every path of the base.
  const before = (path: string): TreeEntry | undefined => findEntry(base.entries, path);
  const removed = new Set<string>();
  let bytes = base.bytes;
  for (const path of delta.removed) {
    parseRelativePath(path);
    const old = before(path);
    if (!old)
      throw new AppError(
        'INVALID_MANIFEST',
        `removes ${JSON.stringify(path)}, which the base tree does not hold`,
      );
    if (removed.has(path)) throw new AppError('PATH_CONFLICT', `${JSON.stringify(path)} is removed twice`);
    removed.add(path);
    if (old.type === 'file') bytes -= old.size;
  }
  const changed = new Map<string, TreeEntry>();
  for (const entry of delta.changes) {
    parseRelativePath(entry.path);
    if (changed.has(entry.path) || removed.has(entry.path))
      throw new AppError('PATH_CONFLICT', `${JSON.stringify(entry.path)} appears twice`);
    if (entry.type === 'symlink') resolveSymlinkTarget(entry.path, entry.target);
    const old = before(entry.path);
    if (old?.type === 'file') bytes -= old.size;
    if (entry.type === 'file') bytes += entry.size;
    changed.set(entry.path, entry);
  }
  const files = base.files - removed.size + [...changed.keys()].filter((p) => !before(p)).length;
  if (files > limits.maxFiles) {
    throw new AppError(
      'TOO_MANY_FILES',
      `the tree has ${files} entries; this server allows ${limits.maxFiles} per workspace`,
    );
  }
  if (bytes > limits.maxBytes) {
    throw new AppError(
      'WORKSPACE_TOO_LARGE',
      `the tree holds ${bytes} bytes; this server allows ${limits.maxBytes} per workspace`,
    );
  }
  const added = [...changed.values()].sort((a, b) => compare(a.path, b.path));
  const inNewTree = (path: string): TreeEntry | undefined =>
    changed.get(path) ?? (removed.has(path) ? undefined : before(path));
  for (const entry of added) {
    // Its parents must be directories in the new tree...
    for (const dir of parentDirs(entry.path)) {
      const clash = inNewTree(dir);
      if (clash) {
        throw new AppError(
          'PATH_CONFLICT',
          `${JSON.stringify(entry.path)} lies below ${JSON.stringify(dir)}, which is a ${clash.type}`,
        );
      }
    }
    // ...and nothing may lie below it (a base entry that stays, or another change).
    const below = `${entry.path}/`;
    for (let i = lowerBound(base.entries, below); i < base.entries.length; i++) {
      const other = base.entries[i] as TreeEntry;
      if (!other.path.startsWith(below)) break;
      if (removed.has(other.path) || changed.has(other.path)) continue;
      throw new AppError(
        'PATH_CONFLICT',
        `${JSON.stringify(other.path)} lies below ${JSON.stringify(entry.path)}, which is a ${entry.type}`,
      );
    }
    const next = added[lowerBound(added, below)];
    if (next?.path.startsWith(below)) {
      throw new AppError(
        'PATH_CONFLICT',
        `${JSON.stringify(next.path)} lies below ${JSON.stringify(entry.path)}, which is a ${entry.type}`,
      );
    }
  }
  // Merge the sorted base with the sorted changes and removals, by comparison only (no lookup
  // per base entry): a removed path is dropped, a changed one replaced, a new one inserted.
  const gone = [...removed].sort(compare);
  const entries: TreeEntry[] = [];
  let r = 0;
  let j = 0;
  for (const old of base.entries) {
    while (r < gone.length && (gone[r] as string) < old.path) r += 1;
    if (gone[r] === old.path) {
      r += 1;
      continue;
    }
    while (j < added.length && (added[j] as TreeEntry).path < old.path) entries.push(added[j++] as TreeEntry);
    const replacement = added[j];
    if (replacement?.path === old.path) {
      entries.push(replacement);
      j += 1;
      continue;
    }
    entries.push(old);
  }
  while (j < added.length) entries.push(added[j++] as TreeEntry);
  const tree: Tree = { entries, files: entries.length, bytes, digest: treeDigest(entries) };
  return tree;
}
