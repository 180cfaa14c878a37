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

/** Hashes the files the cache cannot vouch for; returns path -> sha256 and how many were hashed. */
export async function hashEntries(
  root: string,
  entries: readonly LocalEntry[],
  cache: HashCache,
  parallelism = 8,
): Promise<{ hashes: Map<string, string>; hashed: number; hashedBytes: number }> {
  const hashes = new Map<string, string>();
  const todo: LocalEntry[] = [];
  for (const entry of entries) {
    if (entry.type !== 'file') continue;
    const cached = cache.get(entry);
    if (cached) hashes.set(entry.path, cached);
    else todo.push(entry);
  }
  let next = 0;
  let hashedBytes = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const entry = todo[next++] as LocalEntry;
      const sha256 = await hashFile(join(root, entry.path), entry.size);
      hashes.set(entry.path, sha256);
      hashedBytes += entry.size;
      cache.set(entry, sha256);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallelism, todo.length) }, worker));
  return { hashes, hashed: todo.length, hashedBytes };
}
