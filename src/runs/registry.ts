import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import { RunQueue, type QueueLimits, type QueueState, type SlotClaim } from './run-queue.js';

interface OpenRun {
  readonly id: string;
  readonly abort: AbortController;
  done: Promise<unknown>;
  release(): void;
}

/** A run just opened: queued, or holding its slot already. */
export interface OpenedRun {
  readonly id: string;
  /** Aborting it stops the run, queued or running. */
  readonly abort: AbortController;
  /** The run's signal: its own abort and the caller's. */
  readonly signal: AbortSignal;
  /** Resolves when the run may start; rejects when it leaves the queue first (timeout, stop, shutdown). */
  readonly granted: Promise<void>;
  /** Where it waits; undefined once it may start. */
  queued(): QueueState | undefined;
  /** The run's end: its slot and lock are released then, however it ends. */
  register(done: Promise<unknown>): void;
}

/**
 * Every run of the server, queued or running: it bounds them (through the queue) and stops them
 * all on shutdown.
 */
export class RunRegistry {
  private readonly runs = new Map<string, OpenRun>();
  private readonly queue: RunQueue;
  private closing = false;

  constructor(limits: QueueLimits) {
    this.queue = new RunQueue(limits);
  }

  /** Runs holding a slot (started, not yet ended). */
  get size(): number {
    return this.queue.active;
  }

  /** Runs waiting in the queue. */
  get queued(): number {
    return this.queue.queued;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Opens a run and puts it in the queue (it may start at once). Refuses with SHUTTING_DOWN when
   * shutting down and QUEUE_FULL when it would wait behind run.maxQueued others.
   */
  open(
    claim: Omit<SlotClaim, 'runId'>,
    options: { signal?: AbortSignal | undefined; onQueued?: ((state: QueueState) => void) | undefined } = {},
  ): OpenedRun {
    if (this.closing) throw shuttingDown();
    const id = randomUUID();
    const abort = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
    const ticket = this.queue.request({ ...claim, runId: id }, { signal, onState: options.onQueued });
    const run: OpenRun = {
      id,
      abort,
      done: Promise.resolve(),
      release: () => {
        ticket.release();
        this.runs.delete(id);
      },
    };
    this.runs.set(id, run);
    return {
      id,
      abort,
      signal,
      granted: ticket.granted,
      queued: () => ticket.state(),
      register: (done) => {
        run.done = done;
        void done
          .finally(() => {
            run.release();
          })
          .catch(() => undefined);
      },
    };
  }

  /** Frees a run's slot (or queue place) when it was opened but will never run. */
  release(id: string): void {
    this.runs.get(id)?.release();
  }

  /**
   * Stops accepting new runs, fails the queued ones with SHUTTING_DOWN (nothing starts while
   * draining), and waits (at most `timeoutMs`) for the running ones to end by themselves.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.closing = true;
    this.queue.close(new AppError('SHUTTING_DOWN', 'the server is shutting down'));
    const deadline = Date.now() + timeoutMs;
    while (this.queue.active > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))));
    }
    return this.queue.active === 0;
  }

  /** Stops accepting, cancels every run, queued or running (process groups killed), and waits for them. */
  async shutdown(): Promise<void> {
    this.closing = true;
    this.queue.close(new AppError('SHUTTING_DOWN', 'the server is shutting down'));
    const runs = [...this.runs.values()];
    for (const run of runs) run.abort.abort(new AppError('SHUTTING_DOWN', 'the server is shutting down'));
    await Promise.allSettled(runs.map((run) => run.done));
  }
}

function shuttingDown(): AppError {
  return new AppError('SHUTTING_DOWN', 'the server is shutting down (draining) and accepts no new runs');
}
