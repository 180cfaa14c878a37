import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  blobWriterThread,
  createBlobWriter,
  createTmpNames,
  smallBlobBytes,
  storeSmallBlob,
  writeBlob,
} from './blob-writer.js';
import { blobPath, newTreeId, workspaceLayout, type WorkspaceLayout } from './layout.js';
import { buildTree, type FileEntry, type Tree, type TreeEntry } from './manifest.js';
import { createMutex } from './mutex.js';
import { parseWorkspaceName } from './paths.js';
import { dirsOf, ensureExecutableBlob, materializeTree, patchTree, switchCurrent } from './tree-writer.js';
import { receiveFrames } from './upload-frames.js';
import { applyDelta, compareEntries } from './tree-delta.js';
import { parseSyncRequest, type InlineBlob } from './wire-manifest.js';
import type { SyncSession, WorkspaceState } from './workspace-state.js';

export interface WorkspaceLimits {
  maxFiles: number;
  maxBytes: number;
  maxTotalBytes: number;
  idleTtlS: number;
  syncIdleTimeoutS: number;
  maxBatchBytes: number;
  maxBatchFiles: number;
}

export interface WorkspaceStoreDeps {
  dataDir: string;
  limits: WorkspaceLimits;
  logger: Logger;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

export interface WorkspaceSummary {
  name: string;
  files: number;
  bytes: number;
  digest: string | null;
  treeId: string | null;
  committedAt: number | null;
  lastUsedAt: number;
  syncing: boolean;
}

export type BeginSyncResult =
  | { unchanged: true; summary: WorkspaceSummary }
  | {
      unchanged: false;
      syncId: string;
      missing: { sha256: string; size: number }[];
      missingBytes: number;
      /** Of the contents a delta carried, those the sync lacks (to be uploaded as frames). */
      inline: InlineBlob[];
      /** Whether the request asked to commit once nothing is missing. */
      commit: boolean;
    };

export interface CommitResult {
  summary: WorkspaceSummary;
  changed: { added: number; updated: number; removed: number };
}

/** One change of workspace_write_files. */
export type FileChange =
  { path: string; delete: true } | { path: string; content: Buffer; executable?: boolean | undefined };

/** A tree a run uses: it stays on disk, whatever syncs happen, until released. */
export interface TreeLease {
  readonly dir: string;
  readonly treeId: string;
  release(): void;
}

export interface WorkspaceStore {
  readonly limits: WorkspaceLimits;
  /** Scans the data directory: restores workspaces, drops leftovers of a previous process. */
  open(): Promise<void>;
  list(owner: string): WorkspaceSummary[];
  summary(owner: string, name: string): WorkspaceSummary;
  /**
   * Starts a sync from a whole manifest `{entries}`, or from a delta `{base, digest, changes,
   * removed}` against the current tree (BASE_MISMATCH when the current tree is not `base`).
   */
  beginSync(owner: string, name: string, manifest: unknown): Promise<BeginSyncResult>;
  upload(
    owner: string,
    name: string,
    syncId: string,
    body: AsyncIterable<Uint8Array>,
  ): Promise<{ received: number; remaining: number }>;
  commit(owner: string, name: string, syncId: string): Promise<CommitResult>;
  abort(owner: string, name: string, syncId: string): Promise<void>;
  writeFiles(owner: string, name: string, changes: readonly FileChange[]): Promise<CommitResult>;
  /** Leases the current tree for a run (or a read); unknown workspace = WORKSPACE_NOT_FOUND. */
  lease(owner: string, name: string): TreeLease;
  remove(owner: string, name: string): Promise<void>;
  /** Expires idle workspaces and abandoned syncs, collects unused trees and blobs. */
  sweep(): Promise<void>;
  /** Waits for background work (garbage collection) to finish. */
  idle(): Promise<void>;
}

const useFlushMs = 10_000;
/** Streamed blobs written at once during an upload. */
const writeParallelism = 32;
/** Small blobs of one upload being written at once (each held in memory until it is), and their bytes. */
const wholeInFlight = 512;
const wholeInFlightBytes = 8 * 1024 * 1024;
/** Small blobs an upload writes itself before it hands the rest to the writer thread. */
const threadAfterBlobs = 64;

/** The workspace store: content-addressed blobs per workspace, trees of hard links, atomic switch. */
export function createWorkspaceStore(deps: WorkspaceStoreDeps): WorkspaceStore {
  const { dataDir, limits, logger } = deps;
  const now = deps.now ?? Date.now;
  const workspaces = new Map<string, WorkspaceState>();
  const background = new Set<Promise<void>>();
  const trash = join(dataDir, 'trash');
  const key = (owner: string, name: string): string => `${owner}\0${name}`;
  const tmpName = createTmpNames();

  function stateOf(owner: string, name: string): WorkspaceState | undefined {
    const state = workspaces.get(key(owner, parseWorkspaceName(name)));
    return state && !state.removed ? state : undefined;
  }

  function existing(
    owner: string,
    name: string,
  ): WorkspaceState & { current: NonNullable<WorkspaceState['current']> } {
    const state = stateOf(owner, name);
    if (!state?.current) {
      throw new AppError('WORKSPACE_NOT_FOUND', `there is no workspace named ${JSON.stringify(name)}`);
    }
    return state as WorkspaceState & { current: NonNullable<WorkspaceState['current']> };
  }

  function newState(owner: string, name: string, layout: WorkspaceLayout): WorkspaceState {
    return {
      owner,
      name,
      layout,
      mutex: createMutex(),
      current: undefined,
      blobs: new Set(),
      leases: new Map(),
      sync: undefined,
      retained: new Map(),
      spare: undefined,
      everLeased: new Set(),
      lastUsedAt: now(),
      lastPersistedUseAt: 0,
      removed: false,
    };
  }

  async function createState(owner: string, name: string): Promise<WorkspaceState> {
    const found = stateOf(owner, name);
    if (found) return found;
    const layout = workspaceLayout(dataDir, owner, name);
    for (const dir of [layout.blobs, layout.trees, layout.tmp]) await mkdir(dir, { recursive: true });
    await writeFile(layout.info, JSON.stringify({ owner, name }));
    const state = newState(owner, name, layout);
    workspaces.set(key(owner, name), state);
    return state;
  }

  function touch(state: WorkspaceState): void {
    state.lastUsedAt = now();
    // The last use survives a restart as the directory's mtime; written at most every few seconds.
    if (state.lastUsedAt - state.lastPersistedUseAt >= useFlushMs) {
      state.lastPersistedUseAt = state.lastUsedAt;
      const when = new Date(state.lastUsedAt);
      utimes(state.layout.root, when, when).catch(() => undefined);
    }
  }

  function summarize(state: WorkspaceState): WorkspaceSummary {
    return {
      name: state.name,
      files: state.current?.tree.files ?? 0,
      bytes: state.current?.tree.bytes ?? 0,
      digest: state.current?.tree.digest ?? null,
      treeId: state.current?.id ?? null,
      committedAt: state.current?.committedAt ?? null,
      lastUsedAt: state.lastUsedAt,
      syncing: state.sync !== undefined,
    };
  }

  /** Bytes all workspaces hold or are about to hold (a sync reserves its new tree's size). */
  function totalBytes(except?: WorkspaceState): number {
    let total = 0;
    for (const state of workspaces.values()) {
      if (state.removed || state === except) continue;
      total += Math.max(state.current?.tree.bytes ?? 0, state.sync?.tree.bytes ?? 0);
    }
    return total;
  }

  function checkTotal(state: WorkspaceState, tree: Tree): void {
    const others = totalBytes(state);
    if (others + tree.bytes > limits.maxTotalBytes) {
      throw new AppError(
        'QUOTA_EXCEEDED',
        `this tree (${tree.bytes} bytes) would bring the server's workspaces to ${others + tree.bytes} bytes; the limit is ${limits.maxTotalBytes}`,
      );
    }
  }

  function syncExpired(sync: SyncSession): boolean {
    return sync.uploadsInFlight === 0 && now() - sync.lastActivityAt > limits.syncIdleTimeoutS * 1000;
  }

  function activeSync(state: WorkspaceState, syncId: string): SyncSession {
    const sync = state.sync;
    if (sync?.id !== syncId) {
      throw new AppError(
        'SYNC_NOT_FOUND',
        `sync ${syncId} of workspace ${JSON.stringify(state.name)} is not in progress`,
      );
    }
    sync.lastActivityAt = now();
    return sync;
  }

  /** Ends the sync; `collect: false` when the caller has just scheduled a collection itself. */
  function endSync(state: WorkspaceState, reason: string, collect = true): void {
    if (!state.sync) return;
    logger.info({ workspace: state.name, syncId: state.sync.id, reason }, 'sync ended');
    if (reason !== 'committed') {
      const until = now() + limits.syncIdleTimeoutS * 1000;
      for (const sha of state.sync.received) state.retained.set(sha, until);
    }
    state.sync = undefined;
    if (collect) schedule(state);
  }

  async function commitTree(state: WorkspaceState, tree: Tree): Promise<CommitResult> {
    const previous = state.current?.tree;
    // Executable files need their own inode (mode is per inode): made once per blob.
    const needed = new Set<string>();
    for (const entry of tree.entries) if (entry.type === 'file' && entry.executable) needed.add(entry.sha256);
    for (const sha of needed) {
      const exists = await stat(blobPath(state.layout, sha, true)).then(
        () => true,
        () => false,
      );
      if (!exists) await ensureExecutableBlob(state.layout, sha);
    }
    const id = newTreeId();
    const spare = state.spare;
    state.spare = undefined;
    let patched = false;
    if (spare) {
      try {
        await patchTree(state.layout, spare, id, tree);
        patched = true;
      } catch (error) {
        logger.warn({ err: error, workspace: state.name }, 'could not reuse an old tree; building anew');
      }
    }
    if (!patched) await materializeTree(state.layout, id, tree);
    await switchCurrent(state.layout, id);
    // The tree just superseded becomes the spare for the next commit, unless a run ever held it.
    if (state.current && !state.everLeased.has(state.current.id)) {
      const { id: spareId, tree: spareTree } = state.current;
      state.spare = { id: spareId, entries: [...spareTree.entries], dirs: dirsOf(spareTree.entries) };
    }
    state.current = { id, tree, committedAt: now() };
    touch(state);
    schedule(state);
    return { summary: summarize(state), changed: diff(previous, tree) };
  }

  /** Collects, in the background, trees no run uses and blobs no tree needs. */
  function schedule(state: WorkspaceState): void {
    const work = state.mutex
      .run(() => collect(state))
      .catch((error: unknown) => {
        logger.warn({ err: error, workspace: state.name }, 'workspace garbage collection failed');
      });
    background.add(work);
    void work.finally(() => background.delete(work));
  }

  async function collect(state: WorkspaceState): Promise<void> {
    if (state.removed) return;
    if (state.spare && state.leases.has(state.spare.id)) state.spare = undefined;
    const keepTrees = new Set([
      ...state.leases.keys(),
      ...(state.current ? [state.current.id] : []),
      ...(state.spare ? [state.spare.id] : []),
    ]);
    const keepBlobs = new Set<string>();
    for (const [sha, until] of state.retained) {
      if (until > now()) keepBlobs.add(sha);
      else state.retained.delete(sha);
    }
    // A set: runs usually lease the current tree itself.
    const trees = new Set([
      state.current?.tree,
      state.sync?.tree,
      ...[...state.leases.values()].map((l) => l.tree),
    ]);
    for (const tree of trees) {
      for (const entry of tree?.entries ?? []) if (entry.type === 'file') keepBlobs.add(entry.sha256);
    }
    const doomed: string[] = [];
    for (const name of await readdir(state.layout.trees)) {
      const id = name.replace(/\.json$/, '');
      if (!keepTrees.has(id) && !name.endsWith('.json')) doomed.push(id);
    }
    for (const id of doomed) {
      // Renamed out of the way at once; the slow recursive delete happens outside the lock.
      const gone = join(trash, `${basename(state.layout.root)}-${id}-${randomUUID()}`);
      await rename(join(state.layout.trees, id), gone).catch(() => undefined);
      await rm(join(state.layout.trees, `${id}.json`), { force: true });
      emptyTrash(gone);
    }
    const spare = state.spare;
    if (spare) {
      // The spare must not keep alive, through its hard links, data no counted tree needs.
      const stale = spare.entries.filter((e) => e.type === 'file' && !keepBlobs.has(e.sha256));
      try {
        for (const entry of stale) await rm(join(state.layout.trees, spare.id, entry.path));
        const gone = new Set(stale);
        spare.entries = spare.entries.filter((e) => !gone.has(e));
      } catch {
        state.spare = undefined;
        const trashed = join(trash, `${basename(state.layout.root)}-${spare.id}-${randomUUID()}`);
        await rename(join(state.layout.trees, spare.id), trashed).catch(() => undefined);
        emptyTrash(trashed);
      }
    }
    // The blobs the store knows (every blob written or found at start-up), not a listing of the
    // directory: a commit's collection then costs no system call per blob that stays.
    for (const sha of [...state.blobs]) {
      if (keepBlobs.has(sha)) continue;
      await rm(blobPath(state.layout, sha, false), { force: true });
      await rm(blobPath(state.layout, sha, true), { force: true });
      state.blobs.delete(sha);
    }
  }

  function emptyTrash(path: string): void {
    const work = rm(path, { recursive: true, force: true }).catch((error: unknown) => {
      logger.warn({ err: error, path }, 'could not remove an old tree');
    });
    background.add(work);
    void work.finally(() => background.delete(work));
  }

  async function restore(dir: string): Promise<void> {
    let info: { owner: string; name: string };
    try {
      info = JSON.parse(await readFile(join(dir, 'workspace.json'), 'utf8')) as typeof info;
    } catch {
      logger.warn({ dir }, 'ignoring a workspace directory without workspace.json');
      return;
    }
    const layout = workspaceLayout(dataDir, info.owner, info.name);
    const state = newState(info.owner, info.name, layout);
    state.lastUsedAt = (await stat(layout.root)).mtimeMs;
    await rm(layout.tmp, { recursive: true, force: true });
    await mkdir(layout.tmp, { recursive: true });
    await mkdir(layout.trees, { recursive: true });
    await mkdir(layout.blobs, { recursive: true });
    const target = await readlink(layout.current).catch(() => undefined);
    if (target) {
      const id = basename(target);
      const saved = JSON.parse(await readFile(join(layout.trees, `${id}.json`), 'utf8')) as {
        entries: TreeEntry[];
      };
      const tree = buildTree(saved.entries, {
        maxFiles: Number.MAX_SAFE_INTEGER,
        maxBytes: Number.MAX_SAFE_INTEGER,
      });
      const committedAt = (await stat(join(layout.trees, `${id}.json`))).mtimeMs;
      state.current = { id, tree, committedAt };
    }
    // Only the current tree's blobs are trusted after a restart: they were whole when it was
    // committed. Any other may be one an upload was writing in place when the process died (small
    // blobs are written under their final name, after their hash was checked in memory).
    const committed = new Set<string>();
    for (const entry of state.current?.tree.entries ?? [])
      if (entry.type === 'file') committed.add(entry.sha256);
    for (const name of await readdir(layout.blobs)) {
      const sha = name.replace(/\.x$/, '');
      if (!committed.has(sha)) await rm(join(layout.blobs, name), { force: true });
      else if (sha === name) state.blobs.add(name);
    }
    workspaces.set(key(info.owner, info.name), state);
    schedule(state);
  }

  async function removeState(state: WorkspaceState): Promise<void> {
    state.removed = true;
    workspaces.delete(key(state.owner, state.name));
    const gone = join(trash, `${basename(state.layout.root)}-${randomUUID()}`);
    await rename(state.layout.root, gone).catch(() => undefined);
    emptyTrash(gone);
  }

  const store: WorkspaceStore = {
    limits,

    async open() {
      await mkdir(join(dataDir, 'workspaces'), { recursive: true });
      await rm(trash, { recursive: true, force: true });
      await mkdir(trash, { recursive: true });
      for (const ownerDir of await readdir(join(dataDir, 'workspaces'))) {
        const base = join(dataDir, 'workspaces', ownerDir);
        for (const name of await readdir(base)) await restore(join(base, name));
      }
      logger.info({ dataDir, workspaces: workspaces.size }, 'workspaces ready');
    },

    list(owner) {
      return [...workspaces.values()]
        .filter((state) => state.owner === owner && !state.removed && state.current)
        .map(summarize)
        .sort((a, b) => a.name.localeCompare(b.name));
    },

    summary(owner, name) {
      return summarize(existing(owner, name));
    },

    async beginSync(owner, name, manifest) {
      parseWorkspaceName(name);
      const request = parseSyncRequest(manifest, limits);
      const state = await createState(owner, name);
      return state.mutex.run((): BeginSyncResult => {
        if (state.sync && !syncExpired(state.sync)) {
          throw new AppError(
            'SYNC_IN_PROGRESS',
            `workspace ${JSON.stringify(name)} is being synced (sync ${state.sync.id}, started ${new Date(state.sync.startedAt).toISOString()})`,
          );
        }
        if (state.sync) endSync(state, 'abandoned');
        touch(state);
        const tree = request.kind === 'full' ? request.tree : treeFromDelta(state, request);
        if (state.current?.tree.digest === tree.digest) return { unchanged: true, summary: summarize(state) };
        checkTotal(state, tree);
        const missing = new Map<string, number>();
        // A delta's other entries are the current tree's, whose blobs are all here.
        for (const entry of request.kind === 'delta' ? request.delta.changes : tree.entries) {
          if (entry.type === 'file' && !state.blobs.has(entry.sha256)) missing.set(entry.sha256, entry.size);
        }
        const sync: SyncSession = {
          id: randomUUID(),
          tree,
          missing,
          claimed: new Set(),
          received: new Set(),
          uploadsInFlight: 0,
          lastActivityAt: now(),
          startedAt: now(),
        };
        state.sync = sync;
        logger.info(
          { workspace: name, syncId: sync.id, files: tree.files, missing: missing.size },
          'sync started',
        );
        let missingBytes = 0;
        for (const size of missing.values()) missingBytes += size;
        const inline = request.kind === 'delta' ? request.inline : [];
        const needed = new Set<string>();
        return {
          unchanged: false,
          syncId: sync.id,
          missing: [...missing].map(([sha256, size]) => ({ sha256, size })),
          missingBytes,
          // Each needed one once; the rest (the server has them, or they are not in the delta) are ignored.
          inline: inline.filter((blob) => {
            if (!missing.has(blob.sha256) || needed.has(blob.sha256)) return false;
            needed.add(blob.sha256);
            return true;
          }),
          commit: request.kind === 'delta' && request.commit,
        };
      });
    },

    async upload(owner, name, syncId, body) {
      const state = existingOrSyncing(owner, name);
      const sync = activeSync(state, syncId);
      sync.uploadsInFlight += 1;
      let batchBytes = 0;
      let batchFiles = 0;
      const open = new Set<Awaited<ReturnType<typeof createBlobWriter>>>();
      const writing = new Set<Promise<void>>();
      let wholeBlobs = 0;
      let inFlightBytes = 0;
      let failure: unknown;
      const settle = async (limit: number): Promise<void> => {
        while (writing.size > limit) await Promise.race(writing);
        if (failure !== undefined) throw failure as Error;
      };
      try {
        // What every frame must be: asked for in this sync, once, with its declared size, within the batch limits.
        const accept = (sha256: string, size: number): void => {
          if (state.sync !== sync) {
            throw new AppError('SYNC_NOT_FOUND', `sync ${syncId} ended during the upload`);
          }
          const declared = sync.missing.get(sha256);
          if (declared === undefined || sync.claimed.has(sha256)) {
            throw new AppError(
              'UNEXPECTED_BLOB',
              `blob ${sha256} was not asked for in this sync, or was sent twice`,
            );
          }
          if (size !== declared) {
            throw new AppError(
              'UPLOAD_TOO_LARGE',
              `blob ${sha256} is declared as ${declared} bytes in the manifest, not ${size}`,
            );
          }
          batchFiles += 1;
          if (batchFiles > limits.maxBatchFiles) {
            throw new AppError(
              'UPLOAD_TOO_LARGE',
              `an upload batch holds at most ${limits.maxBatchFiles} blobs`,
            );
          }
          if (batchFiles > 1 && batchBytes + size > limits.maxBatchBytes) {
            throw new AppError(
              'UPLOAD_TOO_LARGE',
              `an upload batch holds at most ${limits.maxBatchBytes} bytes (one larger blob may go alone)`,
            );
          }
          batchBytes += size;
          sync.claimed.add(sha256);
          sync.lastActivityAt = now();
        };
        const received = (sha256: string): void => {
          state.blobs.add(sha256);
          sync.received.add(sha256);
        };
        await receiveFrames(body, {
          // Small blobs arrive whole: verified in memory, then written in the background, several
          // at a time, so that the file system's latency overlaps with receiving the next ones.
          wholeBytes: smallBlobBytes,
          whole: (sha256, data) => {
            if (failure !== undefined) throw failure as Error;
            accept(sha256, data.length);
            const actual = createHash('sha256').update(data).digest('hex');
            if (actual !== sha256) {
              throw new AppError('HASH_MISMATCH', `blob declared as ${sha256} hashes to ${actual}`);
            }
            wholeBlobs += 1;
            inFlightBytes += data.length;
            // Past a few dozen blobs (a first sync, a big change), the writer thread takes them.
            const write = wholeBlobs > threadAfterBlobs ? blobWriterThread().write : storeSmallBlob;
            const tracked = write(
              tmpName(state.layout.tmp, sha256),
              blobPath(state.layout, sha256, false),
              data,
            ).then(
              () => {
                received(sha256);
              },
              (error: unknown) => {
                failure ??= error;
              },
            );
            writing.add(tracked);
            void tracked.finally(() => {
              writing.delete(tracked);
              inFlightBytes -= data.length;
            });
            return writing.size >= wholeInFlight || inFlightBytes >= wholeInFlightBytes
              ? settle(Math.min(writing.size - 1, wholeInFlight - 1))
              : undefined;
          },
          start: async (sha256, size) => {
            accept(sha256, size);
            await settle(writeParallelism);
            const writer = await createBlobWriter({
              tmpPath: tmpName(state.layout.tmp, sha256),
              destination: blobPath(state.layout, sha256, false),
              sha256,
              size,
            });
            open.add(writer);
            return {
              write: async (chunk) => {
                sync.lastActivityAt = now();
                await writer.write(chunk);
              },
              finish: async () => {
                await writer.finish();
                open.delete(writer);
                received(sha256);
              },
            };
          },
        });
        await settle(0);
      } catch (error) {
        // A failed upload ends its sync: the previous tree stays; whole blobs are kept for the next try.
        await Promise.allSettled(writing);
        for (const writer of open) await writer.discard();
        if (state.sync === sync) endSync(state, `upload failed: ${(error as Error).message}`);
        throw error;
      } finally {
        sync.uploadsInFlight -= 1;
        sync.lastActivityAt = now();
      }
      return { received: sync.received.size, remaining: sync.missing.size - sync.received.size };
    },

    async commit(owner, name, syncId) {
      const state = existingOrSyncing(owner, name);
      activeSync(state, syncId);
      return state.mutex.run(async () => {
        const sync = activeSync(state, syncId);
        const lacking = [...sync.missing.keys()].filter((sha) => !sync.received.has(sha));
        if (lacking.length > 0 || sync.uploadsInFlight > 0) {
          throw new AppError(
            'MISSING_BLOBS',
            `${lacking.length} blob(s) were not uploaded yet${sync.uploadsInFlight > 0 ? ' (an upload is still running)' : ''}: ${lacking.slice(0, 5).join(', ')}${lacking.length > 5 ? ', ...' : ''}`,
            { missing: lacking.slice(0, 100) },
          );
        }
        let committed = false;
        try {
          const result = await commitTree(state, sync.tree);
          committed = true;
          logger.info(
            { workspace: name, syncId, treeId: result.summary.treeId, ...result.changed },
            'sync committed',
          );
          return result;
        } finally {
          // A successful commitTree has scheduled the collection already: one pass over the
          // blobs per commit, not two.
          endSync(state, 'committed', !committed);
        }
      });
    },

    async abort(owner, name, syncId) {
      const state = existingOrSyncing(owner, name);
      activeSync(state, syncId);
      endSync(state, 'aborted by the client');
      if (!state.current) await removeState(state);
    },

    async writeFiles(owner, name, changes) {
      parseWorkspaceName(name);
      const state = await createState(owner, name);
      return state.mutex
        .run(async () => {
          if (state.sync && !syncExpired(state.sync)) {
            throw new AppError(
              'SYNC_IN_PROGRESS',
              `workspace ${JSON.stringify(name)} is being synced; retry when it is done`,
            );
          }
          const entries = new Map<string, TreeEntry>(
            (state.current?.tree.entries ?? []).map((e) => [e.path, e]),
          );
          for (const change of changes) {
            if (!('delete' in change)) continue;
            const below = `${change.path}/`;
            const doomed = [...entries.keys()].filter(
              (path) => path === change.path || path.startsWith(below),
            );
            if (doomed.length === 0) {
              throw new AppError(
                'PATH_NOT_FOUND',
                `cannot delete ${JSON.stringify(change.path)}: it is not in the workspace`,
              );
            }
            for (const path of doomed) entries.delete(path);
          }
          const written: FileEntry[] = [];
          for (const change of changes) {
            if ('delete' in change) continue;
            const previous = entries.get(change.path);
            written.push({
              type: 'file',
              path: change.path,
              size: change.content.byteLength,
              executable: change.executable ?? (previous?.type === 'file' && previous.executable),
              sha256: '',
            });
            entries.set(change.path, written[written.length - 1] as FileEntry);
          }
          // Validate the whole new tree (paths, conflicts, quotas) before anything is stored.
          const draft = buildTree(
            [...entries.values()].map((e) =>
              e.type === 'file' && e.sha256 === '' ? { ...e, sha256: '0'.repeat(64) } : e,
            ),
            limits,
          );
          checkTotal(state, draft);
          for (const [index, change] of changes
            .filter((c): c is Exclude<FileChange, { delete: true }> => !('delete' in c))
            .entries()) {
            const entry = written[index] as FileEntry;
            entry.sha256 = await writeBlob({
              tmpPath: (sha) => tmpName(state.layout.tmp, sha),
              destinationFor: (sha) => blobPath(state.layout, sha, false),
              content: change.content,
            });
            state.blobs.add(entry.sha256);
          }
          const tree = buildTree([...entries.values()], limits);
          const result = await commitTree(state, tree);
          logger.info(
            { workspace: name, treeId: result.summary.treeId, ...result.changed },
            'workspace files written',
          );
          return result;
        })
        .finally(() => {
          if (!state.current && !state.sync) void removeState(state);
        });
    },

    lease(owner, name) {
      const state: WorkspaceState = existing(owner, name);
      if (!state.current) throw new AppError('INTERNAL', 'unreachable: a workspace without a tree');
      const { id, tree } = state.current;
      const held = state.leases.get(id) ?? { count: 0, tree };
      held.count += 1;
      state.leases.set(id, held);
      state.everLeased.add(id);
      touch(state);
      let released = false;
      return {
        dir: join(state.layout.trees, id),
        treeId: id,
        release: () => {
          if (released) return;
          released = true;
          held.count -= 1;
          if (held.count === 0) state.leases.delete(id);
          touch(state);
          if (state.current?.id !== id) schedule(state);
        },
      };
    },

    async remove(owner, name) {
      const state = existing(owner, name);
      await state.mutex.run(async () => {
        if (state.sync && !syncExpired(state.sync)) {
          throw new AppError('SYNC_IN_PROGRESS', `workspace ${JSON.stringify(name)} is being synced`);
        }
        if (state.leases.size > 0) {
          throw new AppError('SYNC_IN_PROGRESS', `workspace ${JSON.stringify(name)} is in use by a run`);
        }
        await removeState(state);
      });
    },

    async sweep() {
      for (const state of [...workspaces.values()]) {
        if (state.sync && syncExpired(state.sync)) endSync(state, 'abandoned');
        await state.mutex.run(async () => {
          const idleMs = now() - state.lastUsedAt;
          if (state.leases.size > 0 || state.sync || state.removed) return;
          if (state.current && idleMs <= limits.idleTtlS * 1000) return;
          logger.info({ workspace: state.name, idleS: Math.round(idleMs / 1000) }, 'workspace expired');
          await removeState(state);
        });
      }
    },

    async idle() {
      while (background.size > 0) await Promise.all([...background]);
    },
  };

  /** The tree a delta makes of the current one; refused unless the current tree is its base. */
  function treeFromDelta(
    state: WorkspaceState,
    request: Extract<ReturnType<typeof parseSyncRequest>, { kind: 'delta' }>,
  ): Tree {
    const current = state.current?.tree;
    if (current?.digest !== request.base) {
      throw new AppError(
        'BASE_MISMATCH',
        `workspace ${JSON.stringify(state.name)} is at tree ${current?.digest ?? '(none)'}, not at the delta's base ${request.base}`,
      );
    }
    const tree = applyDelta(current, request.delta, limits);
    if (tree.digest !== request.digest) {
      throw new AppError(
        'BASE_MISMATCH',
        `the delta makes tree ${tree.digest}, not the ${request.digest} the client expects`,
      );
    }
    return tree;
  }

  function existingOrSyncing(owner: string, name: string): WorkspaceState {
    const state = stateOf(owner, name);
    if (!state)
      throw new AppError('WORKSPACE_NOT_FOUND', `there is no workspace named ${JSON.stringify(name)}`);
    return state;
  }

  return store;
}

function diff(previous: Tree | undefined, next: Tree): { added: number; updated: number; removed: number } {
  const counts = { added: 0, updated: 0, removed: 0 };
  compareEntries(previous?.entries ?? [], next.entries, {
    changed: (_entry, replaces) => {
      if (replaces) counts.updated += 1;
      else counts.added += 1;
    },
    removed: () => {
      counts.removed += 1;
    },
  });
  return counts;
}
