import { describe, expect, it } from 'vitest';
import { BoundedOutput } from '../../../src/runs/bounded-output.js';

/** Deterministic ASCII text where every position is distinguishable from its neighbours. */
function sample(length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i++) out += `${i.toString(36)},`;
  return out.slice(0, length);
}

const marker = (omitted: number): string => `\n[... ${omitted} bytes omitted ...]\n`;

function pushInChunks(output: BoundedOutput, data: Buffer, size: number): void {
  for (let offset = 0; offset < data.length; offset += size)
    output.push(data.subarray(offset, offset + size));
}

describe('BoundedOutput: small outputs', () => {
  it('starts empty', () => {
    const output = new BoundedOutput(1024);
    expect(output.text()).toBe('');
    expect(output.bytes).toBe(0);
    expect(output.truncated).toBe(false);
    expect(output.latestLine).toBe('');
  });

  it('keeps a small output whole', () => {
    const output = new BoundedOutput(1024);
    output.push(Buffer.from('hello\n'));
    output.push(Buffer.from('world\n'));
    expect(output.text()).toBe('hello\nworld\n');
    expect(output.bytes).toBe(12);
    expect(output.truncated).toBe(false);
  });

  it('keeps an output of exactly the limit whole, in one chunk or many', () => {
    const data = sample(1024);
    const one = new BoundedOutput(1024);
    one.push(Buffer.from(data));
    expect(one.text()).toBe(data);
    expect(one.truncated).toBe(false);
    const many = new BoundedOutput(1024);
    pushInChunks(many, Buffer.from(data), 100);
    expect(many.text()).toBe(data);
    expect(many.truncated).toBe(false);
    expect(many.bytes).toBe(1024);
  });

  it('ignores empty chunks', () => {
    const output = new BoundedOutput(1024);
    output.push(Buffer.alloc(0));
    output.push(Buffer.from('x'));
    output.push(Buffer.alloc(0));
    expect(output.text()).toBe('x');
    expect(output.bytes).toBe(1);
  });

  it('copies chunks, so a reused buffer does not change what was kept', () => {
    const output = new BoundedOutput(1024);
    const buffer = Buffer.from('abc');
    output.push(buffer);
    buffer.write('xyz');
    expect(output.text()).toBe('abc');
    const big = Buffer.from(sample(5000));
    const expected = new BoundedOutput(1024);
    expected.push(Buffer.from(big));
    const reused = new BoundedOutput(1024);
    reused.push(big);
    big.fill('#');
    expect(reused.text()).toBe(expected.text());
  });

  it('keeps multi-byte text intact when it is not split at the head boundary', () => {
    const output = new BoundedOutput(1024);
    const text = 'grüße, 日本語, emoji 🚀\n';
    output.push(Buffer.from(text));
    expect(output.text()).toBe(text);
    expect(output.bytes).toBe(Buffer.byteLength(text));
  });
});

