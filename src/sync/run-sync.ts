import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import {
  buildTree,
  inlineBlobBytes,
  inlineBlobs,
  toWireEntry,
  toWireManifest,
  type Tree,
  type TreeEntry,
  type WireBlob,
  type WireDelta,
} from '../workspace/manifest.js';
import { applyDelta, deltaBetween, type TreeDelta } from '../workspace/tree-delta.js';
import { hashCachePath, loadHashCache, type HashCache } from './hash-cache.js';
import { hashEntries } from './hash-files.js';
import { createProgress } from './progress.js';
import {
  createSyncClient,
  SyncError,
  type BeginResponse,
  type RemoteWorkspace,
  type SyncClient,
} from './sync-client.js';
import { batchBody, planBatches, type BlobToSend } from './upload.js';
import { walkProject, type LocalEntry } from './walk.js';

export interface SyncOptions {
  dir: string;
  url: string;
  workspace: string;
  token?: string | undefined;
  /** Hash cache file (default: under the user's cache directory). */
  cacheFile?: string | undefined;
  /**
   * A hash cache kept across syncs (--watch): loaded once, then held in memory and saved after
   * each sync, instead of read back from its file every time.
   */
  cache?: HashCache | undefined;
  /**
   * Lists the project instead of `walkProject` (a watch relists only what changed; see
   * `relistProject`).
   */
  walk?: ((root: string) => Promise<LocalEntry[]>) | undefined;
  /** Where progress goes (default stderr). */
  progressStream?: NodeJS.WriteStream | undefined;
  /** Batches uploaded at once. */
  parallelUploads?: number | undefined;
  /** Largest batch this client builds (the server's limit caps it). */
  batchBytes?: number | undefined;
}

export interface SyncReport {
  workspace: string;
  unchanged: boolean;
  files: number;
  bytes: number;
  hashedFiles: number;
  sentFiles: number;
  sentBytes: number;
  added: number;
  updated: number;
  removed: number;
  treeId: string | null;
  /** Whether only a delta against the last synced tree was sent. */
  delta: boolean;
  ms: number;
  /** Milliseconds per phase (walk, hash, get, begin, upload, commit), for profiling. */
  phases: Record<string, number>;
  /** The pid of the `sync --watch` that did this sync for a one-shot `sync` (see watch-socket.ts). */
  watch?: number;
}

/** A report of a sync of `base`'s tree that hashed, sent and changed nothing, with `fields` on top. */
export function syncReport(
  base: Pick<SyncReport, 'workspace' | 'files' | 'bytes' | 'ms' | 'phases'>,
  fields: Partial<SyncReport> = {},
): SyncReport {
  return {
    ...base,
    unchanged: false,
    hashedFiles: 0,
    sentFiles: 0,
    sentBytes: 0,
    added: 0,
    updated: 0,
    removed: 0,
    treeId: null,
    delta: false,
    ...fields,
  };
}

const unlimited = { maxFiles: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER };

