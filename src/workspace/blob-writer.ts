import { createHash, randomBytes } from 'node:crypto';
import { close, open as openCallback, unlink, write } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';

/**
 * Writes one streamed (large) blob: bytes go to a temp file while they are hashed; only when size
 * and sha256 match what was declared is the file made read-only and renamed into the blob
 * directory, so such a blob in the store is always whole and correct. Small blobs are checked in
 * memory first and written in place (`storeSmallBlob`).
 */
export interface BlobWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Verifies and publishes the blob; throws HASH_MISMATCH or UPLOAD_TOO_LARGE. */
  finish(): Promise<void>;
  /** Removes the temp file (idempotent). */
  discard(): Promise<void>;
}

/**
 * Names for upload temp files in `dir`. They need only be unique among this store's uploads (the
 * temp directory is emptied at start-up, and 'wx' refuses to reuse a name): a random prefix once,
 * then a counter. Six random bytes per blob were a tenth of the server's CPU during a first sync
 * of 10,000 files.
 */
export function createTmpNames(): (dir: string, sha256: string) => string {
  const prefix = randomBytes(6).toString('hex');
  let counter = 0;
  return (dir, sha256) => `${dir}/${sha256.slice(0, 16)}-${prefix}-${(counter++).toString(36)}`;
}

/** Blobs up to this size arrive whole and are written from memory (`storeSmallBlob`). */
export const smallBlobBytes = 256 * 1024;

export async function createBlobWriter(options: {
  /** Where the bytes go until they are verified (a fresh name, in the blob directory's file system). */
  tmpPath: string;
  destination: string;
  sha256: string;
  size: number;
}): Promise<BlobWriter> {
  const { tmpPath } = options;
  // Created read-only: the mode applies to later opens, our descriptor stays writable.
  const handle = await open(tmpPath, 'wx', 0o444);
  const hash = createHash('sha256');
  let written = 0;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    async write(chunk) {
      written += chunk.byteLength;
      if (written > options.size) {
        throw new AppError(
          'UPLOAD_TOO_LARGE',
          `blob ${options.sha256} sent more than its declared ${options.size} bytes`,
        );
      }
      hash.update(chunk);
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
        offset += bytesWritten;
      }
    },
    async finish() {
      await close();
      if (written !== options.size) {
        throw new AppError(
          'HASH_MISMATCH',
          `blob ${options.sha256} ended after ${written} of its declared ${options.size} bytes`,
        );
      }
      const actual = hash.digest('hex');
      if (actual !== options.sha256) {
        throw new AppError('HASH_MISMATCH', `blob declared as ${options.sha256} hashes to ${actual}`);
      }
      await rename(tmpPath, options.destination);
    },
    async discard() {
      await close().catch(() => undefined);
      await rm(tmpPath, { force: true });
    },
  };
}

/**
 * Creates `path` (O_EXCL, read-only) holding `data`, with callbacks chained in one promise: for
 * the many small blobs of a first sync, the promise API's file handles and per-call promises cost
 * more main-thread time than the writing itself. A file it created and could not fill is removed;
 * a name that exists is refused (EEXIST) and left alone.
 */
function createFileWith(path: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    openCallback(path, 'wx', 0o444, (openError, fd) => {
      if (openError) {
        reject(openError);
        return;
      }
      const fail = (error: Error): void => {
        unlink(path, () => {
          reject(error);
        });
      };
      const from = (offset: number): void => {
        if (offset >= data.length) {
          close(fd, (closeError) => {
            if (closeError) fail(closeError);
            else resolve();
          });
          return;
        }
        write(fd, data, offset, data.length - offset, null, (writeError, written) => {
          if (writeError)
            close(fd, () => {
              fail(writeError);
            });
          else from(offset + written);
        });
      };
      from(0);
    });
  });
}

/**
 * Writes `data` to a new read-only file `tmpPath` and renames it to `destination`; on failure the
 * temp file is removed.
 */
export async function publishFile(tmpPath: string, destination: string, data: Buffer): Promise<void> {
  await createFileWith(tmpPath, data);
  await rename(tmpPath, destination).catch(async (error: unknown) => {
    await rm(tmpPath, { force: true });
    throw error;
  });
}

/**
 * Writes a small blob, already verified in memory, directly under its final name: one file
 * created, one rename fewer than a temp file would take. The name is taken with
 * O_EXCL; if it exists (left by an interrupted upload), the blob is written aside and renamed over
 * it. Until the upload ends the file may be partial, which nothing sees: trees link blobs only
 * at commit, after every upload has finished, and a restart trusts only committed trees' blobs.
 */
export async function storeSmallBlob(tmpPath: string, destination: string, data: Buffer): Promise<void> {
  try {
    await createFileWith(destination, data);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await publishFile(tmpPath, destination, data);
  }
}

/** Stores an in-memory blob (the MCP write tool's files): hashed here, written aside, renamed in. */
export async function writeBlob(options: {
  tmpPath: (sha256: string) => string;
  destinationFor: (sha256: string) => string;
  content: Buffer;
}): Promise<string> {
  const sha256 = createHash('sha256').update(options.content).digest('hex');
  await publishFile(options.tmpPath(sha256), options.destinationFor(sha256), options.content);
  return sha256;
}

