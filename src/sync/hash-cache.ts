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
   * the file (atomically) when anything changed.
   */
  save(keep: readonly LocalEntry[], digest?: string): Promise<void>;
}

/**
 * On disk (version 2), column by column, which parses several times faster than an object per
 * path: `paths`; `numbers`, five per entry (size, mode, mtimeMs, ctimeMs, ino); `hashes`, 64 hex
 * digits per entry (dashes for symlinks) in one string; `links`, [index, target] per symlink.
 */
interface SavedCache {
  version: 2;
  root: string;
  digest: string | null;
  paths: string[];
  numbers: number[];
  hashes: string;
  links: [number, string][];
}

const fields = 5;
const noHash = '-'.repeat(64);

/** Where the cache of a project directory lives: the user's cache directory, not the project. */
export function hashCachePath(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), '.cache');
  const key = createHash('sha256').update(root).digest('hex').slice(0, 32);
  return join(base, 'mirrord-mcp-server', 'sync', `${key}.json`);
}

function parseSaved(text: string, root: string): SavedCache | undefined {
  const saved = JSON.parse(text) as Partial<SavedCache>;
  if (saved.version !== 2 || saved.root !== root) return undefined;
  const { paths, numbers, hashes, links } = saved;
  if (!Array.isArray(paths) || !Array.isArray(numbers) || typeof hashes !== 'string' || !Array.isArray(links))
    return undefined;
  if (numbers.length !== paths.length * fields || hashes.length !== paths.length * 64) return undefined;
  return saved as SavedCache;
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

export async function loadHashCache(file: string, root: string): Promise<HashCache> {
  let saved: SavedCache | undefined;
  try {
    saved = parseSaved(await readFile(file, 'utf8'), root);
  } catch {
    // no cache yet, or an unreadable one: start afresh
  }
  // Built on first use: an unchanged tree is settled by `digestOf` alone, without them.
  let savedIndex: Map<string, number> | undefined;
  let savedLinks: Map<number, string> | undefined;
  const links = (): Map<number, string> => (savedLinks ??= new Map(saved?.links ?? []));
  // Hashes learned in this run, by path, with the stat they were computed for.
  const fresh = new Map<string, { entry: LocalEntry; sha256: string }>();

  const savedHash = (entry: LocalEntry): string | undefined => {
    if (!saved) return undefined;
    savedIndex ??= new Map(saved.paths.map((path, i) => [path, i]));
    const index = savedIndex.get(entry.path);
    if (index === undefined || links().has(index) || !sameStat(saved, index, entry)) return undefined;
    return saved.hashes.slice(index * 64, index * 64 + 64);
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
    const saidLinks = saved.links.length === 0 ? undefined : links();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as LocalEntry;
      if (saved.paths[i] !== entry.path || !sameStat(saved, i, entry)) return false;
      if (saidLinks?.get(i) !== (entry.type === 'symlink' ? entry.target : undefined)) return false;
    }
    return true;
  };

  return {
    get,
    set(entry, sha256) {
      fresh.set(entry.path, { entry, sha256 });
    },
    digestOf(entries) {
      return saved?.digest && unchanged(entries) ? saved.digest : undefined;
    },
    savedTree() {
      if (!saved?.digest) return undefined;
      const entries: TreeEntry[] = [];
      const { paths, numbers, hashes } = saved;
      const targets = links();
      let bytes = 0;
      for (let i = 0; i < paths.length; i++) {
        const path = paths[i] as string;
        const target = targets.get(i);
        if (target !== undefined) {
          entries.push({ type: 'symlink', path, target });
          continue;
        }
        const size = numbers[i * fields] as number;
        bytes += size;
        entries.push({
          type: 'file',
          path,
          size,
          executable: ((numbers[i * fields + 1] as number) & 0o100) !== 0,
          sha256: hashes.slice(i * 64, i * 64 + 64),
        });
      }
      return { entries, files: entries.length, bytes, digest: saved.digest };
    },
    async save(keep, digest) {
      if (unchanged(keep) && (digest === undefined || digest === saved?.digest)) return;
      const next: SavedCache = {
        version: 2,
        root,
        digest: digest ?? null,
        paths: [],
        numbers: [],
        hashes: '',
        links: [],
      };
      const hashes: string[] = [];
      for (const entry of keep) {
        const sha256 = entry.type === 'symlink' ? noHash : get(entry);
        // A file hashed neither now nor before is left out (and `digest` would not describe the rest).
        if (sha256 === undefined) {
          next.digest = null;
          continue;
        }
        if (entry.type === 'symlink') next.links.push([next.paths.length, entry.target ?? '']);
        next.paths.push(entry.path);
        next.numbers.push(entry.size, entry.mode, entry.mtimeMs, entry.ctimeMs, entry.ino);
        hashes.push(sha256);
      }
      next.hashes = hashes.join('');
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(next));
      await rename(tmp, file);
      saved = next;
      savedIndex = undefined;
      savedLinks = undefined;
      fresh.clear();
    },
  };
}
