import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { frameHeader } from '../../../src/workspace/upload-frames.js';
import { parseManifest } from '../../../src/workspace/wire-manifest.js';
import {
  createWorkspaceStore,
  type WorkspaceLimits,
  type WorkspaceStore,
} from '../../../src/workspace/workspace-store.js';

const logger = createLogger('silent');
const owner = 'anonymous';
const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

interface LocalFile {
  content?: string;
  mode?: number;
  target?: string;
}

function manifest(files: Record<string, LocalFile>): { entries: unknown[] } {
  return {
    entries: Object.entries(files).map(([path, file]) =>
      file.target !== undefined
        ? { path, type: 'symlink', target: file.target }
        : {
            path,
            size: Buffer.byteLength(file.content ?? ''),
            mode: file.mode ?? 0o644,
            sha256: sha(file.content ?? ''),
          },
    ),
  };
}

function body(parts: Buffer[]): AsyncIterable<Uint8Array> {
  return Readable.from(parts);
}

function frames(contents: string[]): Buffer[] {
  return contents.flatMap((content) => [
    frameHeader(sha(content), Buffer.byteLength(content)),
    Buffer.from(content),
  ]);
}

let dataDir: string;
let clock: number;
let store: WorkspaceStore;
const defaults: WorkspaceLimits = {
  maxFiles: 100,
  maxBytes: 10_000,
  maxTotalBytes: 20_000,
  idleTtlS: 3600,
  syncIdleTimeoutS: 60,
  maxBatchBytes: 4096,
  maxBatchFiles: 50,
};

async function openStore(limits: Partial<WorkspaceLimits> = {}): Promise<WorkspaceStore> {
  const opened = createWorkspaceStore({
    dataDir,
    limits: { ...defaults, ...limits },
    logger,
    now: () => clock,
  });
  await opened.open();
  return opened;
}

/** A full sync through the store's API, as the HTTP routes drive it. */
async function sync(name: string, files: Record<string, LocalFile>, target = store) {
  const begun = await target.beginSync(owner, name, manifest(files));
  if (begun.unchanged) return { begun, committed: undefined };
  const wanted = new Set(begun.missing.map((m) => m.sha256));
  const contents = [
    ...new Set(Object.values(files).flatMap((f) => (f.target === undefined ? [f.content ?? ''] : []))),
  ];
  await target.upload(owner, name, begun.syncId, body(frames(contents.filter((c) => wanted.has(sha(c))))));
  return { begun, committed: await target.commit(owner, name, begun.syncId) };
}

async function treeOf(name: string, target = store): Promise<Record<string, string>> {
  const lease = target.lease(owner, name);
  try {
    const out: Record<string, string> = {};
    const walk = async (rel: string): Promise<void> => {
      for (const entry of (await readdir(join(lease.dir, rel))).sort()) {
        const path = rel ? `${rel}/${entry}` : entry;
        const info = await lstat(join(lease.dir, path));
        if (info.isDirectory()) await walk(path);
        else if (info.isSymbolicLink()) out[path] = `-> ${await readlink(join(lease.dir, path))}`;
        else
          out[path] =
            `${(info.mode & 0o100) !== 0 ? 'x ' : ''}${await readFile(join(lease.dir, path), 'utf8')}`;
      }
    };
    await walk('');
    return out;
  } finally {
    lease.release();
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AppError) return error.code;
  throw new Error(`expected an AppError, got ${String(error)}`);
}

const v1 = {
  'src/app.ts': { content: 'console.log(1)\n' },
  'run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  'README.md': { content: 'readme\n' },
  'docs/link': { target: '../README.md' },
};

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mms-store-'));
  clock = 1_000_000;
  store = await openStore();
});

afterEach(async () => {
  await store.idle();
  await rm(dataDir, { recursive: true, force: true });
});

