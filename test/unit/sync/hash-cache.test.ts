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
    const first = await hashEntries(root, await walkProject(root), cache);
    expect(first.hashed).toBe(3);
    expect(first.hashes.get('a')).toBe('8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8');
    await cache.save(await walkProject(root));

    cache = await loadHashCache(cacheFile, root);
    expect((await hashEntries(root, await walkProject(root), cache)).hashed).toBe(0);

    await writeFile(join(root, 'b'), 'BETA');
    await utimes(join(root, 'b'), new Date(5000), new Date(5000));
    await rm(join(root, 'a'));
    const third = await hashEntries(root, await walkProject(root), cache);
    expect(third.hashed).toBe(1);
    await cache.save(await walkProject(root));
    const saved = JSON.parse(await readFile(cacheFile, 'utf8'));
    expect(saved.paths).toEqual(['b', 'big']);
  });

  it('stores columns (paths, five numbers and 64 hex digits per entry, symlink targets)', async () => {
    await writeFile(join(root, 'a'), 'alpha');
    await symlink('a', join(root, 'l'));
    const entries = await walkProject(root);
    const cache = await loadHashCache(cacheFile, root);
    await hashEntries(root, entries, cache);
    await cache.save(entries, 'd'.repeat(64));
    const saved = JSON.parse(await readFile(cacheFile, 'utf8'));
    expect(saved).toMatchObject({
      version: 2,
      root,
      digest: 'd'.repeat(64),
      paths: ['a', 'l'],
      links: [[1, 'a']],
    });
    expect(saved.numbers).toHaveLength(10);
    expect(saved.hashes).toBe(
      `8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8${'-'.repeat(64)}`,
    );
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
      /^\/c\/mirrord-mcp-server\/sync\/[0-9a-f]{32}\.json$/,
    );
    expect(hashCachePath('/p', { HOME: '/h' })).toMatch(/^\/h\/\.cache\/mirrord-mcp-server\/sync\//);
    expect(hashCachePath('/p', { HOME: '/h' })).not.toBe(hashCachePath('/q', { HOME: '/h' }));
  });
});
