import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { RunQueue, type QueueLimits, type QueueState, type Ticket } from '../../../src/runs/run-queue.js';
import type { TargetLock } from '../../../src/runs/target-locks.js';
import { catchAppError } from '../../helpers/app-error.js';

const limits = (overrides: Partial<QueueLimits> = {}): QueueLimits => ({
  maxConcurrent: 10,
  maxPerIdentity: 10,
  maxQueued: 10,
  timeoutMs: 60_000,
  ...overrides,
});

const lock = (name: string, namespace = 'staging'): TargetLock => ({
  key: `${namespace}/deployment/${name}`,
  label: `deployment/${name} in ${namespace}`,
});

/** Lets promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Follows a ticket: whether it was granted, or the error it ended with. */
function watch(ticket: Ticket): { granted: () => boolean; error: () => AppError | undefined } {
  let granted = false;
  let error: AppError | undefined;
  ticket.granted.then(
    () => {
      granted = true;
    },
    (reason: unknown) => {
      error = reason as AppError;
    },
  );
  return { granted: () => granted, error: () => error };
}

describe('RunQueue: granting', () => {
  it('grants at once when nothing holds the run back', async () => {
    const queue = new RunQueue(limits());
    const ticket = queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    const a = watch(ticket);
    await settle();
    expect(a.granted()).toBe(true);
    expect(ticket.state()).toBeUndefined();
    expect(queue.active).toBe(1);
    expect(queue.queued).toBe(0);
  });

  it('serializes runs on one target lock and grants the next when the holder releases', async () => {
    const queue = new RunQueue(limits());
    const first = queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    const second = queue.request({ runId: 'b', identity: 'bob', lock: lock('api') });
    const b = watch(second);
    await settle();
    expect(b.granted()).toBe(false);
    expect(second.state()).toMatchObject({ position: 1, queued: 1 });
    expect(second.state()!.waitingFor).toBe("deployment/api in staging (held by another caller's run a)");
    first.release();
    await settle();
    expect(b.granted()).toBe(true);
    expect(queue.active).toBe(1);
  });

  it('runs on other targets, or without a lock, pass a run blocked on a lock', async () => {
    const queue = new RunQueue(limits());
    queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    const blocked = watch(queue.request({ runId: 'b', identity: 'alice', lock: lock('api') }));
    const other = watch(queue.request({ runId: 'c', identity: 'alice', lock: lock('web') }));
    const sameNameOtherNamespace = watch(
      queue.request({ runId: 'd', identity: 'alice', lock: lock('api', 'default') }),
    );
    const lockless = watch(queue.request({ runId: 'e', identity: 'alice' }));
    await settle();
    expect(blocked.granted()).toBe(false);
    expect(other.granted()).toBe(true);
    expect(sameNameOtherNamespace.granted()).toBe(true);
    expect(lockless.granted()).toBe(true);
    expect(queue.active).toBe(4);
  });

  it('says when the lock holder is one of your own runs', () => {
    const queue = new RunQueue(limits());
    queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    const second = queue.request({ runId: 'b', identity: 'alice', lock: lock('api') });
    expect(second.state()!.waitingFor).toBe('deployment/api in staging (held by your run a)');
    expect(second.state()!.blockers).toEqual([
      { kind: 'lock', lock: lock('api'), runId: 'a', held: true, own: true },
    ]);
  });

  it('bounds runs per identity, other identities unaffected', async () => {
    const queue = new RunQueue(limits({ maxPerIdentity: 2 }));
    const a1 = queue.request({ runId: 'a1', identity: 'alice' });
    queue.request({ runId: 'a2', identity: 'alice' });
    const a3 = queue.request({ runId: 'a3', identity: 'alice' });
    const b1 = watch(queue.request({ runId: 'b1', identity: 'bob' }));
    const third = watch(a3);
    await settle();
    expect(third.granted()).toBe(false);
    expect(b1.granted()).toBe(true);
    expect(a3.state()!.waitingFor).toBe('your limit of 2 runs at once (run.maxPerIdentity)');
    a1.release();
    await settle();
    expect(third.granted()).toBe(true);
  });

  it('bounds runs server-wide and grants in arrival order as slots free', async () => {
    const queue = new RunQueue(limits({ maxConcurrent: 2 }));
    const first = queue.request({ runId: 'a', identity: 'alice' });
    const second = queue.request({ runId: 'b', identity: 'bob' });
    const c = queue.request({ runId: 'c', identity: 'carol' });
    const d = queue.request({ runId: 'd', identity: 'dave' });
    const third = watch(c);
    const fourth = watch(d);
    expect(c.state()).toMatchObject({ position: 1, queued: 2 });
    expect(d.state()).toMatchObject({ position: 2, queued: 2 });
    expect(d.state()!.waitingFor).toBe('a free slot (the server runs at most 2 at once, run.maxConcurrent)');
    second.release();
    await settle();
    expect(third.granted()).toBe(true);
    expect(fourth.granted()).toBe(false);
    expect(d.state()).toMatchObject({ position: 1, queued: 1 });
    first.release();
    await settle();
    expect(fourth.granted()).toBe(true);
  });

  it('names every blocker of a run blocked several ways', () => {
    const queue = new RunQueue(limits({ maxConcurrent: 1, maxPerIdentity: 1 }));
    queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    const second = queue.request({ runId: 'b', identity: 'alice', lock: lock('api') });
    expect(second.state()!.blockers.map((blocker) => blocker.kind)).toEqual(['lock', 'identity', 'global']);
    expect(second.state()!.waitingFor).toBe(
      'deployment/api in staging (held by your run a) and your limit of 1 runs at once (run.maxPerIdentity) ' +
        'and a free slot (the server runs at most 1 at once, run.maxConcurrent)',
    );
  });
});