describe('sync', () => {
  it('materializes the tree with executable bits and symlinks, and asks only for missing blobs', async () => {
    const { begun, committed } = await sync('app', v1);
    expect(begun.unchanged).toBe(false);
    expect(begun.unchanged ? 0 : begun.missing.length).toBe(3);
    expect(committed?.changed).toEqual({ added: 4, updated: 0, removed: 0 });
    expect(await treeOf('app')).toEqual({
      'README.md': 'readme\n',
      'docs/link': '-> ../README.md',
      'run.sh': 'x #!/bin/sh\necho hi\n',
      'src/app.ts': 'console.log(1)\n',
    });
    expect(store.summary(owner, 'app')).toMatchObject({ files: 4, bytes: 40, syncing: false });
  });

  it('answers an identical manifest with unchanged and keeps the tree', async () => {
    const first = await sync('app', v1);
    const again = await store.beginSync(owner, 'app', manifest(v1));
    expect(again.unchanged).toBe(true);
    expect(store.summary(owner, 'app').treeId).toBe(first.committed?.summary.treeId);
  });

  it('sends only changed content on re-sync; deleted files disappear', async () => {
    await sync('app', v1);
    const v2 = { ...v1, 'src/app.ts': { content: 'console.log(2)\n' }, 'new.txt': { content: 'readme\n' } };
    delete (v2 as Record<string, unknown>)['run.sh'];
    const { begun, committed } = await sync('app', v2);
    expect(begun.unchanged ? [] : begun.missing.map((m) => m.sha256)).toEqual([sha('console.log(2)\n')]);
    expect(committed?.changed).toEqual({ added: 1, updated: 1, removed: 1 });
    const tree = await treeOf('app');
    expect(tree['run.sh']).toBeUndefined();
    expect(tree['new.txt']).toBe('readme\n');
    expect(tree['src/app.ts']).toBe('console.log(2)\n');
  });

  it('builds a tree by patching an unused older one exactly as it would build it anew', async () => {
    await sync('app', v1);
    await sync('app', { ...v1, 'src/app.ts': { content: 'console.log(2)\n' } });
    await store.idle();
    // The third tree is patched from the first (never leased): a file becomes a directory, a
    // directory a file, a symlink changes, an executable bit goes, a file and a directory disappear.
    const v3 = {
      'README.md/inner.txt': { content: 'inner\n' },
      docs: { content: 'docs are a file now\n' },
      'run.sh': { content: '#!/bin/sh\necho hi\n' },
      'deep/a/b/c.txt': { content: 'deep\n' },
      link: { target: 'run.sh' },
    };
    const { committed } = await sync('app', v3);
    expect(committed?.changed).toEqual({ added: 4, updated: 1, removed: 3 });
    expect(await treeOf('app')).toEqual({
      'README.md/inner.txt': 'inner\n',
      'deep/a/b/c.txt': 'deep\n',
      docs: 'docs are a file now\n',
      link: '-> run.sh',
      'run.sh': '#!/bin/sh\necho hi\n',
    });
    await store.idle();
    // One spare tree beside the current one, holding no blob that no tree needs any more.
    const trees = await readdir(join(dataDir, 'workspaces'), { recursive: true });
    expect(trees.filter((t) => /trees\/[^/]+$/.test(t) && !t.endsWith('.json'))).toHaveLength(2);
    expect(trees.some((t) => t.endsWith('src/app.ts'))).toBe(false);
  });

  it('keeps a file whose only change is its executable bit apart from its twin', async () => {
    await sync('app', { a: { content: 'same' }, b: { content: 'same', mode: 0o755 } });
    expect(await treeOf('app')).toEqual({ a: 'same', b: 'x same' });
  });

  it('collects the old tree and unreferenced blobs once no run uses them', async () => {
    await sync('app', v1);
    const lease = store.lease(owner, 'app');
    await sync('app', { 'only.txt': { content: 'only' } });
    await store.idle();
    // The leased tree is intact for its run...
    expect(await readFile(join(lease.dir, 'src/app.ts'), 'utf8')).toBe('console.log(1)\n');
    lease.release();
    await store.idle();
    // ...and gone after it.
    await expect(stat(lease.dir)).rejects.toThrow();
    const blobs = await readdir(join(lease.dir, '..', '..', 'blobs'));
    expect(blobs).toEqual([sha('only')]);
  });

  it('refuses a commit before every blob arrived, and a second sync while one is going', async () => {
    const begun = await store.beginSync(owner, 'app', manifest(v1));
    if (begun.unchanged) throw new Error('expected a sync');
    expect(await codeOf(store.commit(owner, 'app', begun.syncId))).toBe('MISSING_BLOBS');
    expect(await codeOf(store.beginSync(owner, 'app', manifest(v1)))).toBe('SYNC_IN_PROGRESS');
    expect(await codeOf(store.writeFiles(owner, 'app', [{ path: 'x', content: Buffer.from('x') }]))).toBe(
      'SYNC_IN_PROGRESS',
    );
    await store.abort(owner, 'app', begun.syncId);
    expect(await codeOf(store.commit(owner, 'app', begun.syncId))).toBe('WORKSPACE_NOT_FOUND');
  });

  it('lets a new sync replace one abandoned for syncIdleTimeoutS', async () => {
    await sync('app', v1);
    const stale = await store.beginSync(owner, 'app', manifest({ a: { content: 'a' } }));
    if (stale.unchanged) throw new Error('expected a sync');
    clock += 61_000;
    const { committed } = await sync('app', { b: { content: 'b' } });
    expect(committed?.summary.files).toBe(1);
    expect(await codeOf(store.commit(owner, 'app', stale.syncId))).toBe('SYNC_NOT_FOUND');
  });

  it('refuses an unknown sync id', async () => {
    await sync('app', v1);
    expect(await codeOf(store.commit(owner, 'app', 'nope'))).toBe('SYNC_NOT_FOUND');
    expect(await codeOf(store.upload(owner, 'app', 'nope', body([])))).toBe('SYNC_NOT_FOUND');
  });
});

