import { AppError } from '../errors.js';

/**
 * The upload body: blobs one after another, each as a header line `<sha256 hex> <size>\n`
 * followed by exactly `size` bytes. Streamed: nothing is held in memory beyond one chunk, except
 * small frames, which a sink may take whole (bounded by `wholeBytes`).
 */
export const frameHeaderMax = 64 + 1 + 16 + 1;

export interface FrameWriter {
  write(chunk: Uint8Array): Promise<void>;
  finish(): Promise<void>;
}

export interface FrameSink {
  /** Called at each streamed frame's header; returns where its bytes go. Throws to refuse the frame. */
  start(sha256: string, size: number): Promise<FrameWriter>;
  /** Frames of at most this many bytes go to `whole` instead (default: none). */
  readonly wholeBytes?: number;
  /**
   * A small frame, all its bytes at once: a view into the body's chunk when the frame lies within
   * one (the chunks of a Node stream are never reused, so the view stays valid). Throws to refuse
   * it; a returned promise holds the next frame back (backpressure), undefined lets it come at once.
   */
  whole?(sha256: string, data: Buffer): Promise<void> | undefined;
}

const headerPattern = /^([0-9a-f]{64}) (\d{1,16})$/;

function parseHeader(header: string): { sha256: string; size: number } {
  const match = headerPattern.exec(header);
  if (!match) {
    throw new AppError('INVALID_MANIFEST', 'malformed upload frame header: expected "<sha256> <size>\\n"');
  }
  return { sha256: match[1] ?? '', size: Number(match[2]) };
}

function headerTooLong(): AppError {
  return new AppError('INVALID_MANIFEST', 'upload frame header is too long: expected "<sha256> <size>\\n"');
}

/** Reads frames from `body` into `sink`; resolves with the number of frames once the body ends cleanly. */
export async function receiveFrames(body: AsyncIterable<Uint8Array>, sink: FrameSink): Promise<number> {
  const wholeBytes = sink.whole ? (sink.wholeBytes ?? 0) : -1;
  // A header split across chunks, collected until its newline.
  let pendingHeader = '';
  // The frame whose bytes are coming: streamed to `current`, or gathered in `parts` for `whole`.
  let current: FrameWriter | undefined;
  let gathering: { sha256: string; parts: Buffer[] } | undefined;
  let remaining = 0;
  let frames = 0;

  const deliver = async (sha256: string, data: Buffer): Promise<void> => {
    frames += 1;
    const held = sink.whole?.(sha256, data);
    if (held) await held;
  };

  for await (const raw of body) {
    const chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let at = 0;
    while (at < chunk.length) {
      if (current || gathering) {
        const take = Math.min(remaining, chunk.length - at);
        const piece = chunk.subarray(at, at + take);
        at += take;
        remaining -= take;
        if (gathering) {
          gathering.parts.push(piece);
          if (remaining === 0) {
            const { sha256, parts } = gathering;
            gathering = undefined;
            await deliver(sha256, Buffer.concat(parts));
          }
          continue;
        }
        const writer = current as FrameWriter;
        await writer.write(piece);
        if (remaining === 0) {
          await writer.finish();
          current = undefined;
          frames += 1;
        }
        continue;
      }
      const newline = chunk.indexOf(0x0a, at);
      const end = newline === -1 ? chunk.length : newline;
      if (pendingHeader.length + end - at > frameHeaderMax) throw headerTooLong();
      pendingHeader += chunk.toString('latin1', at, end);
      if (newline === -1) break;
      at = newline + 1;
      const { sha256, size } = parseHeader(pendingHeader);
      pendingHeader = '';
      if (size <= wholeBytes) {
        // Within this chunk (the usual case for small files): a view, no copy.
        if (chunk.length - at >= size) {
          const data = chunk.subarray(at, at + size);
          at += size;
          await deliver(sha256, data);
        } else {
          gathering = { sha256, parts: [] };
          remaining = size;
        }
        continue;
      }
      current = await sink.start(sha256, size);
      remaining = size;
      if (size === 0) {
        await current.finish();
        current = undefined;
        frames += 1;
      }
    }
  }
  if (current || gathering || pendingHeader.length > 0) {
    throw new AppError('HASH_MISMATCH', 'the upload ended in the middle of a blob: it was interrupted');
  }
  return frames;
}

/** Encodes a frame header (the client side of the same format). */
export function frameHeader(sha256: string, size: number): Buffer {
  return Buffer.from(`${sha256} ${size}\n`, 'latin1');
}
