import { AppError } from '../errors.js';
import type { TargetLock } from './target-locks.js';

/** What a run needs before it may start. */
export interface SlotClaim {
  readonly runId: string;
  /** Who asked: the per-identity limit counts runs by this. */
  readonly identity: string;
  /** An exclusive lock on the target; absent when the run needs none (targetless, incoming off). */
  readonly lock?: TargetLock | undefined;
}

/** One reason a queued run cannot start yet. */
export type QueueBlocker =
  | {
      kind: 'lock';
      lock: TargetLock;
      /** The run holding the lock, or the earlier queued run it is kept for. */
      runId: string;
      held: boolean;
      /** The holder (or earlier run) belongs to the same identity. */
      own: boolean;
    }
  | { kind: 'identity'; limit: number }
  | { kind: 'global'; limit: number };

/** Where a queued run stands. */
export interface QueueState {
  /** 1-based place among the queued runs (FIFO). */
  position: number;
  /** Runs queued in all. */
  queued: number;
  blockers: QueueBlocker[];
  /** The blockers for a reader: "deployment/api in staging (held by run 1f2e...)". */
  waitingFor: string;
  waitedMs: number;
}

export interface QueueLimits {
  /** Runs holding a slot at once, server-wide (run.maxConcurrent). */
  maxConcurrent: number;
  /** Runs holding a slot at once per identity (run.maxPerIdentity). */
  maxPerIdentity: number;
  /** Runs waiting at once (run.maxQueued); 0 = never wait, refuse instead. */
  maxQueued: number;
  /** Longest a run waits before it fails with QUEUE_TIMEOUT (run.queueTimeoutS). */
  timeoutMs: number;
}

/** A run's place: waiting, then holding its slot (and lock) until released. */
export interface Ticket {
  /** Resolves when the slot is granted (at once when free); rejects when the wait ends otherwise. */
  readonly granted: Promise<void>;
  /** Where the run waits; undefined once granted or ended. */
  state(): QueueState | undefined;
  /** Frees the slot and lock, or leaves the queue (granted then rejects); idempotent. */
  release(): void;
}

interface Entry {
  readonly claim: SlotClaim;
  readonly enqueuedAt: number;
  status: 'waiting' | 'granted' | 'done';
  blockers: QueueBlocker[];
  resolve: () => void;
  reject: (error: AppError) => void;
  timer: NodeJS.Timeout | undefined;
  detach: () => void;
  onState: ((state: QueueState) => void) | undefined;
  /** What was last reported to onState, so that only changes are sent. */
  reported: string;
}

function describeBlocker(blocker: QueueBlocker): string {
  switch (blocker.kind) {
    case 'lock': {
      const whose = blocker.own ? 'your run' : "another caller's run";
      return blocker.held
        ? `${blocker.lock.label} (held by ${whose} ${blocker.runId})`
        : `${blocker.lock.label} (${whose} ${blocker.runId} is queued for it first)`;
    }
    case 'identity':
      return `your limit of ${blocker.limit} runs at once (run.maxPerIdentity)`;
    case 'global':
      return `a free slot (the server runs at most ${blocker.limit} at once, run.maxConcurrent)`;
  }
}

/** The blockers for a reader, most specific first. */
export function describeBlockers(blockers: readonly QueueBlocker[]): string {
  return blockers.length === 0 ? 'nothing' : blockers.map(describeBlocker).join(' and ');
}

/**
 * Decides when runs may start: at most `maxConcurrent` at once, at most `maxPerIdentity` per
 * identity, and one at a time per target lock. Others wait in FIFO order, bounded in time and number.
 *
 * Fairness: every change looks at the queue in arrival order, so a freed slot (server-wide or of an
 * identity) goes to the earliest run that can use it. A target lock is kept for the earliest run
 * waiting for it, even while the lock is free because that run waits for a limit: a later run on
 * the same target waits behind it. A later run whose own needs are free (another target, another
 * identity, room left) starts at once. So a run waits only for runs that hold what it needs or came
 * before it, never for later ones, and a busy target never holds up the rest of the server.
 */
