import { AppError } from '../errors.js';

/**
 * The upload body: blobs one after another, each as a header line `<sha256 hex> <size>\n`
 * followed by exactly `size` bytes. Streamed: nothing is held in memory beyond one chunk.
 */
export const frameHeaderMax = 64 + 1 + 16 + 1;

export interface FrameSink {
  /** Called at each header; returns where the frame's bytes go. Throws to refuse the frame. */
  start(
    sha256: string,
    size: number,
  ): Promise<{
    write(chunk: Uint8Array): Promise<void>;
    finish(): Promise<void>;
  }>;
}

const headerPattern = /^([0-9a-f]{64}) (\d{1,16})$/;

/** Reads frames from `body` into `sink`; resolves with the number of frames once the body ends cleanly. */
export async function receiveFrames(body: AsyncIterable<Uint8Array>, sink: FrameSink): Promise<number> {
  let header = Buffer.alloc(0);
  let current: Awaited<ReturnType<FrameSink['start']>> | undefined;
  let remaining = 0;
  let frames = 0;

  for await (const raw of body) {
    let chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    while (chunk.length > 0) {
      if (current) {
        const take = Math.min(remaining, chunk.length);
        await current.write(chunk.subarray(0, take));
        remaining -= take;
        chunk = chunk.subarray(take);
        if (remaining === 0) {
          await current.finish();
          current = undefined;
          frames += 1;
        }
        continue;
      }
      const newline = chunk.indexOf(0x0a);
      const end = newline === -1 ? chunk.length : newline;
      header = Buffer.concat([header, chunk.subarray(0, end)]);
      if (header.length > frameHeaderMax) {
        throw new AppError(
          'INVALID_MANIFEST',
          'upload frame header is too long: expected "<sha256> <size>\\n"',
        );
      }
      if (newline === -1) break;
      chunk = chunk.subarray(newline + 1);
      const match = headerPattern.exec(header.toString('latin1'));
      header = Buffer.alloc(0);
      if (!match) {
        throw new AppError(
          'INVALID_MANIFEST',
          'malformed upload frame header: expected "<sha256> <size>\\n"',
        );
      }
      const size = Number(match[2]);
      current = await sink.start(match[1] ?? '', size);
      remaining = size;
      if (size === 0) {
        await current.finish();
        current = undefined;
        frames += 1;
      }
    }
  }
  if (current || header.length > 0) {
    throw new AppError('HASH_MISMATCH', 'the upload ended in the middle of a blob: it was interrupted');
  }
  return frames;
}

/** Encodes a frame header (the client side of the same format). */
export function frameHeader(sha256: string, size: number): Buffer {
  return Buffer.from(`${sha256} ${size}\n`, 'latin1');
}