describe('attacks and faults leave the previous tree intact', () => {
  const cases: [string, (syncId: string) => Promise<unknown>, string][] = [
    [
      'a hash mismatch',
      (id) => store.upload(owner, 'app', id, body([frameHeader(sha('evil!'), 5), Buffer.from('EVIL!')])),
      'HASH_MISMATCH',
    ],
    [
      'a blob that was not asked for',
      (id) => store.upload(owner, 'app', id, body(frames(['unrelated']))),
      'UNEXPECTED_BLOB',
    ],
    [
      'a blob larger than declared',
      (id) => store.upload(owner, 'app', id, body([frameHeader(sha('evil!'), 6), Buffer.from('evil!!')])),
      'UPLOAD_TOO_LARGE',
    ],
    [
      'a blob sent twice',
      (id) => store.upload(owner, 'app', id, body(frames(['evil!', 'evil!']))),
      'UNEXPECTED_BLOB',
    ],
    [
      'an upload interrupted half way',
      (id) => store.upload(owner, 'app', id, body([frameHeader(sha('evil!'), 5), Buffer.from('ev')])),
      'HASH_MISMATCH',
    ],
  ];

  it.each(cases)('%s', async (_label, attack, code) => {
    await sync('app', v1);
    const before = await treeOf('app');
    const begun = await store.beginSync(owner, 'app', manifest({ ...v1, 'evil.txt': { content: 'evil!' } }));
    if (begun.unchanged) throw new Error('expected a sync');
    expect(await codeOf(attack(begun.syncId))).toBe(code);
    // The failed upload ended the sync: its commit is refused, the tree is as before.
    expect(await codeOf(store.commit(owner, 'app', begun.syncId))).toBe('SYNC_NOT_FOUND');
    expect(await treeOf('app')).toEqual(before);
    const left = await readdir(join(dataDir, 'workspaces'), { recursive: true });
    expect(left.filter((p) => p.includes('/tmp/'))).toEqual([]);
  });

  it('keeps whole blobs of an interrupted upload, so the retry sends only the rest', async () => {
    await sync('app', v1);
    const files = { ...v1, 'one.txt': { content: 'one' }, 'two.txt': { content: 'two' } };
    const begun = await store.beginSync(owner, 'app', manifest(files));
    if (begun.unchanged) throw new Error('expected a sync');
    const parts = frames(['one', 'two']);
    await codeOf(
      store.upload(owner, 'app', begun.syncId, body([...parts.slice(0, 3), parts[3]!.subarray(0, 1)])),
    );
    const retry = await store.beginSync(owner, 'app', manifest(files));
    expect(retry.unchanged ? [] : retry.missing.map((m) => m.sha256)).toEqual([sha('two')]);
  });

  it('hands a big upload to the writer thread: every blob whole, an interruption keeps the tree and the blobs written', async () => {
    const big = await openStore({
      maxFiles: 1000,
      maxBytes: 1_000_000,
      maxTotalBytes: 1_000_000,
      maxBatchFiles: 1000,
      maxBatchBytes: 1_000_000,
    });
    await sync('app', v1, big);
    const before = await treeOf('app', big);
    const files: Record<string, LocalFile> = { ...v1 };
    const contents = Array.from({ length: 300 }, (_, i) => `file ${i} `.repeat(1 + (i % 17)));
    contents.forEach((content, i) => (files[`many/f${i}`] = { content }));
    const begun = await big.beginSync(owner, 'app', manifest(files));
    if (begun.unchanged) throw new Error('expected a sync');
    // All frames in one chunk, cut inside the 201st blob.
    const parts = frames(contents);
    const cut = Buffer.concat([...parts.slice(0, 401), parts[401]!.subarray(0, 3)]);
    expect(await codeOf(big.upload(owner, 'app', begun.syncId, body([cut])))).toBe('HASH_MISMATCH');
    expect(await treeOf('app', big)).toEqual(before);

    const retry = await big.beginSync(owner, 'app', manifest(files));
    if (retry.unchanged) throw new Error('expected a sync');
    expect(retry.missing).toHaveLength(100);
    const wanted = new Set(retry.missing.map((m) => m.sha256));
    await big.upload(
      owner,
      'app',
      retry.syncId,
      body([Buffer.concat(frames(contents.filter((c) => wanted.has(sha(c)))))]),
    );
    await big.commit(owner, 'app', retry.syncId);
    const after = await treeOf('app', big);
    contents.forEach((content, i) => {
      expect(after[`many/f${i}`]).toBe(content);
    });
    await big.idle();
  });

  it.each([
    ['too many files', { maxFiles: 3 }, 'TOO_MANY_FILES'],
    ['too many bytes', { maxBytes: 10 }, 'WORKSPACE_TOO_LARGE'],
  ])('%s per workspace', async (_label, limits, code) => {
    await sync('app', { a: { content: 'a' } });
    const small = await openStore(limits);
    expect(await codeOf(small.beginSync(owner, 'app', manifest(v1)))).toBe(code);
    expect(await treeOf('app', small)).toEqual({ a: 'a' });
    await small.idle();
  });

  it('the total over all workspaces', async () => {
    const small = await openStore({ maxTotalBytes: 60, maxBytes: 50 });
    await sync('one', v1, small);
    expect(await codeOf(small.beginSync(owner, 'two', manifest(v1)))).toBe('QUOTA_EXCEEDED');
    // Replacing a workspace's own tree counts its new size, not both.
    const { committed } = await sync('one', { ...v1, 'x.txt': { content: 'x' } }, small);
    expect(committed?.summary.files).toBe(5);
    await small.idle();
  });

  it('a batch over the limits', async () => {
    const small = await openStore({ maxBatchFiles: 1, maxBatchBytes: 1024 });
    const begun = await small.beginSync(owner, 'app', manifest({ a: { content: 'a' }, b: { content: 'b' } }));
    if (begun.unchanged) throw new Error('expected a sync');
    expect(await codeOf(small.upload(owner, 'app', begun.syncId, body(frames(['a', 'b']))))).toBe(
      'UPLOAD_TOO_LARGE',
    );
    await small.idle();
  });

  it('unsafe manifests', async () => {
    await sync('app', v1);
    const evils: Record<string, LocalFile>[] = [
      { '../x': { content: 'x' } },
      { 'a\\b': { content: 'x' } },
      { '/etc/passwd': { content: 'x' } },
      { 'a\0b': { content: 'x' } },
      { link: { target: '../../etc' } },
    ];
    for (const evil of evils) {
      expect(['INVALID_PATH', 'SYMLINK_ESCAPE']).toContain(
        await codeOf(store.beginSync(owner, 'app', manifest(evil))),
      );
    }
    expect(await codeOf(store.beginSync(owner, '../app', manifest(v1)))).toBe('INVALID_WORKSPACE_NAME');
    expect(await treeOf('app')).toEqual(await treeOf('app'));
    expect(store.summary(owner, 'app').files).toBe(4);
  });
});

