import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
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
  let hashedBytes = 0;
  for (const index of todo) hashedBytes += (entries[index] as LocalEntry).size;
  const record = (index: number, sha256: string): void => {
    hashes[index] = sha256;
    cache.set(entries[index] as LocalEntry, sha256);
  };
  // A big job (a first sync) is shared with a worker thread, which takes the later files up to
  // about half the bytes: hashing is the client's main cost before anything is sent, and the
  // worker's start-up (~40 ms here) pays off only past a few thousand files or tens of MiB.
  let helper: Promise<void> | undefined;
  let stopHelper = (): void => undefined;
  let mine = todo;
  if (todo.length >= parallelHashFiles || hashedBytes >= parallelHashBytes) {
    let half = 0;
    let split = todo.length;
    while (split > 0 && half < hashedBytes / 2) half += (entries[todo[--split] as number] as LocalEntry).size;
    const theirs = todo.slice(split);
    mine = todo.slice(0, split);
    const job = hashInWorker(theirs.map((index) => join(root, (entries[index] as LocalEntry).path)));
    stopHelper = job.stop;
    helper = job.done.then((results) => {
      theirs.forEach((index, i) => {
        record(index, results[i] as string);
      });
    });
    // Awaited below; this only keeps an early failure from counting as unhandled meanwhile.
    helper.catch(() => undefined);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < mine.length) {
      const index = mine[next++] as number;
      const entry = entries[index] as LocalEntry;
      record(index, await hashFile(join(root, entry.path), entry.size));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallelism, mine.length) }, worker));
  } catch (error) {
    stopHelper();
    throw error;
  }
  await helper;
  return { hashes, hashed: todo.length, hashedBytes };
}

const parallelHashFiles = 2000;
const parallelHashBytes = 64 * 1024 * 1024;

// The worker's code, as a string: one module for the bundle and for the sources alike.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { closeSync, openSync, readSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buffer = Buffer.allocUnsafe(1024 * 1024);
try {
  const out = workerData.map((path) => {
    const hash = createHash('sha256');
    const fd = openSync(path, 'r');
    try {
      for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    return hash.digest('hex');
  });
  parentPort.postMessage({ out });
} catch (error) {
  parentPort.postMessage({ error: { message: error.message, code: error.code } });
}
`;

/** sha256 of each file, in a worker thread; fails with the first file error (a file gone since the walk). */
function hashInWorker(paths: readonly string[]): { done: Promise<string[]>; stop: () => void } {
  const worker = new Worker(workerSource, { eval: true, workerData: paths });
  const done = new Promise<string[]>((resolve, reject) => {
    worker.once('message', (message: { out?: string[]; error?: { message: string; code?: string } }) => {
      if (message.out) resolve(message.out);
      else
        reject(
          Object.assign(new Error(message.error?.message ?? 'hashing failed'), { code: message.error?.code }),
        );
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      reject(new Error(`the hashing worker stopped (exit code ${code})`));
    });
  });
  return {
    done,
    stop: () => {
      void worker.terminate();
    },
  };
}
