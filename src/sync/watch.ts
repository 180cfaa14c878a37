import { watch, type FSWatcher } from 'node:fs';

export interface WatchOptions<R> {
  root: string;
  debounceMs: number;
  /** One sync; its errors also go to `onError` (the watch goes on). */
  sync: () => Promise<R>;
  onError: (error: unknown) => void;
  /**
   * Whether the last sync's result still holds where it went (the server still has that tree):
   * the result to answer a flush with, or undefined to sync again. Without it a flush always syncs.
   */
  confirm?: (last: R) => Promise<R | undefined>;
}

export interface SyncWatch<R> {
  /**
   * The result of a sync that saw every change made before the call: the last sync's (through
   * `confirm`) when no file changed since it began, else a sync started at once (the debounce
   * is skipped). Rejects with that sync's error.
   */
  flush(): Promise<R>;
  /** Stops watching; resolves after the sync in flight. */
  close(): Promise<void>;
}

const skipped = /(^|\/)\.(git|hg|svn)(\/|$)/;

/**
 * Watches `root` and syncs: once at the start (the watcher is set up first, so nothing changed
 * meanwhile is missed), then after each change, debounced; a change during a sync queues exactly
 * one more sync after it. Ignored paths still trigger (the walk leaves them out); version-control
 * internals do not.
 */
export function startWatch<R>(options: WatchOptions<R>): SyncWatch<R> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<R> | undefined;
  let pending = false;
  let closed = false;
  // An object: callbacks change it while `flush` awaits, which the type checker's narrowing does not see.
  const state = {
    // A change seen since the last sync began: that sync's result may not cover it.
    dirty: true,
  };
  let last: { value: R } | undefined;

  // Read through a call: it changes while `flush` awaits, which narrowing does not see.
  const moved = (): boolean => state.dirty || running !== undefined;

  const start = (): Promise<R> => {
    clearTimeout(timer);
    timer = undefined;
    state.dirty = false;
    pending = false;
    last = undefined;
    const sync = options.sync();
    running = sync;
    sync.then(
      (value) => {
        if (running === sync) last = { value };
      },
      (error: unknown) => {
        options.onError(error);
      },
    );
    void sync
      .catch(() => undefined)
      .finally(() => {
        if (running === sync) running = undefined;
        if (pending && !closed) start().catch(() => undefined);
      });
    return sync;
  };
  const fire = (): void => {
    timer = undefined;
    if (running) pending = true;
    else start().catch(() => undefined);
  };
  const watcher: FSWatcher = watch(options.root, { recursive: true }, (_event, filename) => {
    const name = filename?.toString() ?? '';
    if (skipped.test(name)) return;
    state.dirty = true;
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(fire, options.debounceMs);
  });
  watcher.on('error', options.onError);
  start().catch(() => undefined);

  return {
    async flush() {
      // File events already queued are dispatched before this goes on (they arrive in the same
      // poll as the request, or earlier).
      await new Promise((resolve) => setImmediate(resolve));
      for (;;) {
        if (closed) throw new Error('the watch is stopping');
        if (running) {
          await running.catch(() => undefined);
          continue;
        }
        if (!state.dirty && last && options.confirm) {
          const still = await options.confirm(last.value).catch(() => undefined);
          // A change or a sync meanwhile: look again.
          if (moved()) continue;
          if (still !== undefined) return still;
        }
        return start();
      }
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
      await running?.catch(() => undefined);
    },
  };
}
