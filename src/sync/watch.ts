import { watch, type FSWatcher } from 'node:fs';

export interface WatchOptions {
  root: string;
  debounceMs: number;
  /** One sync; errors are the caller's to report (the watch goes on). */
  sync: () => Promise<void>;
  onError: (error: unknown) => void;
}

const skipped = /(^|\/)\.(git|hg|svn)(\/|$)/;

/**
 * Re-syncs when files change: events are debounced, and a change during a sync queues exactly one
 * more sync after it. Ignored paths still trigger (the walk leaves them out); version-control
 * internals do not. Resolves when `signal` aborts, after the sync in flight.
 */
export async function watchAndSync(options: WatchOptions, signal: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let pending = false;
  const run = (): void => {
    if (running) {
      pending = true;
      return;
    }
    running = options
      .sync()
      .catch(options.onError)
      .finally(() => {
        running = undefined;
        if (pending && !signal.aborted) {
          pending = false;
          run();
        }
      });
  };
  const watcher: FSWatcher = watch(options.root, { recursive: true }, (_event, filename) => {
    const name = filename?.toString() ?? '';
    if (skipped.test(name)) return;
    clearTimeout(timer);
    timer = setTimeout(run, options.debounceMs);
  });
  watcher.on('error', options.onError);
  await new Promise<void>((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
  clearTimeout(timer);
  watcher.close();
  await running;
}