describe('BoundedOutput: large outputs', () => {
  it('one byte over the limit omits exactly one byte', () => {
    const data = sample(1025);
    const output = new BoundedOutput(1024);
    output.push(Buffer.from(data));
    expect(output.text()).toBe(data.slice(0, 512) + marker(1) + data.slice(-512));
    expect(output.truncated).toBe(true);
    expect(output.bytes).toBe(1025);
  });

  it('keeps the head and tail halves exactly, with the omitted-bytes marker', () => {
    const data = sample(100_000);
    const output = new BoundedOutput(2000);
    output.push(Buffer.from(data));
    expect(output.text()).toBe(data.slice(0, 1000) + marker(98_000) + data.slice(-1000));
    expect(output.bytes).toBe(100_000);
    expect(output.truncated).toBe(true);
  });

  it('an odd limit gives the extra byte to the tail', () => {
    const data = sample(5000);
    const output = new BoundedOutput(1025);
    output.push(Buffer.from(data));
    expect(output.text()).toBe(data.slice(0, 512) + marker(5000 - 1025) + data.slice(-513));
  });

  it.each([1, 7, 100, 511, 512, 513, 1000, 1024, 1025, 4096, 30_000])(
    'chunks of %i bytes give the same text as one huge chunk',
    (size) => {
      const data = Buffer.from(sample(30_000));
      const whole = new BoundedOutput(1024);
      whole.push(data);
      const chunked = new BoundedOutput(1024);
      pushInChunks(chunked, data, size);
      expect(chunked.text()).toBe(whole.text());
      expect(chunked.bytes).toBe(whole.bytes);
      expect(chunked.truncated).toBe(true);
    },
  );

  it('mixed chunk sizes give the same text too', () => {
    const data = Buffer.from(sample(50_000));
    const sizes = [3, 900, 1, 2000, 17, 5000, 64, 1023];
    const chunked = new BoundedOutput(4096);
    let offset = 0;
    for (let i = 0; offset < data.length; i++) {
      const size = sizes[i % sizes.length] ?? 1;
      chunked.push(data.subarray(offset, offset + size));
      offset += size;
    }
    const text = data.toString();
    expect(chunked.text()).toBe(text.slice(0, 2048) + marker(50_000 - 4096) + text.slice(-2048));
  });

  it('a chunk that straddles the head boundary is split between head and tail', () => {
    const output = new BoundedOutput(1024);
    output.push(Buffer.from('a'.repeat(500)));
    output.push(Buffer.from('b'.repeat(100))); // 12 b's finish the head, 88 go to the tail
    expect(output.text()).toBe('a'.repeat(500) + 'b'.repeat(100));
    output.push(Buffer.from('c'.repeat(1000)));
    expect(output.text()).toBe('a'.repeat(500) + 'b'.repeat(12) + marker(1600 - 1024) + 'c'.repeat(512));
  });

  it('memory stays bounded: 200 MiB in 64 KiB chunks keeps at most limit + marker', () => {
    const limit = 1024 * 1024;
    const chunkSize = 64 * 1024;
    const chunks = (200 * 1024 * 1024) / chunkSize;
    const output = new BoundedOutput(limit);
    const chunk = Buffer.alloc(chunkSize);
    for (let i = 0; i < chunks; i++) {
      chunk.fill(97 + (i % 26)); // a..z, so head and tail can be checked
      output.push(chunk);
    }
    const text = output.text();
    const omitted = 200 * 1024 * 1024 - limit;
    expect(output.bytes).toBe(200 * 1024 * 1024);
    expect(output.truncated).toBe(true);
    expect(text.length).toBeLessThanOrEqual(limit + marker(omitted).length);
    const letter = (i: number): string => String.fromCharCode(97 + (i % 26));
    const perHalf = limit / 2 / chunkSize; // 8 chunks in the head, 8 in the tail
    let head = '';
    for (let i = 0; i < perHalf; i++) head += letter(i).repeat(chunkSize);
    let tail = '';
    for (let i = chunks - perHalf; i < chunks; i++) tail += letter(i).repeat(chunkSize);
    expect(text).toBe(head + marker(omitted) + tail);
  });
});

describe('BoundedOutput: latestLine', () => {
  it('is the last non-empty line, trimmed', () => {
    const output = new BoundedOutput(1024);
    output.push(Buffer.from('first\n  second line  \n\n   \n'));
    expect(output.latestLine).toBe('second line');
  });

  it('sees a line without a newline yet', () => {
    const output = new BoundedOutput(1024);
    output.push(Buffer.from('done\npartial'));
    expect(output.latestLine).toBe('partial');
  });

  it('joins a line split over two chunks', () => {
    const output = new BoundedOutput(1024);
    output.push(Buffer.from('step 1\nstep '));
    output.push(Buffer.from('2 of 3\n'));
    expect(output.latestLine).toBe('step 2 of 3');
  });

  it('keeps the last 200 characters of a long line', () => {
    const line = sample(500);
    const output = new BoundedOutput(4096);
    output.push(Buffer.from(`${line}\n`));
    expect(output.latestLine).toBe(line.slice(-200));
    expect(output.latestLine).toHaveLength(200);
  });

  it('comes from the tail once the head is full', () => {
    const output = new BoundedOutput(1024);
    output.push(Buffer.from(`${'h'.repeat(600)}\n`));
    for (let i = 0; i < 100; i++) output.push(Buffer.from(`line ${i}\n`));
    expect(output.latestLine).toBe('line 99');
  });

  it('is empty when only whitespace was printed', () => {
    const output = new BoundedOutput(1024);
    output.push(Buffer.from('\n\n  \n\t\n'));
    expect(output.latestLine).toBe('');
  });
});

describe('regressions', () => {
  it('keeps a multi-byte character that straddles head and tail when nothing is cut', () => {
    const output = new BoundedOutput(1024);
    const input = `${'a'.repeat(511)}é${'b'.repeat(10)}`;
    output.push(Buffer.from(input));
    expect(output.truncated).toBe(false);
    expect(output.text()).toBe(input);
  });

  it('finds the latest line across many tiny chunks', () => {
    const output = new BoundedOutput(1 << 20);
    for (const piece of ['first line\n', 'progress ', '50', '%', '\n']) output.push(Buffer.from(piece));
    expect(output.latestLine).toBe('progress 50%');
  });
});
