import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import { parentDirs, parseRelativePath, resolveSymlinkTarget } from './paths.js';

// No zod here: the sync client imports this module, and zod alone costs it 60-100 ms of start-up.
// The wire schema lives in wire-manifest.ts, on the server's side.

export interface FileEntry {
  type: 'file';
  path: string;
  size: number;
  executable: boolean;
  sha256: string;
}

export interface SymlinkEntry {
  type: 'symlink';
  path: string;
  target: string;
}

export type TreeEntry = FileEntry | SymlinkEntry;

/** A validated tree: entries sorted by path, with totals and a digest that names its content. */
export interface Tree {
  readonly entries: readonly TreeEntry[];
  readonly files: number;
  readonly bytes: number;
  readonly digest: string;
}

export interface TreeLimits {
  maxFiles: number;
  maxBytes: number;
}

/** One manifest line as sent on the wire (the sync protocol's shape; checked by `wire-manifest.ts`). */
export type WireEntry =
  | { path: string; type?: 'file' | undefined; size: number; mode: number; sha256: string }
  | { path: string; type: 'symlink'; target: string };

export interface WireManifest {
  entries: WireEntry[];
}

/** A sync request against the tree the server holds when its digest is `base`. */
export interface WireDelta {
  base: string;
  /** The digest of the tree after the delta, as the client computed it. */
  digest: string;
  changes: WireEntry[];
  removed: string[];
  /**
   * The contents of small changed files, base64, so that a small change goes in one request: the
   * server stores those it lacks as an upload would (same checks), ignores the others, and with
   * `commit` switches to the new tree at once when nothing is missing.
   */
  blobs?: WireBlob[] | undefined;
  commit?: boolean | undefined;
}

export interface WireBlob {
  sha256: string;
  data: string;
}

/** At most this many blobs, each at most `inlineBlobBytes`, travel inside a delta. */
export const inlineBlobs = 64;
export const inlineBlobBytes = 64 * 1024;

/** Validates entries (paths, symlinks, conflicts, limits) and returns them as a Tree. */
export function buildTree(input: readonly TreeEntry[], limits: TreeLimits): Tree {
  if (input.length > limits.maxFiles) {
    throw new AppError(
      'TOO_MANY_FILES',
      `the tree has ${input.length} entries; this server allows ${limits.maxFiles} per workspace`,
    );
  }
  const byPath = new Map<string, TreeEntry>();
  let bytes = 0;
  for (const entry of input) {
    parseRelativePath(entry.path);
    if (byPath.has(entry.path))
      throw new AppError('PATH_CONFLICT', `${JSON.stringify(entry.path)} appears twice`);
    if (entry.type === 'symlink') resolveSymlinkTarget(entry.path, entry.target);
    else bytes += entry.size;
    byPath.set(entry.path, entry);
  }
  if (bytes > limits.maxBytes) {
    throw new AppError(
      'WORKSPACE_TOO_LARGE',
      `the tree holds ${bytes} bytes; this server allows ${limits.maxBytes} per workspace`,
    );
  }
  // A file's parents must be directories: neither files nor symlinks (a path below a symlink
  // would be written through it, possibly outside the workspace).
  const checked = new Set<string>();
  for (const entry of byPath.values()) {
    for (const dir of parentDirs(entry.path)) {
      // Directories repeat across entries: each is checked once.
      if (checked.has(dir)) continue;
      checked.add(dir);
      const clash = byPath.get(dir);
      if (clash) {
        throw new AppError(
          'PATH_CONFLICT',
          `${JSON.stringify(entry.path)} lies below ${JSON.stringify(dir)}, which is a ${clash.type}`,
        );
      }
    }
  }
  const entries = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, files: entries.length, bytes, digest: treeDigest(entries) };
}

/** Whether two entries of the same path have the same content (what the tree digest covers). */
export function sameEntry(a: TreeEntry, b: TreeEntry): boolean {
  if (a.type === 'symlink') return b.type === 'symlink' && a.target === b.target;
  return b.type === 'file' && a.size === b.size && a.sha256 === b.sha256 && a.executable === b.executable;
}

/**
 * The sha256 of a canonical rendering of the entries: equal trees have equal digests. Per entry,
 * `f\0<path>\0<size>\0<x|->\0<sha256>\n` or `l\0<path>\0<target>\n`, in UTF-8. Rendered into one
 * reused buffer rather than a string per entry: for 10,000 entries those strings were most of
 * the collector's work in a one-file re-sync.
 */
export function treeDigest(entries: readonly TreeEntry[]): string {
  const hash = createHash('sha256');
  let buffer = Buffer.allocUnsafe(64 * 1024);
  let at = 0;
  for (const entry of entries) {
    const symlink = entry.type === 'symlink';
    // A UTF-16 unit is at most 3 bytes of UTF-8; 100 covers the rest of the line.
    const need = 3 * (entry.path.length + (symlink ? entry.target.length : 0)) + 100;
    if (at + need > buffer.length) {
      hash.update(buffer.subarray(0, at));
      at = 0;
      if (need > buffer.length) buffer = Buffer.allocUnsafe(need);
    }
    buffer[at++] = symlink ? 0x6c : 0x66; // l, f
    buffer[at++] = 0;
    at += buffer.write(entry.path, at, 'utf8');
    buffer[at++] = 0;
    if (symlink) {
      at += buffer.write(entry.target, at, 'utf8');
    } else {
      at += buffer.write(String(entry.size), at, 'latin1');
      buffer[at++] = 0;
      buffer[at++] = entry.executable ? 0x78 : 0x2d; // x, -
      buffer[at++] = 0;
      at += buffer.write(entry.sha256, at, 'latin1');
    }
    buffer[at++] = 0x0a;
  }
  hash.update(buffer.subarray(0, at));
  return hash.digest('hex');
}

/** The manifest on the wire for a list of entries (what the client sends). */
export function toWireManifest(entries: readonly TreeEntry[]): WireManifest {
  return { entries: entries.map(toWireEntry) };
}

/** One entry as the wire carries it. */
export function toWireEntry(entry: TreeEntry): WireEntry {
  return entry.type === 'symlink'
    ? { path: entry.path, type: 'symlink' as const, target: entry.target }
    : {
        path: entry.path,
        size: entry.size,
        mode: entry.executable ? 0o755 : 0o644,
        sha256: entry.sha256,
      };
}
