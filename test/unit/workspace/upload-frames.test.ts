import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { frameHeader, receiveFrames, type FrameSink } from '../../../src/workspace/upload-frames.js';

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function collector(): { sink: FrameSink; got: Map<string, Buffer> } {
  const got = new Map<string, Buffer>();
  return {
    got,
    sink: {
      start: (hash) => {
        const parts: Buffer[] = [];
        return Promise.resolve({
          write: (chunk: Uint8Array) => {
            parts.push(Buffer.from(chunk));
            return Promise.resolve();
          },
          finish: () => {
            got.set(hash, Buffer.concat(parts));
            return Promise.resolve();
          },
        });
      },
    },
  };
}

function chunked(data: Buffer, size: number): AsyncIterable<Uint8Array> {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

describe('receiveFrames', () => {
  const a = Buffer.from('hello world');
  const b = Buffer.alloc(0);
  const c = Buffer.from('x'.repeat(1000));
  const body = Buffer.concat([
    frameHeader(sha(a), a.length),
    a,
    frameHeader(sha(b), 0),
    frameHeader(sha(c), c.length),
    c,
  ]);

  it.each([1, 7, 64, 100_000])('reads frames split into chunks of %i bytes', async (size) => {
    const { sink, got } = collector();
    expect(await receiveFrames(chunked(body, size), sink)).toBe(3);
    expect(got.get(sha(a))).toEqual(a);
    expect(got.get(sha(b))).toEqual(b);
    expect(got.get(sha(c))).toEqual(c);
  });

  it('refuses a malformed header', async () => {
    const { sink } = collector();
    await expect(receiveFrames(chunked(Buffer.from('nothex 12\n'), 4), sink)).rejects.toThrow(
      /malformed upload frame/,
    );
  });

  it('refuses a header without end', async () => {
    const { sink } = collector();
    await expect(receiveFrames(chunked(Buffer.from('a'.repeat(200)), 50), sink)).rejects.toThrow(/too long/);
  });

  it('calls a body that ends inside a blob an interruption', async () => {
    const { sink, got } = collector();
    const cut = body.subarray(0, body.length - 10);
    const error = await receiveFrames(chunked(cut, 33), sink).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toMatch(/interrupted/);
    expect(got.has(sha(c))).toBe(false);
  });
});
