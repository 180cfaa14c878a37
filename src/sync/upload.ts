import { createReadStream, readFileSync } from 'node:fs';
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
  // Small frames are coalesced into chunks of about 1 MiB: one write per chunk, not two per file.
  async function* frames(): AsyncGenerator<Uint8Array> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const take = (): Buffer => {
      const chunk = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      return chunk;
    };
    for (const blob of batch) {
      const header = frameHeader(blob.sha256, blob.size);
      const file = join(root, blob.path);
      if (blob.size <= smallFile) {
        const data = readFileSync(file);
        if (data.length !== blob.size) throw changed(blob);
        pending.push(header, data);
        pendingBytes += header.length + data.length;
        onBytes(data.length, true);
        if (pendingBytes >= smallFile) yield take();
        continue;
      }
      pending.push(header);
      pendingBytes += header.length;
      yield take();
      let sent = 0;
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
      onBytes(0, true);
    }
    if (pendingBytes > 0) yield take();
  }
  return ReadableStream.from(frames());
}

function changed(blob: BlobToSend): Error {
  return new Error(`${blob.path} changed while it was being synced; run the sync again`);
}
