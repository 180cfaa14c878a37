import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProgress, formatBytes } from '../../../src/sync/progress.js';
import { batchBody, planBatches } from '../../../src/sync/upload.js';

const blob = (size: number, i: number) => ({ sha256: String(i).padStart(64, '0'), size, path: `f${i}` });

describe('planBatches', () => {
  it('splits by bytes and by count, and sends an oversized blob alone', () => {
    const blobs = [blob(40, 1), blob(40, 2), blob(40, 3), blob(500, 4), blob(1, 5), blob(1, 6), blob(1, 7)];
    const batches = planBatches(blobs, 100, 2).map((b) => b.map((x) => x.path));
    expect(batches).toEqual([['f1', 'f2'], ['f3'], ['f4'], ['f5', 'f6'], ['f7']]);
  });
  it('plans nothing for nothing', () => {
    expect(planBatches([], 10, 10)).toEqual([]);
  });
});

describe('batchBody', () => {
  it('streams frames and fails when a file changed size since it was hashed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mms-upload-'));
    try {
      await writeFile(join(root, 'f1'), 'hello');
      const seen: number[] = [];
      const text = await new Response(batchBody(root, [blob(5, 1)], (n) => seen.push(n))).text();
      expect(text).toBe(`${'0'.repeat(63)}1 5\nhello`);
      expect(seen).toEqual([5]);
      await writeFile(join(root, 'f1'), 'longer now');
      await expect(new Response(batchBody(root, [blob(5, 1)], () => undefined)).text()).rejects.toThrow(
        /changed while it was being synced/,
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('progress', () => {
  it('stays quiet for small uploads and reports large ones', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
    let t = 0;
    const small = createProgress(1000, 1, stream, () => t);
    small.add(1000, true);
    small.done();
    expect(lines).toEqual([]);
    const big = createProgress(64 * 1024 * 1024, 2, stream, () => t);
    t = 3000;
    big.add(32 * 1024 * 1024, true);
    big.done();
    expect(lines[0]).toMatch(/^uploading 50% {2}32\.0 MiB \/ 64\.0 MiB {2}1\/2 files/);
    expect(lines).toHaveLength(2);
  });
  it('formats bytes', () => {
    expect(formatBytes(12)).toBe('12 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(100 * 1024 * 1024)).toBe('100.0 MiB');
  });
});