/** One sync of a directory to a workspace: walk, hash what changed, send what the server lacks, commit. */
export async function syncOnce(options: SyncOptions): Promise<SyncReport> {
  const started = performance.now();
  const phases: Record<string, number> = {};
  let mark = started;
  const phase = (name: string): void => {
    const at = performance.now();
    phases[name] = Math.round((phases[name] ?? 0) + at - mark);
    mark = at;
  };
  const root = await realpath(options.dir).catch(() => {
    throw new SyncError(`${options.dir} does not exist`, 'INVALID_PATH', undefined);
  });
  if (!(await stat(root)).isDirectory())
    throw new SyncError(`${options.dir} is not a directory`, 'INVALID_PATH', undefined);

  const client = createSyncClient(options);
  // Both asked before the walk, which lets the event loop turn: the server's answer and the
  // cache file are usually there when it ends. (Awaited below; the catch only keeps an early
  // failure from counting as unhandled meanwhile.)
  const asking = client.get();
  asking.catch(() => undefined);
  const loading =
    options.cache?.root === root
      ? Promise.resolve(options.cache)
      : loadHashCache(options.cacheFile ?? hashCachePath(root), root);
  const local = await (options.walk ?? walkProject)(root);
  phase('walk');
  const cache = await loading;
  phase('cache');

  const report = (tree: { files: number; bytes: number }, fields: Partial<SyncReport>): SyncReport =>
    syncReport(
      {
        workspace: options.workspace,
        files: tree.files,
        bytes: tree.bytes,
        ms: Math.round(performance.now() - started),
        phases,
      },
      fields,
    );

  // Exactly the entries of the last sync (by stat): their digest is known, nothing to hash or
  // validate; when the server has that digest too, the sync is over.
  const known = cache.digestOf(local);
  if (known !== undefined) {
    const remote = await asking;
    phase('get');
    if (remote?.digest === known) {
      let bytes = 0;
      for (const entry of local) bytes += entry.size;
      return report({ files: local.length, bytes }, { unchanged: true, treeId: remote.tree_id });
    }
  }

  // The last synced tree (what a delta is made against), read before hashing so that the hash
  // lookups share its strings.
  const last = cache.savedTree();
  const { hashes, hashed } = await hashEntries(root, local, cache);
  phase('hash');
  const entryAt = (i: number): TreeEntry => {
    const entry = local[i] as LocalEntry;
    return entry.type === 'symlink'
      ? { type: 'symlink', path: entry.path, target: entry.target ?? '' }
      : {
          type: 'file',
          path: entry.path,
          size: entry.size,
          executable: (entry.mode & 0o100) !== 0,
          sha256: hashes[i] ?? '',
        };
  };
  // The server's own rules, checked here first so that the error names the local file. Against
  // the last synced tree (valid when it was saved) only what changed needs checking, and only
  // what changed becomes a tree entry.
  let tree: Tree;
  let change: TreeDelta | undefined;
  try {
    if (last) {
      change = deltaBetween(last, {
        length: local.length,
        path: (i) => (local[i] as LocalEntry).path,
        // sameEntry(old, entryAt(i)), without making the entry.
        same: (i, old) => {
          const entry = local[i] as LocalEntry;
          if (entry.type === 'symlink') return old.type === 'symlink' && old.target === entry.target;
          return (
            old.type === 'file' &&
            old.size === entry.size &&
            old.sha256 === hashes[i] &&
            old.executable === ((entry.mode & 0o100) !== 0)
          );
        },
        entry: entryAt,
      });
      tree = applyDelta(last, change, unlimited);
    } else {
      tree = buildTree(
        local.map((_, i) => entryAt(i)),
        unlimited,
      );
    }
  } catch (error) {
    if (error instanceof AppError) throw new SyncError(error.message, error.code, undefined, error.hint);
    throw error;
  }
  phase('validate');
  // Written while the server works on the requests below (the cache file is rewritten whole),
  // from the next turn of the event loop: the first request is on its way by then, instead of
  // waiting for the encoding. Every way out waits for it.
  const saving = new Promise((resolve) => setImmediate(resolve)).then(() =>
    cache.save(local, tree.digest, tree.entries),
  );
  saving.catch(() => undefined);
  try {
    const result = await transfer({
      client,
      options,
      root,
      tree,
      last,
      change,
      asking,
      phase,
      done: (fields) => report(tree, { hashedFiles: hashed, ...fields }),
    });
    await saving;
    return result;
  } finally {
    await saving.catch(() => undefined);
  }
}

interface Transfer {
  client: SyncClient;
  options: SyncOptions;
  root: string;
  /** The tree to sync, validated. */
  tree: Tree;
  /** The tree last synced, and the change from it to `tree`, when the cache knows it. */
  last: Tree | undefined;
  change: TreeDelta | undefined;
  /** The server's answer about the workspace, asked at the start. */
  asking: Promise<RemoteWorkspace | undefined>;
  phase: (name: string) => void;
  done: (fields: Partial<SyncReport>) => SyncReport;
}

