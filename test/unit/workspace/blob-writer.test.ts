import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blobWriterThread, publishFile, storeSmallBlob } from '../../../src/workspace/blob-writer.js';

describe('publishFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mms-blob-writer-'));
    await mkdir(join(dir, 'tmp'));
    await mkdir(join(dir, 'blobs'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the bytes to a read-only file under its final name and leaves no temp file', async () => {
    const data = Buffer.from('content of a blob');
    await publishFile(join(dir, 'tmp', 't1'), join(dir, 'blobs', 'b1'), data);
    expect(await readFile(join(dir, 'blobs', 'b1'))).toEqual(data);
    expect((await stat(join(dir, 'blobs', 'b1'))).mode & 0o777).toBe(0o444);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('writes an empty file', async () => {
    await publishFile(join(dir, 'tmp', 't2'), join(dir, 'blobs', 'b2'), Buffer.alloc(0));
    expect((await stat(join(dir, 'blobs', 'b2'))).size).toBe(0);
  });

  it('refuses to reuse a temp name and leaves the file that holds it alone', async () => {
    await writeFile(join(dir, 'tmp', 't3'), 'someone else');
    await expect(
      publishFile(join(dir, 'tmp', 't3'), join(dir, 'blobs', 'b3'), Buffer.from('x')),
    ).rejects.toThrow(/EEXIST/);
    expect(await readFile(join(dir, 'tmp', 't3'), 'utf8')).toBe('someone else');
    expect(await readdir(join(dir, 'blobs'))).toEqual([]);
  });

  it('removes its temp file when the rename fails', async () => {
    await expect(
      publishFile(join(dir, 'tmp', 't4'), join(dir, 'no-such-dir', 'b4'), Buffer.from('x')),
    ).rejects.toThrow(/ENOENT/);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });
});

describe('storeSmallBlob', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mms-small-blob-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a read-only file under its final name, without a temp file', async () => {
    await storeSmallBlob(join(dir, 'tmp-1'), join(dir, 'blob'), Buffer.from('small'));
    expect(await readFile(join(dir, 'blob'), 'utf8')).toBe('small');
    expect((await stat(join(dir, 'blob'))).mode & 0o777).toBe(0o444);
    expect(await readdir(dir)).toEqual(['blob']);
  });

  it('replaces a file left under that name, through a temp file renamed over it', async () => {
    await writeFile(join(dir, 'blob'), 'sm', { mode: 0o444 });
    await storeSmallBlob(join(dir, 'tmp-2'), join(dir, 'blob'), Buffer.from('small'));
    expect(await readFile(join(dir, 'blob'), 'utf8')).toBe('small');
    expect(await readdir(dir)).toEqual(['blob']);
  });

  it('fails cleanly where it cannot create the file', async () => {
    await expect(
      storeSmallBlob(join(dir, 'tmp-3'), join(dir, 'missing', 'blob'), Buffer.from('x')),
    ).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('blobWriterThread', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mms-blob-thread-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes many blobs in batches, each whole and read-only, from views into shared chunks', async () => {
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
    const writer = blobWriterThread();
    const count = 600;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        writer.write(join(dir, `t${i}`), join(dir, `b${i}`), chunk.subarray(i * 100, i * 100 + 3000)),
      ),
    );
    const names = await readdir(dir);
    expect(names).toHaveLength(count);
    expect(await readFile(join(dir, 'b7'))).toEqual(chunk.subarray(700, 3700));
    expect((await stat(join(dir, 'b599'))).mode & 0o777).toBe(0o444);
  });

  it('replaces a name left over, and fails only the blob it cannot write', async () => {
    await writeFile(join(dir, 'left'), 'cut');
    const writer = blobWriterThread();
    const results = await Promise.allSettled([
      writer.write(join(dir, 't1'), join(dir, 'left'), Buffer.from('whole')),
      writer.write(join(dir, 't2'), join(dir, 'missing', 'b'), Buffer.from('x')),
      writer.write(join(dir, 't3'), join(dir, 'fine'), Buffer.alloc(0)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(dir, 'left'), 'utf8')).toBe('whole');
    expect((await readdir(dir)).sort()).toEqual(['fine', 'left']);
  });
});
