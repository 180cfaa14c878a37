import { execa } from 'execa';
import type { Readable } from 'node:stream';
import { killGroup } from './process-group.js';

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
  readonly pid: number | undefined;
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

/**
 * Spawns a process in its own process group and supervises it: deadline, abort signal, streamed
 * output, and a group kill (SIGTERM, then SIGKILL after the grace period). Once the process exits,
 * whatever it left in its group (background jobs, mirrord's internal proxy) is stopped the same way,
 * so nothing outlives the run and no straggler keeps the output pipes open.
 */
export function supervise(options: SuperviseOptions): Supervised {
  const started = performance.now();
  const state = { timedOut: false, cancelled: false, exited: false };
  if (options.signal?.aborted) {
    return {
      pid: undefined,
      done: Promise.resolve({
        exitCode: null,
        signal: null,
        timedOut: false,
        cancelled: true,
        durationMs: 0,
      }),
      stop: () => undefined,
    };
  }

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
  const pid = child.pid;
  let stopping: Promise<void> | undefined;

  const stop = (reason: 'timeout' | 'cancel'): void => {
    if (state.exited || pid === undefined || stopping) return;
    if (reason === 'timeout') state.timedOut = true;
    else state.cancelled = true;
    stopping = killGroup(pid, options.killGraceMs);
  };
  const onAbort = (): void => {
    stop('cancel');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const deadline = setTimeout(() => {
    stop('timeout');
  }, options.timeoutMs);

  const stdout = child.stdout as Readable | null;
  const stderr = child.stderr as Readable | null;
  stdout?.on('data', (chunk: Buffer) => {
    options.onStdout(chunk);
  });
  stderr?.on('data', (chunk: Buffer) => {
    options.onStderr(chunk);
  });

  const done = new Promise<ProcessOutcome>((resolve) => {
    const finish = (outcome: ProcessOutcome): void => {
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    // With reject: false, execa resolves even when the spawn itself fails (e.g. ENOENT, EACCES).
    void child.then((result) => {
      if (
        pid === undefined ||
        (result.exitCode === undefined && result.signal === undefined && result.failed)
      ) {
        if (!state.exited) {
          finish({
            exitCode: null,
            signal: null,
            timedOut: false,
            cancelled: state.cancelled,
            durationMs: 0,
            spawnError: result.shortMessage,
          });
        }
      }
    });
    child.once('exit', (exitCode, signal) => {
      state.exited = true;
      const durationMs = Math.round(performance.now() - started);
      const reap =
        pid === undefined
          ? Promise.resolve()
          : (stopping ?? Promise.resolve()).then(() => killGroup(pid, options.killGraceMs));
      // A setsid'd grandchild could hold a pipe past the group kill: stop waiting for it.
      const drainLimit = setTimeout(() => {
        stdout?.destroy();
        stderr?.destroy();
      }, options.killGraceMs + 1000);
      void Promise.all([reap, streamClosed(stdout), streamClosed(stderr)]).then(() => {
        clearTimeout(drainLimit);
        finish({
          exitCode,
          signal,
          timedOut: state.timedOut,
          cancelled: state.cancelled,
          durationMs,
        });
      });
    });
  });

  return { pid, done, stop };
}