describe('RunQueue: fairness', () => {
  it('a later run on a target never passes an earlier one waiting for it, even while the lock is free', async () => {
    // Alice's second run waits for her identity limit; the api lock is free but kept for it.
    const queue = new RunQueue(limits({ maxPerIdentity: 1 }));
    const aliceFirst = queue.request({ runId: 'a1', identity: 'alice', lock: lock('web') });
    const aliceSecond = watch(queue.request({ runId: 'a2', identity: 'alice', lock: lock('api') }));
    const bobTicket = queue.request({ runId: 'b1', identity: 'bob', lock: lock('api') });
    const bob = watch(bobTicket);
    await settle();
    expect(aliceSecond.granted()).toBe(false);
    expect(bob.granted()).toBe(false);
    expect(bobTicket.state()!.waitingFor).toBe(
      "deployment/api in staging (another caller's run a2 is queued for it first)",
    );
    aliceFirst.release();
    await settle();
    expect(aliceSecond.granted()).toBe(true);
    expect(bob.granted()).toBe(false);
  });

  it('a freed server slot goes to the earliest waiting run, not a later one', async () => {
    const queue = new RunQueue(limits({ maxConcurrent: 1 }));
    const holder = queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    const waiting = watch(queue.request({ runId: 'b', identity: 'bob', lock: lock('web') }));
    const later = watch(queue.request({ runId: 'c', identity: 'carol' }));
    holder.release();
    await settle();
    expect(waiting.granted()).toBe(true);
    expect(later.granted()).toBe(false);
  });

  it('a run waiting for its identity slot gets the next one before later runs of that identity', async () => {
    const queue = new RunQueue(limits({ maxPerIdentity: 1 }));
    const first = queue.request({ runId: 'a1', identity: 'alice' });
    const second = watch(queue.request({ runId: 'a2', identity: 'alice', lock: lock('api') }));
    const third = watch(queue.request({ runId: 'a3', identity: 'alice' }));
    first.release();
    await settle();
    expect(second.granted()).toBe(true);
    expect(third.granted()).toBe(false);
  });

  it('a run waiting only for a lock keeps no identity slot: the identity may still start other runs', async () => {
    const queue = new RunQueue(limits({ maxPerIdentity: 2 }));
    queue.request({ runId: 'b1', identity: 'bob', lock: lock('api') });
    const waiting = watch(queue.request({ runId: 'a1', identity: 'alice', lock: lock('api') }));
    const other = watch(queue.request({ runId: 'a2', identity: 'alice', lock: lock('web') }));
    await settle();
    expect(waiting.granted()).toBe(false);
    expect(other.granted()).toBe(true);
  });

  it('grants waiting runs on one lock strictly in arrival order', async () => {
    const queue = new RunQueue(limits());
    const tickets = ['a', 'b', 'c', 'd'].map((runId) =>
      queue.request({ runId, identity: runId, lock: lock('api') }),
    );
    const order: string[] = [];
    tickets.forEach((ticket, index) => {
      void ticket.granted.then(() => order.push(String(index)));
    });
    for (const ticket of tickets) {
      await settle();
      ticket.release();
    }
    await settle();
    expect(order).toEqual(['0', '1', '2', '3']);
  });
});

