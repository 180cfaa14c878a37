import type { WorkspaceLayout } from './layout.js';
import type { Tree, TreeEntry } from './manifest.js';
import type { Mutex } from './mutex.js';

/** A sync in progress: the tree it will commit and the blobs it still waits for. */
export interface SyncSession {
  readonly id: string;
  readonly tree: Tree;
  /** sha256 -> declared size, for blobs the server lacks. */
  readonly missing: Map<string, number>;
  /** Blobs received or being received (each once). */
  readonly claimed: Set<string>;
  readonly received: Set<string>;
  uploadsInFlight: number;
  lastActivityAt: number;
  readonly startedAt: number;
}

/** A tree directory on disk that nothing uses: exactly these entries, and these directories. */
export interface SpareTree {
  readonly id: string;
  entries: TreeEntry[];
  readonly dirs: Set<string>;
}

/** What the store knows about one workspace (one instance per workspace, owned by the store). */
export interface WorkspaceState {
  readonly owner: string;
  readonly name: string;
  readonly layout: WorkspaceLayout;
  readonly mutex: Mutex;
  current: { id: string; tree: Tree; committedAt: number } | undefined;
  /** Plain blobs present in `blobs/` (the executable variants are derived). */
  readonly blobs: Set<string>;
  /** Trees in use by runs: id -> lease count and the tree (kept alive until released). */
  readonly leases: Map<string, { count: number; tree: Tree }>;
  sync: SyncSession | undefined;
  /** Blobs of a failed sync, kept a while (sha256 -> until) so that its retry need not send them again. */
  readonly retained: Map<string, number>;
  /**
   * A superseded tree no run ever leased, kept on disk so that the next commit can patch it into
   * the new tree (a few links) instead of linking every file again. Its files whose blobs are
   * collected are unlinked from it at once, so it never holds data the quotas do not count.
   */
  spare: SpareTree | undefined;
  /** Trees that were leased at least once (a run may have written into them: never reused). */
  readonly everLeased: Set<string>;
  lastUsedAt: number;
  lastPersistedUseAt: number;
  removed: boolean;
}
