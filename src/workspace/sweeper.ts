import type { Logger } from '../logger.js';
import type { WorkspaceStore } from './workspace-store.js';

/** Runs the store's sweep on an interval (idle expiry, abandoned syncs, garbage); unref'd. */
export function startSweeper(
  store: WorkspaceStore,
  intervalMs: number,
  logger: Logger,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= store
      .sweep()
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'workspace sweep failed');
      })
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
      await store.idle();
    },
  };
}

/** Sweep often enough for the shortest time-out, at most once a minute, at least once a second. */
export function sweepIntervalMs(idleTtlS: number, syncIdleTimeoutS: number): number {
  return Math.max(1000, Math.min(60_000, (Math.min(idleTtlS, syncIdleTimeoutS) * 1000) / 2));
}
