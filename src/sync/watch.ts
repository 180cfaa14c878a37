import { watchTree } from './tree-watcher.js';

export interface WatchOptions<R> {
  root: string;
  debounceMs: number;
  /**
   * One sync; its errors also go to `onError` (the watch goes on). `changed`: the paths that
   * changed since the last sync began (see `relistProject`), or undefined when the whole tree must
   * be walked (the first sync, after a failed one, an ignore file changed, too many changes).
   */
  sync: (changed: ReadonlySet<string> | undefined) => Promise<R>;
  onError: (error: unknown) => void;
  /**
   * Whether the last sync's result still holds where it went (the server still has that tree):
   * the result to answer a flush with, or undefined to sync again. Without it a flush always syncs.
   */
  confirm?: (last: R) => Promise<R | undefined>;
}

export interface SyncWatch<R> {
  /**
   * The result of a sync that saw every change made before the call: the one under way, when
   * nothing changes before it ends; the last one's (through `confirm`) when no file changed since
   * it began; else a sync started at once (the debounce is skipped). Rejects with that sync's error.
   */
  flush(): Promise<R>;
  /** Stops watching; resolves after the sync in flight. */
  close(): Promise<void>;
}

/** Past this many changed paths a sync walks the whole tree (it is cheaper than many lstat alone). */
const maxChanges = 1000;

/**
 * Watches `root` (see `watchTree`) and syncs: once at the start (the watch is set up first, so
 * nothing changed meanwhile is missed), then after each change, debounced, with the paths that
 * changed; a change during a sync queues exactly one more sync after it.
 */
export function startWatch<R>(options: WatchOptions<R>): SyncWatch<R> {
  let timer: NodeJS.Timeout | undefined;
  // The sync under way, and how many changes had been seen when it began.
  let running: { sync: Promise<R>; events: number } | undefined;
  let pending = false;
  let closed = false;
  // Changes seen so far, and when the last sync began: a change since may not be in its result.
  let events = 0;
  let startedAt = -1;
  let last: { value: R } | undefined;
  // What changed since the last sync began; undefined: anything may have.
  let changes: Set<string> | undefined;

  // Through calls: these change while `flush` awaits, which the type checker's narrowing does not see.
  const dirty = (): boolean => events !== startedAt;
  const current = (): typeof running => running;

  const start = (): Promise<R> => {
    clearTimeout(timer);
    timer = undefined;
    startedAt = events;
    pending = false;
    last = undefined;
    const changed = changes;
    changes = new Set();
    const sync = options.sync(changed);
    running = { sync, events };
    sync.then(
      (value) => {
        if (running?.sync === sync) last = { value };
      },
      (error: unknown) => {
        // What it was to look at is looked at again, with everything else.
        changes = undefined;
        options.onError(error);
      },
    );
    void sync
      .catch(() => undefined)
      .finally(() => {
        if (running?.sync === sync) running = undefined;
        if (pending && !closed) start().catch(() => undefined);
      });
    return sync;
  };
  const fire = (): void => {
    timer = undefined;
    if (running) pending = true;
    else start().catch(() => undefined);
  };
  const tree = watchTree({
    root: options.root,
    onChange: (path) => {
      events += 1;
      if (path === undefined) changes = undefined;
      else if (changes) {
        changes.add(path);
        if (changes.size > maxChanges) changes = undefined;
      }
      if (closed) return;
      clearTimeout(timer);
      timer = setTimeout(fire, options.debounceMs);
    },
    onError: options.onError,
  });
  start().catch(() => undefined);

  return {
    async flush() {
      // File events already queued are dispatched before this goes on (they arrive in the same
      // poll as the request, or earlier).
      await new Promise((resolve) => setImmediate(resolve));
      for (;;) {
        if (closed) throw new Error('the watch is stopping');
        const under = current();
        if (under) {
          // A sync under way began after every change made so far, unless one is seen by its end:
          // its result is the answer (what it sent, rather than a confirmation after it).
          const outcome = await under.sync.then(
            (value) => ({ value }),
            () => undefined,
          );
          if (outcome && events === under.events) return outcome.value;
          continue;
        }
        // No event is no change only while every directory is watched.
        if (!dirty() && last && options.confirm && tree.complete) {
          const seen = events;
          const still = await options.confirm(last.value).catch(() => undefined);
          // A change or a sync meanwhile: look again.
          if (events !== seen || current() !== undefined) continue;
          if (still !== undefined) return still;
        }
        return start();
      }
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      tree.close();
      await running?.sync.catch(() => undefined);
    },
  };
}