describe('RunQueue: ending a wait', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails with QUEUE_TIMEOUT after the wait limit, naming the lock, its holder and the limit', async () => {
    vi.useFakeTimers();
    const queue = new RunQueue(limits({ timeoutMs: 5000 }));
    queue.request({ runId: 'holder-1', identity: 'alice', lock: lock('api') });
    const waiting = queue.request({ runId: 'waiter-2', identity: 'bob', lock: lock('api') });
    const rejection = waiting.granted.then(
      () => undefined,
      (error: unknown) => error as AppError,
    );
    await vi.advanceTimersByTimeAsync(5000);
    const error = (await rejection)!;
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('QUEUE_TIMEOUT');
    expect(error.message).toContain('run waiter-2 waited 5 s in the queue (run.queueTimeoutS)');
    expect(error.message).toContain("deployment/api in staging (held by another caller's run holder-1)");
    expect(error.message).toContain('position 1 of 1');
    expect(error.details).toMatchObject({ run_id: 'waiter-2' });
    expect(error.hint).toMatch(/run_stop/);
    expect(queue.queued).toBe(0);
    expect(waiting.state()).toBeUndefined();
  });

  it('a timed-out run frees what it kept for the runs behind it', async () => {
    vi.useFakeTimers();
    const queue = new RunQueue(limits({ maxPerIdentity: 1, timeoutMs: 5000 }));
    queue.request({ runId: 'a1', identity: 'alice', lock: lock('web') });
    const kept = watch(queue.request({ runId: 'a2', identity: 'alice', lock: lock('api') }));
    await vi.advanceTimersByTimeAsync(4000);
    const bob = watch(queue.request({ runId: 'b1', identity: 'bob', lock: lock('api') }));
    await vi.advanceTimersByTimeAsync(0);
    expect(bob.granted()).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(kept.error()?.code).toBe('QUEUE_TIMEOUT');
    expect(bob.granted()).toBe(true);
  });

  it('a granted run is never timed out by the queue', async () => {
    vi.useFakeTimers();
    const queue = new RunQueue(limits({ timeoutMs: 1000 }));
    const first = queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    const second = queue.request({ runId: 'b', identity: 'bob', lock: lock('api') });
    const b = watch(second);
    first.release();
    await vi.advanceTimersByTimeAsync(5000);
    expect(b.granted()).toBe(true);
    expect(b.error()).toBeUndefined();
    expect(queue.active).toBe(1);
  });

  it('an aborted wait ends with the abort reason and says the run never started', async () => {
    const queue = new RunQueue(limits());
    queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    const abort = new AbortController();
    const waiting = watch(
      queue.request({ runId: 'b', identity: 'bob', lock: lock('api') }, { signal: abort.signal }),
    );
    abort.abort(new AppError('CANCELLED', 'stopped by run_stop'));
    await settle();
    expect(waiting.error()?.code).toBe('CANCELLED');
    expect(waiting.error()?.message).toBe('stopped by run_stop; run b was still queued and never started');
    expect(queue.queued).toBe(0);
  });

  it('an abort with a foreign reason is CANCELLED', async () => {
    const queue = new RunQueue(limits({ maxConcurrent: 1 }));
    queue.request({ runId: 'a', identity: 'alice' });
    const abort = new AbortController();
    const waiting = watch(queue.request({ runId: 'b', identity: 'alice' }, { signal: abort.signal }));
    abort.abort();
    await settle();
    expect(waiting.error()?.code).toBe('CANCELLED');
  });

  it('an already aborted signal never queues', async () => {
    const queue = new RunQueue(limits());
    const ticket = queue.request(
      { runId: 'a', identity: 'alice' },
      { signal: AbortSignal.abort(new AppError('SHUTTING_DOWN', 'the server is shutting down')) },
    );
    const a = watch(ticket);
    await settle();
    expect(a.error()?.code).toBe('SHUTTING_DOWN');
    expect(queue.active).toBe(0);
    expect(queue.queued).toBe(0);
  });

  it('aborting after the grant does not touch the slot: release does', async () => {
    const queue = new RunQueue(limits({ maxConcurrent: 1 }));
    const abort = new AbortController();
    const ticket = queue.request({ runId: 'a', identity: 'alice' }, { signal: abort.signal });
    abort.abort();
    await settle();
    expect(queue.active).toBe(1);
    ticket.release();
    expect(queue.active).toBe(0);
  });

  it('close fails every queued run and every later request, and grants nothing more', async () => {
    const queue = new RunQueue(limits({ maxConcurrent: 1 }));
    const holder = queue.request({ runId: 'a', identity: 'alice' });
    const waiters = ['b', 'c'].map((runId) => watch(queue.request({ runId, identity: runId })));
    queue.close(new AppError('SHUTTING_DOWN', 'the server is shutting down'));
    await settle();
    for (const waiter of waiters) {
      expect(waiter.granted()).toBe(false);
      expect(waiter.error()?.code).toBe('SHUTTING_DOWN');
      expect(waiter.error()?.message).toMatch(/still queued and never started/);
    }
    expect(catchAppError(() => queue.request({ runId: 'd', identity: 'dave' })).code).toBe('SHUTTING_DOWN');
    expect(queue.active).toBe(1);
    holder.release();
    expect(queue.active).toBe(0);
  });
});

