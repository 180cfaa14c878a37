import { execa } from 'execa';
import type { Readable } from 'node:stream';
import type { GroupReaper, SpawnGate } from './process-group.js';

export interface SuperviseOptions {
  file: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** Deadline from spawn; the process group is stopped when it passes. */
  timeoutMs: number;
  /** SIGTERM first, SIGKILL this long after if anything of the group is still alive. */
  killGraceMs: number;
  signal?: AbortSignal | undefined;
  /** Stops process groups (shared, so many runs cost one watcher). */
  reaper: GroupReaper;
  /** Spreads spawns over turns of the event loop (shared). */
  gate: SpawnGate;
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
}

export interface ProcessOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  /** Set when the process could not be started at all. */
  spawnError?: string;
}

export interface Supervised {
  readonly done: Promise<ProcessOutcome>;
  /** Stops the whole process group (idempotent). */
  stop(reason: 'timeout' | 'cancel'): void;
}

function streamClosed(stream: Readable | null): Promise<void> {
  return new Promise((resolve) => {
    if (!stream || stream.closed) {
      resolve();
      return;
    }
    stream.once('close', () => {
      resolve();
    });
  });
}

const notStarted = (cancelled: boolean): ProcessOutcome => ({
  exitCode: null,
  signal: null,
  timedOut: false,
  cancelled,
  durationMs: 0,
});

/**
 * Spawns a process in its own process group and supervises it: deadline, abort signal, streamed
 * output, and a group kill (SIGTERM, then SIGKILL after the grace period). Once the process exits,
 * whatever it left in its group (background jobs, mirrord's internal proxy) is stopped the same way,
 * so nothing outlives the run and no straggler keeps the output pipes open.
 */
export function supervise(options: SuperviseOptions): Supervised {
  const state = { timedOut: false, cancelled: false, exited: false, pid: undefined as number | undefined };
  let stopping = false;

  const stop = (reason: 'timeout' | 'cancel'): void => {
    if (state.exited || stopping) return;
    stopping = true;
    if (reason === 'timeout') state.timedOut = true;
    else state.cancelled = true;
    if (state.pid !== undefined) void options.reaper.stop(state.pid, options.killGraceMs);
  };
  const onAbort = (): void => {
    stop('cancel');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const done = options.gate.turn().then(
    () =>
      new Promise<ProcessOutcome>((resolve) => {
        if (stopping || options.signal?.aborted) {
          options.signal?.removeEventListener('abort', onAbort);
          resolve(notStarted(true));
          return;
        }
        spawnAndWatch(resolve);
      }),
  );

  function spawnAndWatch(resolve: (outcome: ProcessOutcome) => void): void {
    const started = performance.now();
    const child = execa(options.file, options.args, {
      cwd: options.cwd,
      env: options.env,
      extendEnv: false,
      detached: true, // its own process group, so the group can be killed as one
      cleanup: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
    });
    state.pid = child.pid;
    const deadline = setTimeout(() => {
      stop('timeout');
    }, options.timeoutMs);
    const finish = (outcome: ProcessOutcome): void => {
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };

    const stdout = child.stdout as Readable | null;
    const stderr = child.stderr as Readable | null;
    stdout?.on('data', (chunk: Buffer) => {
      options.onStdout(chunk);
    });
    stderr?.on('data', (chunk: Buffer) => {
      options.onStderr(chunk);
    });

    // With reject: false, execa resolves even when the spawn itself fails (e.g. ENOENT, EACCES).
    void child.then((result) => {
      if (!state.exited && result.failed && result.exitCode === undefined && result.signal === undefined) {
        finish({ ...notStarted(state.cancelled), spawnError: result.shortMessage });
      }
    });
    child.once('exit', (exitCode, signal) => {
      state.exited = true;
      const durationMs = Math.round(performance.now() - started);
      // Stragglers (background jobs, mirrord's internal proxy) get SIGTERM now. The result waits
      // only for the output pipes to close; the reaper keeps watching and SIGKILLs if needed.
      if (state.pid !== undefined && !stopping) void options.reaper.stop(state.pid, options.killGraceMs);
      // A setsid'd grandchild could hold a pipe past the group kill: stop waiting for it.
      const drainLimit = setTimeout(() => {
        stdout?.destroy();
        stderr?.destroy();
      }, options.killGraceMs + 1000);
      void Promise.all([streamClosed(stdout), streamClosed(stderr)]).then(() => {
        clearTimeout(drainLimit);
        finish({ exitCode, signal, timedOut: state.timedOut, cancelled: state.cancelled, durationMs });
      });
    });
  }

  return { done, stop };
}
