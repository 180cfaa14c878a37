import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { LocalEntry } from './walk.js';

type Cached = [size: number, mtimeMs: number, ctimeMs: number, ino: number, sha256: string];

/**
 * sha256 of files by path, trusted while size, mtime, ctime and inode are unchanged (git's index
 * does the same), so an unchanged tree is re-checked with stat calls only.
 */
export interface HashCache {
  get(entry: LocalEntry): string | undefined;
  set(entry: LocalEntry, sha256: string): void;
  /** Keeps only these paths and writes the file (atomically) when anything changed. */
  save(keep: readonly LocalEntry[]): Promise<void>;
}

/** Where the cache of a project directory lives: the user's cache directory, not the project. */
export function hashCachePath(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), '.cache');
  const key = createHash('sha256').update(root).digest('hex').slice(0, 32);
  return join(base, 'mirrord-mcp-server', 'sync', `${key}.json`);
}

export async function loadHashCache(file: string, root: string): Promise<HashCache> {
  let entries: Record<string, Cached> = {};
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as {
      version?: number;
      root?: string;
      entries?: unknown;
    };
    if (saved.version === 1 && saved.root === root && typeof saved.entries === 'object' && saved.entries) {
      entries = saved.entries as Record<string, Cached>;
    }
  } catch {
    // no cache yet, or an unreadable one: start afresh
  }
  let dirty = false;
  return {
    get(entry) {
      const hit = entries[entry.path];
      if (!hit) return undefined;
      const [size, mtimeMs, ctimeMs, ino, sha256] = hit;
      return size === entry.size &&
        mtimeMs === entry.mtimeMs &&
        ctimeMs === entry.ctimeMs &&
        ino === entry.ino
        ? sha256
        : undefined;
    },
    set(entry, sha256) {
      entries[entry.path] = [entry.size, entry.mtimeMs, entry.ctimeMs, entry.ino, sha256];
      dirty = true;
    },
    async save(keep) {
      const kept: Record<string, Cached> = {};
      for (const entry of keep) {
        const hit = entries[entry.path];
        if (hit) kept[entry.path] = hit;
      }
      if (!dirty && Object.keys(kept).length === Object.keys(entries).length) return;
      entries = kept;
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ version: 1, root, entries }));
      await rename(tmp, file);
      dirty = false;
    },
  };
}