describe('delta sync', () => {
  const entryOf = (path: string, content: string) => ({
    path,
    size: Buffer.byteLength(content),
    mode: 0o644,
    sha256: sha(content),
  });

  it('applies changes and removals against the base: the same tree as a full manifest would make', async () => {
    await sync('app', v1);
    const base = store.summary(owner, 'app').digest!;
    const v2: Record<string, LocalFile> = {
      ...v1,
      'src/app.ts': { content: 'console.log(2)\n' },
      'new/n.txt': { content: 'n' },
    };
    delete v2['README.md'];
    delete v2['docs/link'];
    const expected = parseManifest(manifest(v2), defaults).digest;
    const begun = await store.beginSync(owner, 'app', {
      base,
      digest: expected,
      changes: [entryOf('src/app.ts', 'console.log(2)\n'), entryOf('new/n.txt', 'n')],
      removed: ['README.md', 'docs/link'],
    });
    if (begun.unchanged) throw new Error('expected a sync');
    expect(begun.missing.map((m) => m.sha256).sort()).toEqual([sha('console.log(2)\n'), sha('n')].sort());
    await store.upload(owner, 'app', begun.syncId, body(frames(['console.log(2)\n', 'n'])));
    const committed = await store.commit(owner, 'app', begun.syncId);
    expect(committed.changed).toEqual({ added: 1, updated: 1, removed: 2 });
    expect(committed.summary.digest).toBe(expected);
    expect(await treeOf('app')).toEqual({
      'new/n.txt': 'n',
      'run.sh': 'x #!/bin/sh\necho hi\n',
      'src/app.ts': 'console.log(2)\n',
    });
    // An empty delta is "unchanged".
    const again = await store.beginSync(owner, 'app', {
      base: expected,
      digest: expected,
      changes: [],
      removed: [],
    });
    expect(again.unchanged).toBe(true);
  });

  it('refuses a delta against another base, or one that makes another tree than the client expects', async () => {
    await sync('app', v1);
    const before = store.summary(owner, 'app');
    const change = [entryOf('README.md', 'new readme\n')];
    expect(
      await codeOf(
        store.beginSync(owner, 'app', {
          base: 'f'.repeat(64),
          digest: 'f'.repeat(64),
          changes: change,
          removed: [],
        }),
      ),
    ).toBe('BASE_MISMATCH');
    expect(
      await codeOf(
        store.beginSync(owner, 'app', {
          base: before.digest,
          digest: 'f'.repeat(64),
          changes: change,
          removed: [],
        }),
      ),
    ).toBe('BASE_MISMATCH');
    // No workspace yet: no base either.
    expect(
      await codeOf(
        store.beginSync(owner, 'fresh', {
          base: before.digest,
          digest: before.digest,
          changes: [],
          removed: [],
        }),
      ),
    ).toBe('BASE_MISMATCH');
    expect(await codeOf(store.beginSync(owner, 'app', { base: before.digest, changes: change }))).toBe(
      'INVALID_MANIFEST',
    );
    expect(store.summary(owner, 'app')).toEqual(before);
    expect(store.summary(owner, 'app').syncing).toBe(false);
  });

  it('refuses traversal, escapes, conflicts and quotas in a delta, leaving the tree intact', async () => {
    await sync('app', v1);
    const before = store.summary(owner, 'app');
    const digest = before.digest!;
    const cases: [unknown[], string[], string][] = [
      [[entryOf('../../etc/cron.d/x', 'x')], [], 'INVALID_PATH'],
      [[entryOf('/etc/passwd', 'x')], [], 'INVALID_PATH'],
      [[], ['../README.md'], 'INVALID_PATH'],
      [[{ path: 'l', type: 'symlink', target: '../../etc' }], [], 'SYMLINK_ESCAPE'],
      // Below the base's symlink docs/link and below its file README.md.
      [[entryOf('docs/link/x', 'x')], [], 'PATH_CONFLICT'],
      [[entryOf('README.md/x', 'x')], [], 'PATH_CONFLICT'],
      // A file where the base has a directory.
      [[entryOf('src', 'x')], [], 'PATH_CONFLICT'],
      [[], ['not-there'], 'INVALID_MANIFEST'],
      [[entryOf('big', 'x'.repeat(10_000))], [], 'WORKSPACE_TOO_LARGE'],
      [Array.from({ length: 97 }, (_, i) => entryOf(`f${i}`, 'x')), [], 'TOO_MANY_FILES'],
    ];
    for (const [changes, removed, code] of cases) {
      // The client's expected digest does not matter: the delta is refused before it is compared.
      expect(await codeOf(store.beginSync(owner, 'app', { base: digest, digest, changes, removed }))).toBe(
        code,
      );
    }
    expect(store.summary(owner, 'app')).toEqual(before);
    expect(await treeOf('app')).toEqual({
      'README.md': 'readme\n',
      'docs/link': '-> ../README.md',
      'run.sh': 'x #!/bin/sh\necho hi\n',
      'src/app.ts': 'console.log(1)\n',
    });
  });
});