/** Sends `tree` to the server: nothing when it has it, a delta when it has `last`, else the manifest; then the blobs it lacks. */
async function transfer(sync: Transfer): Promise<SyncReport> {
  const { client, options, root, tree, last, change, phase, done } = sync;

  const remote = await sync.asking;
  phase('get');
  if (remote?.digest === tree.digest) return done({ unchanged: true, treeId: remote.tree_id });

  // When the server holds the tree this client last synced, only the difference goes.
  let begun: BeginResponse | undefined;
  let delta = false;
  if (last && change && remote?.digest === last.digest) {
    try {
      let inline = inlineBlobsOf(root, change.changes);
      const request: WireDelta = {
        base: last.digest,
        digest: tree.digest,
        changes: change.changes.map(toWireEntry),
        removed: [...change.removed],
      };
      try {
        begun = await client.begin({
          ...request,
          ...(inline.blobs.length > 0 ? { blobs: inline.blobs } : {}),
          commit: true,
        });
      } catch (error) {
        // A server whose manifest limit is below the contents: the delta alone, then an upload.
        if (!(error instanceof SyncError && error.code === 'UPLOAD_TOO_LARGE' && inline.blobs.length > 0))
          throw error;
        inline = { blobs: [], bytes: 0 };
        begun = await client.begin(request);
      }
      delta = true;
      if (!begun.unchanged && 'committed' in begun) {
        phase('begin');
        return done({
          delta,
          sentFiles: inline.blobs.length,
          sentBytes: inline.bytes,
          ...begun.changed,
          treeId: begun.workspace.tree_id,
        });
      }
    } catch (error) {
      // The workspace moved on meanwhile (another client, a write tool), or the server predates
      // deltas (it refuses the unknown shape as INVALID_MANIFEST): the whole manifest it is.
      const fallBack =
        error instanceof SyncError && ['BASE_MISMATCH', 'INVALID_MANIFEST'].includes(error.code);
      if (!fallBack) throw error;
    }
  }
  begun ??= await client.begin(toWireManifest(tree.entries));
  phase('begin');
  if (begun.unchanged) return done({ unchanged: true, delta, treeId: begun.workspace.tree_id });
  if ('committed' in begun)
    throw new SyncError('the server committed a sync it was not asked to', 'INTERNAL', undefined);

  try {
    const pathOf = new Map<string, string>();
    for (const entry of tree.entries)
      if (entry.type === 'file' && !pathOf.has(entry.sha256)) pathOf.set(entry.sha256, entry.path);
    const blobs: BlobToSend[] = begun.missing.map((blob) => ({
      ...blob,
      path: pathOf.get(blob.sha256) ?? '',
    }));
    const batches = planBatches(
      blobs,
      Math.min(begun.limits.max_batch_bytes, options.batchBytes ?? 16 * 1024 * 1024),
      Math.min(begun.limits.max_batch_files, 1000),
    );
    const progress = createProgress(begun.missing_bytes, blobs.length, options.progressStream);
    let next = 0;
    const uploader = async (): Promise<void> => {
      while (next < batches.length) {
        const batch = batches[next++] ?? [];
        await client.upload(
          begun.sync_id,
          batchBody(root, batch, (bytes, done) => {
            progress.add(bytes, done);
          }),
        );
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(options.parallelUploads ?? 2, batches.length) }, uploader),
    );
    progress.done();
    phase('upload');
    const committed = await client.commit(begun.sync_id);
    phase('commit');
    return done({
      delta,
      sentFiles: blobs.length,
      sentBytes: begun.missing_bytes,
      ...committed.changed,
      treeId: committed.workspace.tree_id,
    });
  } catch (error) {
    await client.abort(begun.sync_id);
    throw error;
  }
}

/** Contents inline in one delta, in all (decoded): a request well under a server's usual limits. */
const inlineTotalBytes = 256 * 1024;

/**
 * The contents of a delta's small changed files, to go along with it (one request for a small
 * change): at most `inlineBlobs` files of at most `inlineBlobBytes` each, `inlineTotalBytes` in
 * all (a server with a lower manifest limit refuses it, and the delta goes again without). A file that changed
 * since it was hashed stops the sync (the next one picks the change up).
 */
function inlineBlobsOf(root: string, changes: readonly TreeEntry[]): { blobs: WireBlob[]; bytes: number } {
  const blobs: WireBlob[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  for (const entry of changes) {
    if (entry.type !== 'file' || entry.size > inlineBlobBytes || seen.has(entry.sha256)) continue;
    if (blobs.length >= inlineBlobs || bytes + entry.size > inlineTotalBytes) break;
    let data: Buffer;
    try {
      data = readFileSync(join(root, entry.path));
    } catch {
      continue;
    }
    if (data.length !== entry.size) continue;
    if (createHash('sha256').update(data).digest('hex') !== entry.sha256) {
      throw new SyncError(
        `${entry.path} changed while it was being synced; run the sync again`,
        'HASH_MISMATCH',
        undefined,
      );
    }
    seen.add(entry.sha256);
    blobs.push({ sha256: entry.sha256, data: data.toString('base64') });
    bytes += data.length;
  }
  return { blobs, bytes };
}
