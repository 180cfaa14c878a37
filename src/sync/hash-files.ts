import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HashCache } from './hash-cache.js';
import type { LocalEntry } from './walk.js';

const smallFile = 1024 * 1024;

/** sha256 of one file: small files in one read, large ones streamed. */
export async function hashFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  // Small files synchronously: one read each, without the libuv pool's round trips.
  if (size <= smallFile) return hash.update(readFileSync(path)).digest('hex');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Hashes the files the cache cannot vouch for. Returns each entry's sha256 at its index
 * (undefined for symlinks), how many files were hashed and their bytes.
 */
export async function hashEntries(
  root: string,
  entries: readonly LocalEntry[],
  cache: HashCache,
  parallelism = 8,
): Promise<{ hashes: (string | undefined)[]; hashed: number; hashedBytes: number }> {
  const hashes = new Array<string | undefined>(entries.length);
  const todo: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as LocalEntry;
    if (entry.type !== 'file') continue;
    const cached = cache.get(entry);
    if (cached) hashes[i] = cached;
    else todo.push(i);
  }
  let next = 0;
  let hashedBytes = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const index = todo[next++] as number;
      const entry = entries[index] as LocalEntry;
      const sha256 = await hashFile(join(root, entry.path), entry.size);
      hashes[index] = sha256;
      hashedBytes += entry.size;
      cache.set(entry, sha256);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallelism, todo.length) }, worker));
  return { hashes, hashed: todo.length, hashedBytes };
}