describe('writeFiles', () => {
  it('creates a workspace, replaces, deletes (a directory too) atomically', async () => {
    const created = await store.writeFiles(owner, 'w', [
      { path: 'a.txt', content: Buffer.from('a') },
      { path: 'd/x', content: Buffer.from('x') },
      { path: 'd/y', content: Buffer.from('y'), executable: true },
    ]);
    expect(created.changed).toEqual({ added: 3, updated: 0, removed: 0 });
    const next = await store.writeFiles(owner, 'w', [
      { path: 'd', delete: true },
      { path: 'a.txt', content: Buffer.from('A') },
      { path: 'd', content: Buffer.from('now a file') },
    ]);
    expect(next.changed).toEqual({ added: 1, updated: 1, removed: 2 });
    expect(await treeOf('w')).toEqual({ 'a.txt': 'A', d: 'now a file' });
  });

  it('keeps the executable bit of a file it replaces', async () => {
    await store.writeFiles(owner, 'w', [{ path: 's.sh', content: Buffer.from('1'), executable: true }]);
    await store.writeFiles(owner, 'w', [{ path: 's.sh', content: Buffer.from('2') }]);
    expect(await treeOf('w')).toEqual({ 's.sh': 'x 2' });
  });

  it('changes nothing when one change is invalid', async () => {
    await store.writeFiles(owner, 'w', [{ path: 'a', content: Buffer.from('a') }]);
    expect(
      await codeOf(
        store.writeFiles(owner, 'w', [
          { path: 'b', content: Buffer.from('b') },
          { path: 'gone', delete: true },
        ]),
      ),
    ).toBe('PATH_NOT_FOUND');
    expect(await codeOf(store.writeFiles(owner, 'w', [{ path: 'a/b', content: Buffer.from('b') }]))).toBe(
      'PATH_CONFLICT',
    );
    expect(await codeOf(store.writeFiles(owner, 'w', [{ path: 'big', content: Buffer.alloc(20_000) }]))).toBe(
      'WORKSPACE_TOO_LARGE',
    );
    expect(await treeOf('w')).toEqual({ a: 'a' });
  });

  it('leaves no workspace behind when creating one fails', async () => {
    expect(await codeOf(store.writeFiles(owner, 'fresh', [{ path: 'x', delete: true }]))).toBe(
      'PATH_NOT_FOUND',
    );
    await store.idle();
    expect(store.list(owner)).toEqual([]);
    expect(await codeOf(Promise.resolve().then(() => store.lease(owner, 'fresh')))).toBe(
      'WORKSPACE_NOT_FOUND',
    );
  });
});

