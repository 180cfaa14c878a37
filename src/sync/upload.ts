import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { frameHeader } from '../workspace/upload-frames.js';

export interface BlobToSend {
  sha256: string;
  size: number;
  /** A local file with this content, relative to the project root. */
  path: string;
}

/** Splits blobs into batches within the server's limits (a blob larger than a batch goes alone). */
export function planBatches(
  blobs: readonly BlobToSend[],
  maxBytes: number,
  maxFiles: number,
): BlobToSend[][] {
  const batches: BlobToSend[][] = [];
  let batch: BlobToSend[] = [];
  let bytes = 0;
  for (const blob of blobs) {
    if (batch.length > 0 && (bytes + blob.size > maxBytes || batch.length >= maxFiles)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(blob);
    bytes += blob.size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

const smallFile = 1024 * 1024;

/**
 * The upload body of one batch, streamed from disk: `<sha256> <size>\n` then the bytes, per blob.
 * A file that changed size since it was hashed stops the upload with a clear error.
 */
export function batchBody(
  root: string,
  batch: readonly BlobToSend[],
  onBytes: (bytes: number, blobDone: boolean) => void,
): ReadableStream<Uint8Array> {
  async function* frames(): AsyncGenerator<Uint8Array> {
    for (const blob of batch) {
      yield frameHeader(blob.sha256, blob.size);
      const file = join(root, blob.path);
      let sent = 0;
      if (blob.size <= smallFile) {
        const data = await readFile(file);
        if (data.length !== blob.size) throw changed(blob);
        sent = data.length;
        yield data;
        onBytes(data.length, false);
      } else {
        for await (const chunk of createReadStream(file, {
          start: 0,
          end: blob.size - 1,
          highWaterMark: smallFile,
        })) {
          const bytes = chunk as Buffer;
          sent += bytes.length;
          yield bytes;
          onBytes(bytes.length, false);
        }
        if (sent !== blob.size) throw changed(blob);
      }
      onBytes(0, true);
    }
  }
  return ReadableStream.from(frames());
}

function changed(blob: BlobToSend): Error {
  return new Error(`${blob.path} changed while it was being synced; run the sync again`);
}
