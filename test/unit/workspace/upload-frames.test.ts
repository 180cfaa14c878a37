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

describe('receiveFrames with whole small frames', () => {
  const small = Buffer.from('small blob');
  const empty = Buffer.alloc(0);
  const large = Buffer.from('L'.repeat(5000));
  const body = Buffer.concat([
    frameHeader(sha(small), small.length),
    small,
    frameHeader(sha(empty), 0),
    frameHeader(sha(large), large.length),
    large,
  ]);

  function wholeCollector(held?: () => Promise<void> | undefined): {
    sink: FrameSink;
    whole: Map<string, Buffer>;
    streamed: Map<string, Buffer>;
  } {
    const { sink, got } = collector();
    const whole = new Map<string, Buffer>();
    return {
      whole,
      streamed: got,
      sink: {
        ...sink,
        wholeBytes: 100,
        whole: (hash, data) => {
          whole.set(hash, Buffer.from(data));
          return held?.();
        },
      },
    };
  }

  it.each([1, 5, 64, 100_000])(
    'hands frames up to wholeBytes over whole and streams the rest (chunks of %i bytes)',
    async (size) => {
      const { sink, whole, streamed } = wholeCollector();
      expect(await receiveFrames(chunked(body, size), sink)).toBe(3);
      expect(whole.get(sha(small))).toEqual(small);
      expect(whole.get(sha(empty))).toEqual(empty);
      expect(streamed.get(sha(large))).toEqual(large);
      expect(whole.has(sha(large))).toBe(false);
    },
  );

  it('gives a view into the chunk, not a copy, when the frame lies within it', async () => {
    const views: Buffer[] = [];
    const chunk = Buffer.concat([frameHeader(sha(small), small.length), small]);
    await receiveFrames(Readable.from([chunk]), {
      start: () => Promise.reject(new Error('not streamed')),
      wholeBytes: 100,
      whole: (_hash, data) => {
        views.push(data);
        return undefined;
      },
    });
    expect(views[0]?.buffer).toBe(chunk.buffer);
  });

  it('waits for the promise a sink returns before the next frame', async () => {
    const order: string[] = [];
    let release: () => void = () => undefined;
    const { sink } = wholeCollector();
    const done = receiveFrames(chunked(body, 100_000), {
      ...sink,
      whole: (hash) => {
        order.push(hash === sha(small) ? 'small' : 'empty');
        if (hash !== sha(small)) return undefined;
        return new Promise<void>((resolve) => {
          release = () => {
            order.push('released');
            resolve();
          };
        });
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(['small']);
    release();
    await done;
    expect(order).toEqual(['small', 'released', 'empty']);
  });

  it('stops at the refusal a sink throws, and calls a body cut inside a whole frame an interruption', async () => {
    const refusing = {
      start: () => Promise.reject(new Error('not streamed')),
      wholeBytes: 100,
      whole: (): undefined => {
        throw new AppError('UNEXPECTED_BLOB', 'not asked for');
      },
    };
    await expect(receiveFrames(chunked(body, 7), refusing)).rejects.toThrow(/not asked for/);
    const { sink, whole } = wholeCollector();
    const cut = Buffer.concat([frameHeader(sha(small), small.length), small.subarray(0, 4)]);
    await expect(receiveFrames(chunked(cut, 3), sink)).rejects.toThrow(/interrupted/);
    expect(whole.size).toBe(0);
  });
});