/**
 * Writes small blobs in place from a worker thread, many per message: during a first sync the
 * main thread then only parses and hashes, while the worker makes the system calls (three per
 * blob, without the libuv pool's round trip for each). One thread per process, started when an
 * upload first has many blobs to write and stopped after a few idle seconds; `unref`'d, so it never
 * keeps the process alive.
 */
export interface BlobWriterThread {
  /** Same contract as `storeSmallBlob`. */
  readonly write: (tmpPath: string, destination: string, data: Buffer) => Promise<void>;
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Item {
  destination: string;
  tmpPath: string;
  offset: number;
  length: number;
}

// The worker's code, as a string: one module whether the server runs from dist or from sources.
const threadSource = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
function writeAll(fd, bytes) {
  for (let at = 0; at < bytes.length; ) at += fs.writeSync(fd, bytes, at, bytes.length - at);
}
function writeNew(destination, tmpPath, bytes) {
  let path = destination;
  let fd;
  try {
    fd = fs.openSync(destination, 'wx', 0o444);
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    path = tmpPath;
    fd = fs.openSync(tmpPath, 'wx', 0o444);
  }
  try {
    writeAll(fd, bytes);
    const done = fd;
    fd = undefined;
    fs.closeSync(done);
    if (path === tmpPath) fs.renameSync(tmpPath, destination);
  } catch (error) {
    if (fd !== undefined) try { fs.closeSync(fd); } catch {}
    try { fs.unlinkSync(path); } catch {}
    throw error;
  }
}
parentPort.on('message', ({ id, buffer, items }) => {
  const data = Buffer.from(buffer);
  const results = items.map((item) => {
    try {
      writeNew(item.destination, item.tmpPath, data.subarray(item.offset, item.offset + item.length));
      return null;
    } catch (error) {
      return { message: error.message, code: error.code };
    }
  });
  parentPort.postMessage({ id, results });
});
`;

const batchItems = 256;
const batchBytes = 1024 * 1024;
const idleStopMs = 5_000;

function createBlobWriterThread(): BlobWriterThread {
  let worker: Worker | undefined;
  let nextId = 0;
  const inFlight = new Map<number, Pending[]>();
  let queue: { item: Item; data: Buffer; pending: Pending }[] = [];
  let queuedBytes = 0;
  let flushScheduled = false;
  let idleTimer: NodeJS.Timeout | undefined;

  const failAll = (error: Error): void => {
    for (const pendings of inFlight.values()) for (const p of pendings) p.reject(error);
    inFlight.clear();
    worker = undefined;
  };

  const start = (): Worker => {
    const started = new Worker(threadSource, { eval: true });
    started.unref();
    started.on(
      'message',
      (message: { id: number; results: ({ message: string; code?: string } | null)[] }) => {
        const pendings = inFlight.get(message.id) ?? [];
        inFlight.delete(message.id);
        message.results.forEach((result, i) => {
          const pending = pendings[i];
          if (!pending) return;
          if (result === null) pending.resolve();
          else pending.reject(Object.assign(new Error(result.message), { code: result.code }));
        });
        if (inFlight.size === 0 && queue.length === 0) {
          clearTimeout(idleTimer);
          idleTimer = setTimeout(() => {
            if (inFlight.size > 0 || queue.length > 0 || worker !== started) return;
            worker = undefined;
            void started.terminate();
          }, idleStopMs);
          idleTimer.unref();
        }
      },
    );
    started.once('error', (error) => {
      if (worker === started) failAll(error);
    });
    started.once('exit', (code) => {
      if (worker === started) failAll(new Error(`the blob writer thread stopped (exit code ${code})`));
    });
    return started;
  };

  const flush = (): void => {
    flushScheduled = false;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    // One fresh buffer per batch, transferred, not cloned: the blobs are views into the request's
    // chunks, and cloning a view would copy its whole chunk.
    const buffer = Buffer.allocUnsafeSlow(queuedBytes);
    queuedBytes = 0;
    let offset = 0;
    const items: Item[] = [];
    for (const { item, data } of batch) {
      data.copy(buffer, offset);
      items.push({ ...item, offset });
      offset += data.length;
    }
    const id = nextId++;
    inFlight.set(
      id,
      batch.map((b) => b.pending),
    );
    clearTimeout(idleTimer);
    worker ??= start();
    worker.postMessage({ id, buffer: buffer.buffer, items }, [buffer.buffer]);
  };

  return {
    write: (tmpPath, destination, data) =>
      new Promise<void>((resolve, reject) => {
        queue.push({
          item: { destination, tmpPath, offset: 0, length: data.length },
          data,
          pending: { resolve, reject },
        });
        queuedBytes += data.length;
        if (queue.length >= batchItems || queuedBytes >= batchBytes) flush();
        else if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      }),
  };
}

let sharedThread: BlobWriterThread | undefined;

/** The process's blob writer thread (created on first use). */
export function blobWriterThread(): BlobWriterThread {
  sharedThread ??= createBlobWriterThread();
  return sharedThread;
}
