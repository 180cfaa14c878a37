import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Tree, TreeEntry } from '../workspace/manifest.js';
import type { LocalEntry } from './walk.js';

/**
 * sha256 of files by path, trusted while size, mtime, ctime and inode are unchanged (git's index
 * does the same), so an unchanged tree is re-checked with stat calls only. It also remembers the
 * tree digest of the entries it last saved: when a walk finds exactly those entries again, the
 * digest is known without hashing or validating anything.
 */
export interface HashCache {
  /** The project directory it describes. */
  readonly root: string;
  get(entry: LocalEntry): string | undefined;
  set(entry: LocalEntry, sha256: string): void;
  /**
   * The tree digest saved with `save(entries, digest)` when `entries` are exactly the saved ones
   * (same paths, types, sizes, modes, times, inodes and symlink targets, in the same order).
   */
  digestOf(entries: readonly LocalEntry[]): string | undefined;
  /**
   * The tree last saved with a digest (what a delta is made against; it was validated before it
   * was saved), or undefined when there is none. Read it before `save`, which replaces it.
   */
  savedTree(): Tree | undefined;
  /**
   * Keeps only these entries (their hashes, and `digest` as the digest of exactly them) and writes
   * the file (atomically) when anything changed. `entries`, the tree entries of `keep` in the same
   * order, become what `savedTree` answers next (instead of being made again from the file's data).
   */
  save(keep: readonly LocalEntry[], digest?: string, entries?: readonly TreeEntry[]): Promise<void>;
}

/**
 * On disk (version 3), binary, so that loading it costs a read and a split rather than a JSON parse
 * of a megabyte or two: the magic line, a little-endian u32 length and a JSON header (root, digest,
 * count, symlink targets by index, size of the paths), padding to 8 bytes, then five float64 per
 * entry (size, mode, mtimeMs, ctimeMs, ino), 32 bytes of sha256 per entry (zeros for symlinks),
 * and the paths in UTF-8, separated by NUL (which no path holds).
 */
interface SavedCache {
  root: string;
  digest: string | null;
  paths: string[];
  numbers: Float64Array;
  hashes: Buffer;
  links: Map<number, string>;
}

interface Header {
  root: string;
  digest: string | null;
  count: number;
  links: [number, string][];
  pathBytes: number;
}

const magic = Buffer.from('MMSYNC3\n', 'latin1');
const fields = 5;

/** Where the cache of a project directory lives: the user's cache directory, not the project. */
export function hashCachePath(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), '.cache');
  const key = createHash('sha256').update(root).digest('hex').slice(0, 32);
  return join(base, 'mirrord-mcp-server', 'sync', `${key}.cache`);
}

const align8 = (n: number): number => (n + 7) & ~7;