describe('RunQueue: maxQueued', () => {
  it('refuses a run that would wait behind maxQueued others with QUEUE_FULL', () => {
    const queue = new RunQueue(limits({ maxConcurrent: 1, maxQueued: 2 }));
    queue.request({ runId: 'a', identity: 'alice' });
    queue.request({ runId: 'b', identity: 'bob' });
    queue.request({ runId: 'c', identity: 'carol' });
    const error = catchAppError(() => queue.request({ runId: 'd', identity: 'dave' }));
    expect(error.code).toBe('QUEUE_FULL');
    expect(error.message).toContain('2 runs are already waiting (run.maxQueued)');
    expect(error.message).toContain('run.maxConcurrent');
    expect(queue.queued).toBe(2);
  });

  it('still grants a run that need not wait when the queue is full', async () => {
    const queue = new RunQueue(limits({ maxQueued: 1 }));
    queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    queue.request({ runId: 'b', identity: 'bob', lock: lock('api') });
    const free = watch(queue.request({ runId: 'c', identity: 'carol', lock: lock('web') }));
    await settle();
    expect(free.granted()).toBe(true);
  });

  it('with maxQueued 0 nothing waits: a blocked run is refused at once', () => {
    const queue = new RunQueue(limits({ maxQueued: 0 }));
    queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    const error = catchAppError(() => queue.request({ runId: 'b', identity: 'bob', lock: lock('api') }));
    expect(error.code).toBe('QUEUE_FULL');
    expect(error.message).toContain('queues no runs (run.maxQueued 0)');
    expect(error.message).toContain('deployment/api in staging');
    expect(queue.queued).toBe(0);
  });
});

