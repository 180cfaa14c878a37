import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadHashCache } from '../../../src/sync/hash-cache.js';
import { hashEntries } from '../../../src/sync/hash-files.js';
import { walkProject } from '../../../src/sync/walk.js';

let root: string;
let cacheDir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mms-hash-files-'));
  cacheDir = await mkdtemp(join(tmpdir(), 'mms-hash-files-cache-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(cacheDir, { recursive: true, force: true });
});

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

describe('hashEntries', () => {
  it('shares a big job with a worker thread and gets every hash right', async () => {
    // Enough files for the worker; one larger than its read buffer.
    for (let d = 0; d < 10; d++) await mkdir(join(root, `d${d}`));
    await Promise.all(
      Array.from({ length: 2100 }, (_, i) => writeFile(join(root, `d${i % 10}`, `f${i}`), `content ${i}`)),
    );
    const big = Buffer.alloc(3 * 1024 * 1024 + 5, 9);
    await writeFile(join(root, 'd9', 'zz-big'), big);
    const entries = await walkProject(root);
    const cache = await loadHashCache(join(cacheDir, 'c'), root);
    const { hashes, hashed, hashedBytes } = await hashEntries(root, entries, cache);
    expect(hashed).toBe(2101);
    expect(hashedBytes).toBe(entries.reduce((n, e) => n + e.size, 0));
    entries.forEach((entry, i) => {
      const expected = entry.path === 'd9/zz-big' ? sha(big) : sha(`content ${entry.path.split('/f')[1]}`);
      expect(hashes[i]).toBe(expected);
      expect(cache.get(entry)).toBe(expected);
    });
  });

  it('fails with the file error when a file is gone, in either half', async () => {
    await Promise.all(
      Array.from({ length: 2100 }, (_, i) => writeFile(join(root, `f${String(i).padStart(4, '0')}`), 'x')),
    );
    const entries = await walkProject(root);
    for (const gone of ['f0000', 'f2099']) {
      await rm(join(root, gone));
      const cache = await loadHashCache(join(cacheDir, 'c'), root);
      await expect(hashEntries(root, entries, cache)).rejects.toMatchObject({ code: 'ENOENT' });
      await writeFile(join(root, gone), 'x');
    }
  });
});