function encode(saved: SavedCache): Buffer {
  const paths = Buffer.from(saved.paths.join('\0'), 'utf8');
  const header: Header = {
    root: saved.root,
    digest: saved.digest,
    count: saved.paths.length,
    links: [...saved.links],
    pathBytes: paths.length,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const numbersAt = align8(magic.length + 4 + json.length);
  const hashesAt = numbersAt + saved.numbers.byteLength;
  const out = Buffer.alloc(hashesAt + saved.hashes.length + paths.length);
  magic.copy(out, 0);
  out.writeUInt32LE(json.length, magic.length);
  json.copy(out, magic.length + 4);
  Buffer.from(saved.numbers.buffer, saved.numbers.byteOffset, saved.numbers.byteLength).copy(out, numbersAt);
  saved.hashes.copy(out, hashesAt);
  paths.copy(out, hashesAt + saved.hashes.length);
  return out;
}

/** The saved cache, or undefined when the file is another version, another root's, or damaged. */
function decode(data: Buffer, root: string): SavedCache | undefined {
  if (data.length < magic.length + 4 || !data.subarray(0, magic.length).equals(magic)) return undefined;
  const jsonLength = data.readUInt32LE(magic.length);
  if (magic.length + 4 + jsonLength > data.length) return undefined;
  const header = JSON.parse(data.toString('utf8', magic.length + 4, magic.length + 4 + jsonLength)) as Header;
  if (header.root !== root || !Number.isSafeInteger(header.count) || !Array.isArray(header.links))
    return undefined;
  const numbersAt = align8(magic.length + 4 + jsonLength);
  const hashesAt = numbersAt + header.count * fields * 8;
  const pathsAt = hashesAt + header.count * 32;
  if (pathsAt + header.pathBytes !== data.length) return undefined;
  const paths = header.count === 0 ? [] : data.toString('utf8', pathsAt).split('\0');
  if (paths.length !== header.count) return undefined;
  // A copy: the file's buffer need not be aligned for a Float64Array view.
  const numbers = new Float64Array(header.count * fields);
  Buffer.from(numbers.buffer).set(data.subarray(numbersAt, hashesAt));
  return {
    root,
    digest: header.digest,
    paths,
    numbers,
    hashes: data.subarray(hashesAt, pathsAt),
    links: new Map(header.links),
  };
}

function sameStat(saved: SavedCache, index: number, entry: LocalEntry): boolean {
  const n = saved.numbers;
  const at = index * fields;
  return (
    n[at] === entry.size &&
    n[at + 1] === entry.mode &&
    n[at + 2] === entry.mtimeMs &&
    n[at + 3] === entry.ctimeMs &&
    n[at + 4] === entry.ino
  );
}

const hashAt = (saved: SavedCache, index: number): string =>
  saved.hashes.toString('hex', index * 32, index * 32 + 32);

export async function loadHashCache(file: string, root: string): Promise<HashCache> {
  let saved: SavedCache | undefined;
  try {
    saved = decode(await readFile(file), root);
  } catch {
    // no cache yet, or an unreadable one: start afresh
  }
  // Lookups come in path order (the walk's), so a cursor finds most saved entries at once; a
  // binary search (the same order) finds the rest. No index of all paths is built.
  let cursor = 0;
  const indexOf = (path: string): number => {
    if (!saved) return -1;
    const { paths } = saved;
    if (paths[cursor] === path) return cursor++;
    let lo = 0;
    let hi = paths.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((paths[mid] as string) < path) lo = mid + 1;
      else hi = mid;
    }
    if (paths[lo] !== path) return -1;
    cursor = lo + 1;
    return lo;
  };
  // The saved tree, built once (hashes as hex strings, which `get` then shares).
  let tree: TreeEntry[] | undefined;
  const buildEntries = (from: SavedCache): TreeEntry[] => {
    const entries: TreeEntry[] = [];
    const { paths, numbers, links } = from;
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i] as string;
      const target = links.get(i);
      entries.push(
        target !== undefined
          ? { type: 'symlink', path, target }
          : {
              type: 'file',
              path,
              size: numbers[i * fields] as number,
              executable: ((numbers[i * fields + 1] as number) & 0o100) !== 0,
              sha256: hashAt(from, i),
            },
      );
    }
    return entries;
  };
  // Hashes learned in this run, by path, with the stat they were computed for.
  const fresh = new Map<string, { entry: LocalEntry; sha256: string }>();

  /** The saved index whose hash is still `entry`'s (same path, same stat), or -1. */
  const trusted = (entry: LocalEntry): number => {
    if (!saved) return -1;
    const index = indexOf(entry.path);
    if (index === -1 || saved.links.has(index) || !sameStat(saved, index, entry)) return -1;
    return index;
  };

  const savedHash = (entry: LocalEntry): string | undefined => {
    const index = trusted(entry);
    if (!saved || index === -1) return undefined;
    const known = tree?.[index];
    return known?.type === 'file' ? known.sha256 : hashAt(saved, index);
  };

  const get = (entry: LocalEntry): string | undefined => {
    const hit = fresh.get(entry.path);
    if (!hit) return savedHash(entry);
    const e = hit.entry;
    const same =
      e.size === entry.size &&
      e.mtimeMs === entry.mtimeMs &&
      e.ctimeMs === entry.ctimeMs &&
      e.ino === entry.ino;
    return same ? hit.sha256 : undefined;
  };

  /** Whether `entries` are exactly what was saved, and nothing was hashed since. */
  const unchanged = (entries: readonly LocalEntry[]): boolean => {
    if (!saved || fresh.size > 0 || entries.length !== saved.paths.length) return false;
    const { links } = saved;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as LocalEntry;
      if (saved.paths[i] !== entry.path || !sameStat(saved, i, entry)) return false;
      if (links.size > 0 && links.get(i) !== (entry.type === 'symlink' ? entry.target : undefined))
        return false;
    }
    return true;
  };

  return {
    root,
    get,
    set(entry, sha256) {
      fresh.set(entry.path, { entry, sha256 });
    },
    digestOf(entries) {
      return saved?.digest && unchanged(entries) ? saved.digest : undefined;
    },
    savedTree() {
      if (!saved?.digest) return undefined;
      tree ??= buildEntries(saved);
      let bytes = 0;
      for (const entry of tree) if (entry.type === 'file') bytes += entry.size;
      return { entries: tree, files: tree.length, bytes, digest: saved.digest };
    },
    async save(keep, digest, entries) {
      if (unchanged(keep) && (digest === undefined || digest === saved?.digest)) return;
      const paths: string[] = [];
      const numbers = new Float64Array(keep.length * fields);
      const hashes = Buffer.alloc(keep.length * 32);
      const links = new Map<number, string>();
      let complete = true;
      for (const entry of keep) {
        const index = paths.length;
        if (entry.type === 'symlink') {
          links.set(index, entry.target ?? '');
        } else {
          // A hash learned now is written out; one still trusted is copied as bytes.
          const learned = fresh.get(entry.path);
          const from = learned ? -1 : trusted(entry);
          if (learned && get(entry) !== undefined) hashes.write(learned.sha256, index * 32, 32, 'hex');
          else if (from !== -1 && saved) saved.hashes.copy(hashes, index * 32, from * 32, from * 32 + 32);
          else {
            // A file hashed neither now nor before is left out (and `digest` would not describe the rest).
            complete = false;
            continue;
          }
        }
        paths.push(entry.path);
        const at = index * fields;
        numbers[at] = entry.size;
        numbers[at + 1] = entry.mode;
        numbers[at + 2] = entry.mtimeMs;
        numbers[at + 3] = entry.ctimeMs;
        numbers[at + 4] = entry.ino;
      }
      const next: SavedCache = {
        root,
        digest: complete ? (digest ?? null) : null,
        paths,
        numbers: numbers.subarray(0, paths.length * fields),
        hashes: hashes.subarray(0, paths.length * 32),
        links,
      };
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, encode(next));
      await rename(tmp, file);
      saved = next;
      cursor = 0;
      tree =
        next.digest !== null &&
        entries?.length === paths.length &&
        entries.every((e, i) => e.path === paths[i])
          ? (entries as TreeEntry[])
          : undefined;
      fresh.clear();
    },
  };
}