export class RunQueue {
  private readonly waiting: Entry[] = [];
  private readonly perIdentity = new Map<string, number>();
  private readonly holders = new Map<string, Entry>();
  private activeCount = 0;
  private closedWith: AppError | undefined;

  constructor(private readonly limits: QueueLimits) {}

  /** Runs holding a slot. */
  get active(): number {
    return this.activeCount;
  }

  /** Runs waiting for one. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Asks for a slot. Throws QUEUE_FULL when the run would wait and run.maxQueued runs already do,
   * and the close reason once the queue is closed. `onState` hears where the run waits, at once
   * and whenever its place or what it waits for changes.
   */
  request(
    claim: SlotClaim,
    options: { signal?: AbortSignal | undefined; onState?: ((state: QueueState) => void) | undefined } = {},
  ): Ticket {
    if (this.closedWith) throw this.closedWith;
    let resolve!: () => void;
    let reject!: (error: AppError) => void;
    const granted = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Whoever holds the ticket may never await it (a refused run); the rejection is theirs to read.
    granted.catch(() => undefined);
    const entry: Entry = {
      claim,
      enqueuedAt: performance.now(),
      status: 'waiting',
      blockers: [],
      resolve,
      reject,
      timer: undefined,
      detach: () => undefined,
      onState: options.onState,
      reported: '',
    };
    const ticket: Ticket = {
      granted,
      state: () => this.stateOf(entry),
      release: () => {
        this.release(entry);
      },
    };
    const { signal } = options;
    if (signal?.aborted) {
      entry.status = 'done';
      reject(this.abortError(entry, signal.reason));
      return ticket;
    }
    this.waiting.push(entry);
    this.schedule();
    if (entry.status !== 'waiting') return ticket;
    if (this.waiting.length > this.limits.maxQueued) {
      // The newest entry holds nobody back: taking it out changes no one else's place.
      this.waiting.pop();
      entry.status = 'done';
      throw new AppError(
        'QUEUE_FULL',
        this.limits.maxQueued === 0
          ? `run ${claim.runId} cannot start now (waiting for ${describeBlockers(entry.blockers)}) and this server queues no runs (run.maxQueued 0)`
          : `the run queue is full: ${this.limits.maxQueued} runs are already waiting (run.maxQueued); this one would wait for ${describeBlockers(entry.blockers)}`,
        { run_id: claim.runId, queued: this.limits.maxQueued },
      );
    }
    if (signal) {
      const onAbort = (): void => {
        this.withdraw(entry, this.abortError(entry, signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      entry.detach = () => {
        signal.removeEventListener('abort', onAbort);
      };
    }
    entry.timer = setTimeout(() => {
      const state = this.stateOf(entry);
      this.withdraw(
        entry,
        new AppError(
          'QUEUE_TIMEOUT',
          `run ${claim.runId} waited ${Math.round(this.limits.timeoutMs / 1000)} s in the queue (run.queueTimeoutS) ` +
            `and never started: it was waiting for ${describeBlockers(entry.blockers)}` +
            (state ? ` (position ${state.position} of ${state.queued})` : ''),
          {
            run_id: claim.runId,
            waited_ms: Math.round(performance.now() - entry.enqueuedAt),
            waiting_for: entry.blockers.map(describeBlocker),
          },
        ),
      );
    }, this.limits.timeoutMs);
    this.report();
    return ticket;
  }

  /** Fails every queued run with `error` and every later request; slots already held stay held. */
  close(error: AppError): void {
    this.closedWith ??= error;
    const reason = this.closedWith;
    for (const entry of [...this.waiting]) this.withdraw(entry, this.abortError(entry, reason));
  }

  private abortError(entry: Entry, reason: unknown): AppError {
    const base =
      reason instanceof AppError
        ? reason
        : new AppError('CANCELLED', 'the call that started it was cancelled');
    return new AppError(
      base.code,
      `${base.message}; run ${entry.claim.runId} was still queued and never started`,
      { ...base.details, run_id: entry.claim.runId },
      { cause: reason },
    );
  }

  private stateOf(entry: Entry): QueueState | undefined {
    if (entry.status !== 'waiting') return undefined;
    return {
      position: this.waiting.indexOf(entry) + 1,
      queued: this.waiting.length,
      blockers: entry.blockers,
      waitingFor: describeBlockers(entry.blockers),
      waitedMs: Math.round(performance.now() - entry.enqueuedAt),
    };
  }

  private release(entry: Entry): void {
    if (entry.status === 'waiting') {
      this.withdraw(entry, new AppError('CANCELLED', `run ${entry.claim.runId} left the queue`));
      return;
    }
    if (entry.status !== 'granted') return;
    entry.status = 'done';
    this.activeCount -= 1;
    const { identity, lock } = entry.claim;
    const count = (this.perIdentity.get(identity) ?? 1) - 1;
    if (count > 0) this.perIdentity.set(identity, count);
    else this.perIdentity.delete(identity);
    if (lock && this.holders.get(lock.key) === entry) this.holders.delete(lock.key);
    this.schedule();
    this.report();
  }

  private withdraw(entry: Entry, error: AppError): void {
    if (entry.status !== 'waiting') return;
    const index = this.waiting.indexOf(entry);
    if (index >= 0) this.waiting.splice(index, 1);
    entry.status = 'done';
    clearTimeout(entry.timer);
    entry.detach();
    entry.reject(error);
    // What it kept for itself is free for the runs behind it now.
    this.schedule();
    this.report();
  }

  /** Grants every waiting run that may start, in FIFO order, and records what blocks the others. */
  private schedule(): void {
    // Counts only grow during a pass, so a limit that blocks one run blocks every later one too; a
    // lock is the one thing a later run could take from under an earlier one: keep it for the first.
    const keptLocks = new Map<string, Entry>();
    for (const entry of [...this.waiting]) {
      const { identity, lock } = entry.claim;
      const blockers: QueueBlocker[] = [];
      if (lock) {
        const holder = this.holders.get(lock.key) ?? keptLocks.get(lock.key);
        if (holder) {
          blockers.push({
            kind: 'lock',
            lock,
            runId: holder.claim.runId,
            held: holder.status === 'granted',
            own: holder.claim.identity === identity,
          });
        }
      }
      if ((this.perIdentity.get(identity) ?? 0) >= this.limits.maxPerIdentity) {
        blockers.push({ kind: 'identity', limit: this.limits.maxPerIdentity });
      }
      if (this.activeCount >= this.limits.maxConcurrent) {
        blockers.push({ kind: 'global', limit: this.limits.maxConcurrent });
      }
      if (blockers.length === 0 && !this.closedWith) {
        this.grant(entry);
        continue;
      }
      entry.blockers = blockers;
      if (lock && !keptLocks.has(lock.key)) keptLocks.set(lock.key, entry);
    }
  }

  private grant(entry: Entry): void {
    const index = this.waiting.indexOf(entry);
    if (index >= 0) this.waiting.splice(index, 1);
    entry.status = 'granted';
    entry.blockers = [];
    clearTimeout(entry.timer);
    entry.detach();
    this.activeCount += 1;
    const { identity, lock } = entry.claim;
    this.perIdentity.set(identity, (this.perIdentity.get(identity) ?? 0) + 1);
    if (lock) this.holders.set(lock.key, entry);
    entry.resolve();
  }

  /** Tells each queued run where it stands, when that changed since it was last told. */
  private report(): void {
    this.waiting.forEach((entry, index) => {
      if (!entry.onState) return;
      const waitingFor = describeBlockers(entry.blockers);
      const key = `${index}\n${waitingFor}`;
      if (key === entry.reported) return;
      entry.reported = key;
      try {
        entry.onState({
          position: index + 1,
          queued: this.waiting.length,
          blockers: entry.blockers,
          waitingFor,
          waitedMs: Math.round(performance.now() - entry.enqueuedAt),
        });
      } catch {
        // A listener's failure is its own; the queue goes on.
      }
    });
  }
}