describe('ownership, expiry and restart', () => {
  it('shows a workspace to its owner only', async () => {
    await sync('app', v1);
    expect(store.list('someone-else')).toEqual([]);
    expect(await codeOf(Promise.resolve().then(() => store.lease('someone-else', 'app')))).toBe(
      'WORKSPACE_NOT_FOUND',
    );
    expect(store.list(owner).map((w) => w.name)).toEqual(['app']);
  });

  it('expires an idle workspace, but not one a run uses', async () => {
    await sync('app', v1);
    await sync('busy', v1);
    const lease = store.lease(owner, 'busy');
    clock += 3601_000;
    await store.sweep();
    await store.idle();
    expect(store.list(owner).map((w) => w.name)).toEqual(['busy']);
    lease.release();
    clock += 3601_000;
    await store.sweep();
    await store.idle();
    expect(store.list(owner)).toEqual([]);
    expect(await readdir(join(dataDir, 'trash'))).toEqual([]);
  });

  it('comes back after a restart with the same trees and blobs', async () => {
    await sync('app', v1);
    const before = await treeOf('app');
    await store.idle();
    const reopened = await openStore();
    expect(await treeOf('app', reopened)).toEqual(before);
    expect((await reopened.beginSync(owner, 'app', manifest(v1))).unchanged).toBe(true);
    const more = await reopened.beginSync(owner, 'app', manifest({ ...v1, n: { content: 'readme\n' } }));
    expect(more.unchanged ? null : more.missing).toEqual([]);
    await reopened.idle();
  });

  it('trusts after a restart only the blobs of the current tree, asking again for any other', async () => {
    await sync('app', v1);
    await store.idle();
    // What an upload that died half way leaves: a blob file under its final name, cut short.
    const lease = store.lease(owner, 'app');
    const blobs = join(lease.dir, '..', '..', 'blobs');
    lease.release();
    await writeFile(join(blobs, sha('half written')), 'half');
    const reopened = await openStore();
    expect(await readdir(blobs)).not.toContain(sha('half written'));
    const begun = await reopened.beginSync(owner, 'app', manifest({ ...v1, n: { content: 'half written' } }));
    expect(begun.unchanged ? null : begun.missing).toEqual([{ sha256: sha('half written'), size: 12 }]);
    await reopened.idle();
  });

  it('removes a workspace on request, refusing while a run uses it', async () => {
    await sync('app', v1);
    const lease = store.lease(owner, 'app');
    expect(await codeOf(store.remove(owner, 'app'))).toBe('SYNC_IN_PROGRESS');
    lease.release();
    await store.remove(owner, 'app');
    expect(store.list(owner)).toEqual([]);
  });
});