describe('RunQueue: releasing', () => {
  it('release is idempotent and frees the slot, the identity count and the lock', async () => {
    const queue = new RunQueue(limits({ maxPerIdentity: 1 }));
    const first = queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    first.release();
    first.release();
    expect(queue.active).toBe(0);
    const again = watch(queue.request({ runId: 'b', identity: 'alice', lock: lock('api') }));
    await settle();
    expect(again.granted()).toBe(true);
    expect(queue.active).toBe(1);
  });

  it('releasing a queued run withdraws it (its wait ends with CANCELLED) and lets the next one go', async () => {
    const queue = new RunQueue(limits({ maxPerIdentity: 1 }));
    queue.request({ runId: 'a1', identity: 'alice', lock: lock('web') });
    const kept = queue.request({ runId: 'a2', identity: 'alice', lock: lock('api') });
    const withdrawn = watch(kept);
    const bob = watch(queue.request({ runId: 'b1', identity: 'bob', lock: lock('api') }));
    kept.release();
    await settle();
    expect(withdrawn.error()?.code).toBe('CANCELLED');
    expect(bob.granted()).toBe(true);
    expect(queue.queued).toBe(0);
  });

  it('after many runs end in every way, nothing is held', async () => {
    vi.useFakeTimers();
    try {
      const queue = new RunQueue(limits({ maxConcurrent: 2, maxPerIdentity: 2, timeoutMs: 1000 }));
      const abort = new AbortController();
      const tickets = Array.from({ length: 8 }, (_, index) =>
        queue.request(
          { runId: `r${index}`, identity: index % 2 === 0 ? 'alice' : 'bob', lock: lock(`t${index % 3}`) },
          { signal: index === 5 ? abort.signal : undefined },
        ),
      );
      abort.abort();
      tickets[0]!.release();
      tickets[7]!.release();
      await vi.advanceTimersByTimeAsync(1000);
      for (const ticket of tickets) ticket.release();
      expect(queue.active).toBe(0);
      expect(queue.queued).toBe(0);
      const fresh = watch(queue.request({ runId: 'x', identity: 'alice', lock: lock('t0') }));
      await vi.advanceTimersByTimeAsync(0);
      expect(fresh.granted()).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('RunQueue: state reports', () => {
  it('reports where a run waits when it queues and whenever its place or blocker changes', async () => {
    const queue = new RunQueue(limits());
    const holder = queue.request({ runId: 'a', identity: 'alice', lock: lock('api') });
    const second = queue.request({ runId: 'b', identity: 'bob', lock: lock('api') });
    const states: QueueState[] = [];
    queue.request(
      { runId: 'c', identity: 'carol', lock: lock('api') },
      { onState: (state) => states.push(state) },
    );
    // Another run queueing behind it changes neither its place nor what it waits for.
    queue.request({ runId: 'd', identity: 'dave', lock: lock('api') });
    expect(states.map((state) => [state.position, state.waitingFor])).toEqual([
      [2, "deployment/api in staging (held by another caller's run a)"],
    ]);
    holder.release();
    await settle();
    expect(states.map((state) => [state.position, state.waitingFor])).toEqual([
      [2, "deployment/api in staging (held by another caller's run a)"],
      [1, "deployment/api in staging (held by another caller's run b)"],
    ]);
    second.release();
    await settle();
    expect(states).toHaveLength(2); // granted: no more reports
  });

  it('a throwing listener does not break the queue', async () => {
    const queue = new RunQueue(limits({ maxConcurrent: 1 }));
    const holder = queue.request({ runId: 'a', identity: 'alice' });
    const waiting = watch(
      queue.request(
        { runId: 'b', identity: 'bob' },
        {
          onState: () => {
            throw new Error('listener failed');
          },
        },
      ),
    );
    holder.release();
    await settle();
    expect(waiting.granted()).toBe(true);
  });
});
