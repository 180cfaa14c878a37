import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';

export interface ActiveRun {
  readonly id: string;
  readonly startedAt: number;
  readonly abort: AbortController;
  readonly done: Promise<unknown>;
}

/**
 * Every run in flight, so the server can bound them and stop them all on shutdown.
 */
export class RunRegistry {
  private readonly runs = new Map<string, ActiveRun>();
  private closing = false;

  constructor(private readonly maxConcurrent: number) {}

  get size(): number {
    return this.runs.size;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Opens a record; refuses when shutting down or at the concurrency limit. */
  open(): { id: string; abort: AbortController; register(done: Promise<unknown>): void } {
    if (this.closing)
      throw new AppError('SHUTTING_DOWN', 'the server is shutting down (draining) and accepts no new runs');
    if (this.runs.size >= this.maxConcurrent) {
      throw new AppError(
        'TOO_MANY_RUNS',
        `the server already runs ${this.runs.size} commands, its limit (run.maxConcurrent); retry when one finishes`,
      );
    }
    const id = randomUUID();
    const abort = new AbortController();
    // Reserve the slot at once so concurrent opens respect the limit.
    const placeholder: ActiveRun = { id, startedAt: Date.now(), abort, done: Promise.resolve() };
    this.runs.set(id, placeholder);
    return {
      id,
      abort,
      register: (done) => {
        this.runs.set(id, { ...placeholder, done });
        void done.finally(() => this.runs.delete(id)).catch(() => undefined);
      },
    };
  }

  release(id: string): void {
    this.runs.delete(id);
  }

  /** Stops accepting new runs and waits (at most `timeoutMs`) for the running ones to end by themselves. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.closing = true;
    const deadline = Date.now() + timeoutMs;
    while (this.runs.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))));
    }
    return this.runs.size === 0;
  }

  /** Stops accepting, cancels every run (their process groups are killed) and waits for them. */
  async shutdown(): Promise<void> {
    this.closing = true;
    const runs = [...this.runs.values()];
    for (const run of runs) run.abort.abort(new AppError('SHUTTING_DOWN', 'the server is shutting down'));
    await Promise.allSettled(runs.map((run) => run.done));
  }
}
