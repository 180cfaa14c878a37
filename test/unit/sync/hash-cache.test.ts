import { mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashCachePath, loadHashCache } from '../../../src/sync/hash-cache.js';
import { hashEntries } from '../../../src/sync/hash-files.js';
import { walkProject } from '../../../src/sync/walk.js';

let root: string;
let cacheFile: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mms-hash-'));
  cacheFile = join(await mkdtemp(join(tmpdir(), 'mms-cache-')), 'c.json');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(join(cacheFile, '..'), { recursive: true, force: true });
});

describe('hash cache', () => {
  it('hashes once, trusts unchanged files, re-hashes changed ones and forgets deleted ones', async () => {
    await writeFile(join(root, 'a'), 'alpha');
    await writeFile(join(root, 'b'), 'beta');
    await writeFile(join(root, 'big'), Buffer.alloc(3 * 1024 * 1024, 7));
    let cache = await loadHashCache(cacheFile, root);
    const walked = await walkProject(root);
    const first = await hashEntries(root, walked, cache);
    expect(first.hashed).toBe(3);
    expect(first.hashes[walked.findIndex((e) => e.path === 'a')]).toBe(
      '8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8',
    );
    await cache.save(await walkProject(root));

    cache = await loadHashCache(cacheFile, root);
    expect((await hashEntries(root, await walkProject(root), cache)).hashed).toBe(0);

    await writeFile(join(root, 'b'), 'BETA');
    await utimes(join(root, 'b'), new Date(5000), new Date(5000));
    await rm(join(root, 'a'));
    const third = await hashEntries(root, await walkProject(root), cache);
    expect(third.hashed).toBe(1);
    const kept = await walkProject(root);
    await cache.save(kept, 'c'.repeat(64));
    const reloaded = (await loadHashCache(cacheFile, root)).savedTree();
    expect(reloaded?.entries.map((e) => e.path)).toEqual(['b', 'big']);
  });

  it('stores a binary file: header, numbers, hashes and paths, read back whole', async () => {
    await writeFile(join(root, 'a'), 'alpha');
    await symlink('a', join(root, 'l'));
    await writeFile(join(root, 'név with\nnewline'), 'x');
    const entries = await walkProject(root);
    const cache = await loadHashCache(cacheFile, root);
    await hashEntries(root, entries, cache);
    await cache.save(entries, 'd'.repeat(64));
    const data = await readFile(cacheFile);
    expect(data.subarray(0, 8).toString('latin1')).toBe('MMSYNC3\n');
    const header = JSON.parse(data.toString('utf8', 12, 12 + data.readUInt32LE(8)));
    expect(header).toMatchObject({ root, digest: 'd'.repeat(64), count: 3, links: [[1, 'a']] });

    const tree = (await loadHashCache(cacheFile, root)).savedTree();
    expect(tree?.digest).toBe('d'.repeat(64));
    expect(tree?.entries).toEqual([
      {
        type: 'file',
        path: 'a',
        size: 5,
        executable: false,
        sha256: '8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8',
      },
      { type: 'symlink', path: 'l', target: 'a' },
      expect.objectContaining({ type: 'file', path: 'név with\nnewline', size: 1 }),
    ]);
    expect((await loadHashCache(cacheFile, root)).digestOf(await walkProject(root))).toBe('d'.repeat(64));
  });

  it('starts afresh from a truncated or foreign file', async () => {
    await writeFile(join(root, 'a'), 'alpha');
    const entries = await walkProject(root);
    const cache = await loadHashCache(cacheFile, root);
    await hashEntries(root, entries, cache);
    await cache.save(entries, 'd'.repeat(64));
    const data = await readFile(cacheFile);
    for (const damaged of [
      data.subarray(0, data.length - 1),
      Buffer.concat([data, Buffer.from('x')]),
      data.subarray(0, 10),
    ]) {
      await writeFile(cacheFile, damaged);
      const reloaded = await loadHashCache(cacheFile, root);
      expect(reloaded.digestOf(entries)).toBeUndefined();
      expect((await hashEntries(root, entries, reloaded)).hashed).toBe(1);
    }
  });

  it('knows the digest of exactly the entries it saved, and nothing else', async () => {
    await writeFile(join(root, 'a'), 'alpha');
    await writeFile(join(root, 'b'), 'beta');
    await symlink('a', join(root, 'l'));
    const digest = 'e'.repeat(64);
    let cache = await loadHashCache(cacheFile, root);
    const entries = await walkProject(root);
    expect(cache.digestOf(entries)).toBeUndefined();
    await hashEntries(root, entries, cache);
    await cache.save(entries, digest);

    cache = await loadHashCache(cacheFile, root);
    expect(cache.digestOf(await walkProject(root))).toBe(digest);
    // Saving the same entries and digest again writes nothing.
    const before = (await stat(cacheFile)).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await cache.save(await walkProject(root), digest);
    expect((await stat(cacheFile)).mtimeMs).toBe(before);

    // A changed time, a new file, a removed file, a retargeted symlink, a mode change: unknown.
    await utimes(join(root, 'b'), new Date(7000), new Date(7000));
    expect(cache.digestOf(await walkProject(root))).toBeUndefined();
    await cache.save(entries, digest);
    await writeFile(join(root, 'c'), 'gamma');
    expect(cache.digestOf(await walkProject(root))).toBeUndefined();
    await rm(join(root, 'c'));
    await rm(join(root, 'l'));
    expect(cache.digestOf(await walkProject(root))).toBeUndefined();
    // The saved entries themselves still match; the same stats with another target or mode do not.
    expect(cache.digestOf(entries)).toBe(digest);
    expect(
      cache.digestOf(entries.map((e) => (e.type === 'symlink' ? { ...e, target: 'b' } : e))),
    ).toBeUndefined();
    expect(cache.digestOf(entries.map((e) => (e.path === 'a' ? { ...e, mode: 0o755 } : e)))).toBeUndefined();
  });

  it('answers savedTree with the tree entries given to save, when they are those entries', async () => {
    await writeFile(join(root, 'a'), 'alpha');
    await writeFile(join(root, 'b'), 'beta');
    const cache = await loadHashCache(cacheFile, root);
    const entries = await walkProject(root);
    const { hashes } = await hashEntries(root, entries, cache);
    const tree = entries.map((e, i) => ({
      type: 'file' as const,
      path: e.path,
      size: e.size,
      executable: false,
      sha256: hashes[i]!,
    }));
    await cache.save(entries, 'a'.repeat(64), tree);
    expect(cache.savedTree()?.entries).toBe(tree);
    // The same, made again from the file, for a fresh process.
    expect((await loadHashCache(cacheFile, root)).savedTree()?.entries).toEqual(tree);
    // Entries that are not the saved ones (another order, one missing) are not taken.
    await writeFile(join(root, 'c'), 'gamma');
    const more = await walkProject(root);
    await hashEntries(root, more, cache);
    await cache.save(more, 'b'.repeat(64), tree);
    const rebuilt = cache.savedTree()?.entries;
    expect(rebuilt).not.toBe(tree);
    expect(rebuilt?.map((e) => e.path)).toEqual(['a', 'b', 'c']);
  });

  it('forgets the digest when a file in the list was never hashed', async () => {
    await writeFile(join(root, 'a'), 'alpha');
    const cache = await loadHashCache(cacheFile, root);
    const entries = await walkProject(root);
    await cache.save(entries, 'f'.repeat(64));
    expect((await loadHashCache(cacheFile, root)).digestOf(entries)).toBeUndefined();
  });

  it('ignores a cache of another directory or a corrupt file', async () => {
    await writeFile(join(root, 'a'), 'alpha');
    await writeFile(cacheFile, '{not json');
    const cache = await loadHashCache(cacheFile, root);
    expect((await hashEntries(root, await walkProject(root), cache)).hashed).toBe(1);
    await cache.save(await walkProject(root));
    const other = await loadHashCache(cacheFile, '/somewhere/else');
    expect((await hashEntries(root, await walkProject(root), other)).hashed).toBe(1);
  });

  it('lives under XDG_CACHE_HOME or ~/.cache, one file per directory', () => {
    expect(hashCachePath('/p', { XDG_CACHE_HOME: '/c' })).toMatch(
      /^\/c\/mirrord-mcp-server\/sync\/[0-9a-f]{32}\.cache$/,
    );
    expect(hashCachePath('/p', { HOME: '/h' })).toMatch(/^\/h\/\.cache\/mirrord-mcp-server\/sync\//);
    expect(hashCachePath('/p', { HOME: '/h' })).not.toBe(hashCachePath('/q', { HOME: '/h' }));
  });
});
