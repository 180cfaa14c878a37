import { createHash, randomBytes } from 'node:crypto';
import { close, open as openCallback, rename as renameCallback, unlink, write } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
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

/** Blobs up to this size are collected in memory and written in one call. */
export const smallBlobBytes = 256 * 1024;

export async function createBlobWriter(options: {
  /** Where the bytes go until they are verified (a fresh name, in the blob directory's file system). */
  tmpPath: string;
  destination: string;
  sha256: string;
  size: number;
}): Promise<BlobWriter> {
  const { tmpPath } = options;
  const small = options.size <= smallBlobBytes;
  // Created read-only: the mode applies to later opens, our descriptor stays writable.
  const handle = small ? undefined : await open(tmpPath, 'wx', 0o444);
  const parts: Buffer[] = [];
  const hash = createHash('sha256');
  let written = 0;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle?.close();
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
      if (!handle) {
        // The chunk's memory belongs to the stream; keep a copy.
        parts.push(Buffer.from(chunk));
        return;
      }
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
      if (handle) await rename(tmpPath, options.destination);
      else await publishFile(tmpPath, options.destination, Buffer.concat(parts));
    },
    async discard() {
      await close().catch(() => undefined);
      await rm(tmpPath, { force: true });
    },
  };
}

/**
 * Writes `data` to a new read-only file `tmpPath` and renames it to `destination`; on failure the
 * temp file is removed. The four calls are chained with callbacks in one promise: for the many
 * small blobs of a first sync, the promise API's file handles and per-call promises cost more
 * main-thread time than the writing itself.
 */
export function publishFile(tmpPath: string, destination: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => {
      unlink(tmpPath, () => {
        reject(error);
      });
    };
    openCallback(tmpPath, 'wx', 0o444, (openError, fd) => {
      if (openError) {
        reject(openError);
        return;
      }
      const from = (offset: number): void => {
        if (offset < data.length) {
          write(fd, data, offset, data.length - offset, null, (writeError, written) => {
            if (writeError)
              close(fd, () => {
                fail(writeError);
              });
            else from(offset + written);
          });
          return;
        }
        close(fd, (closeError) => {
          if (closeError) {
            fail(closeError);
            return;
          }
          renameCallback(tmpPath, destination, (renameError) => {
            if (renameError) fail(renameError);
            else resolve();
          });
        });
      };
      from(0);
    });
  });
}

/**
 * Writes a small blob, already verified in memory, directly under its final name: one file
 * created, one rename fewer than a temp file would take. The name is taken with
 * O_EXCL; if it exists (left by an interrupted upload), the blob is written aside and renamed over
 * it. Until the upload ends the file may be partial, which nothing sees: trees link blobs only
 * at commit, after every upload has finished, and a restart trusts only committed trees' blobs.
 */
export function storeSmallBlob(tmpPath: string, destination: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    openCallback(destination, 'wx', 0o444, (openError, fd) => {
      if (openError?.code === 'EEXIST') {
        publishFile(tmpPath, destination, data).then(resolve, reject);
        return;
      }
      if (openError) {
        reject(openError);
        return;
      }
      const fail = (error: Error): void => {
        close(fd, () => {
          unlink(destination, () => {
            reject(error);
          });
        });
      };
      const from = (offset: number): void => {
        if (offset >= data.length) {
          close(fd, (closeError) => {
            if (closeError)
              unlink(destination, () => {
                reject(closeError);
              });
            else resolve();
          });
          return;
        }
        write(fd, data, offset, data.length - offset, null, (writeError, written) => {
          if (writeError) fail(writeError);
          else from(offset + written);
        });
      };
      from(0);
    });
  });
}

/** Stores a small in-memory blob (the MCP write tool's files). */
export async function writeBlob(options: {
  tmpPath: (sha256: string) => string;
  destinationFor: (sha256: string) => string;
  content: Buffer;
}): Promise<string> {
  const sha256 = createHash('sha256').update(options.content).digest('hex');
  const writer = await createBlobWriter({
    tmpPath: options.tmpPath(sha256),
    destination: options.destinationFor(sha256),
    sha256,
    size: options.content.byteLength,
  });
  try {
    await writer.write(options.content);
    await writer.finish();
  } finally {
    await writer.discard();
  }
  return sha256;
}
