import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import type { QueueLimits } from '../../../src/runs/run-queue.js';
import { RunRegistry } from '../../../src/runs/registry.js';
import { catchAppError } from '../../helpers/app-error.js';

/** Lets queued promise callbacks (e.g. `done.finally`) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const limits = (maxConcurrent: number, overrides: Partial<QueueLimits> = {}): QueueLimits => ({
  maxConcurrent,
  maxPerIdentity: 100,
  maxQueued: 100,
  timeoutMs: 60_000,
  ...overrides,
});

const claim = { identity: 'anonymous' };
const api = { key: 'default/deployment/api', label: 'deployment/api in default' };

describe('RunRegistry: open and release', () => {
  it('starts empty and open takes a free slot at once', async () => {
    const registry = new RunRegistry(limits(2));
    expect(registry.size).toBe(0);
    expect(registry.isClosing).toBe(false);
    const run = registry.open(claim);
    expect(registry.size).toBe(1);
    expect(registry.queued).toBe(0);
    expect(run.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.abort).toBeInstanceOf(AbortController);
    expect(run.abort.signal.aborted).toBe(false);
    expect(run.queued()).toBeUndefined();
    await expect(run.granted).resolves.toBeUndefined();
  });

  it('gives every run its own id and abort controller', () => {
    const registry = new RunRegistry(limits(10));
    const a = registry.open(claim);
    const b = registry.open(claim);
    expect(a.id).not.toBe(b.id);
    expect(a.abort).not.toBe(b.abort);
  });

  it("the run's signal follows both its own abort and the caller's", () => {
    const registry = new RunRegistry(limits(10));
    const caller = new AbortController();
    const run = registry.open(claim, { signal: caller.signal });
    caller.abort();
    expect(run.signal.aborted).toBe(true);
    const own = registry.open(claim);
    own.abort.abort();
    expect(own.signal.aborted).toBe(true);
  });

  it('release frees the slot, and releasing twice or an unknown id is harmless', () => {
    const registry = new RunRegistry(limits(1));
    const run = registry.open(claim);
    registry.release(run.id);
    expect(registry.size).toBe(0);
    registry.release(run.id);
    registry.release('no-such-id');
    expect(registry.size).toBe(0);
    expect(registry.open(claim).queued()).toBeUndefined();
  });

  it('a registered run leaves the registry when its promise resolves', async () => {
    const registry = new RunRegistry(limits(1));
    const run = registry.open(claim);
    const done = deferred();
    run.register(done.promise);
    await settle();
    expect(registry.size).toBe(1);
    done.resolve();
    await settle();
    expect(registry.size).toBe(0);
  });

  it('a registered run leaves the registry when its promise rejects, without an unhandled rejection', async () => {
    const registry = new RunRegistry(limits(1));
    const run = registry.open(claim);
    const done = deferred();
    run.register(done.promise);
    done.reject(new Error('run failed'));
    await expect(done.promise).rejects.toThrow('run failed');
    await settle();
    expect(registry.size).toBe(0);
  });
});

describe('RunRegistry: the limit queues', () => {
  it('a run over run.maxConcurrent waits, then starts when a slot frees', async () => {
    const registry = new RunRegistry(limits(1));
    const first = registry.open(claim);
    const done = deferred();
    first.register(done.promise);
    const second = registry.open(claim);
    expect(registry.size).toBe(1);
    expect(registry.queued).toBe(1);
    expect(second.queued()).toMatchObject({ position: 1, queued: 1 });
    done.resolve();
    await second.granted;
    expect(registry.size).toBe(1);
    expect(registry.queued).toBe(0);
  });

  it('a queued run that is aborted leaves the queue with the abort reason', async () => {
    const registry = new RunRegistry(limits(1));
    registry.open(claim);
    const second = registry.open(claim);
    second.abort.abort(new AppError('CANCELLED', 'stopped by run_stop'));
    const error = (await second.granted.catch((e: unknown) => e)) as AppError;
    expect(error.code).toBe('CANCELLED');
    expect(registry.queued).toBe(0);
  });

  it('a queued run whose registered end rejects frees its place', async () => {
    const registry = new RunRegistry(limits(1));
    registry.open(claim);
    const second = registry.open(claim, {});
    const done = deferred();
    second.register(done.promise);
    done.reject(new Error('gave up'));
    await done.promise.catch(() => undefined);
    await settle();
    expect(registry.queued).toBe(0);
  });

  it('reports the queue position to onQueued', () => {
    const registry = new RunRegistry(limits(5));
    const first = registry.open({ identity: 'alice', lock: api });
    const states: string[] = [];
    registry.open(
      { identity: 'bob', lock: api },
      { onQueued: (state) => states.push(`${state.position}/${state.queued}: ${state.waitingFor}`) },
    );
    expect(states).toEqual([`1/1: deployment/api in default (held by another caller's run ${first.id})`]);
  });

  it('refuses with QUEUE_FULL beyond run.maxQueued', () => {
    const registry = new RunRegistry(limits(1, { maxQueued: 1 }));
    registry.open(claim);
    registry.open(claim);
    const error = catchAppError(() => registry.open(claim));
    expect(error.code).toBe('QUEUE_FULL');
    expect(error.message).toContain('run.maxQueued');
    expect(registry.queued).toBe(1);
  });
});

describe('RunRegistry: drain and shutdown', () => {
  it('aborts every run with a SHUTTING_DOWN reason and waits for them', async () => {
    const registry = new RunRegistry(limits(5));
    const runs = [registry.open(claim), registry.open(claim)];
    const finished: string[] = [];
    for (const run of runs) {
      // Each run ends a little after it was told to stop, as a killed process group would.
      const done = new Promise<void>((resolve) => {
        run.abort.signal.addEventListener('abort', () => {
          setTimeout(() => {
            finished.push(run.id);
            resolve();
          }, 50);
        });
      });
      run.register(done);
    }
    let shutdownDone = false;
    const shutdown = registry.shutdown().then(() => {
      shutdownDone = true;
    });
    expect(registry.isClosing).toBe(true);
    for (const run of runs) {
      expect(run.abort.signal.aborted).toBe(true);
      const reason: unknown = run.abort.signal.reason;
      expect(reason).toBeInstanceOf(AppError);
      expect((reason as AppError).code).toBe('SHUTTING_DOWN');
    }
    await settle();
    expect(shutdownDone).toBe(false);
    await shutdown;
    expect(finished.sort()).toEqual(runs.map((run) => run.id).sort());
    await settle();
    expect(registry.size).toBe(0);
  });

  it('shutdown fails queued runs with SHUTTING_DOWN; they never start', async () => {
    const registry = new RunRegistry(limits(1));
    const running = registry.open(claim);
    running.register(
      new Promise<void>((resolve) => {
        running.abort.signal.addEventListener('abort', () => {
          resolve();
        });
      }),
    );
    const queued = registry.open(claim);
    const ended = queued.granted.catch((error: unknown) => error as AppError) as Promise<AppError>;
    await registry.shutdown();
    const error = await ended;
    expect(error.code).toBe('SHUTTING_DOWN');
    expect(error.message).toMatch(/still queued and never started/);
    expect(registry.size).toBe(0);
    expect(registry.queued).toBe(0);
  });

  it('drain fails queued runs at once and waits only for the running ones', async () => {
    const registry = new RunRegistry(limits(1));
    const running = registry.open(claim);
    const done = deferred();
    running.register(done.promise);
    const queued = registry.open(claim);
    const ended = queued.granted.catch((error: unknown) => error as AppError) as Promise<AppError>;
    const drained = registry.drain(10_000);
    expect((await ended).code).toBe('SHUTTING_DOWN');
    expect(registry.queued).toBe(0);
    // The queued run did not take the slot the running one frees.
    done.resolve();
    await expect(drained).resolves.toBe(true);
    expect(registry.size).toBe(0);
  });

  it('drain reports false when runs are still going at its deadline', async () => {
    const registry = new RunRegistry(limits(1));
    registry.open(claim).register(new Promise(() => undefined));
    await expect(registry.drain(20)).resolves.toBe(false);
    expect(registry.size).toBe(1);
  });

  it('waits for runs that fail, and does not throw', async () => {
    const registry = new RunRegistry(limits(5));
    const run = registry.open(claim);
    run.register(
      new Promise((_resolve, reject) => {
        run.abort.signal.addEventListener('abort', () => {
          reject(new Error('killed'));
        });
      }),
    );
    await expect(registry.shutdown()).resolves.toBeUndefined();
  });

  it('does not wait on an opened run that was never registered', async () => {
    const registry = new RunRegistry(limits(5));
    const run = registry.open(claim);
    await expect(registry.shutdown()).resolves.toBeUndefined();
    expect(run.abort.signal.aborted).toBe(true);
  });

  it('with no runs, resolves at once', async () => {
    const registry = new RunRegistry(limits(1));
    await expect(registry.shutdown()).resolves.toBeUndefined();
    expect(registry.isClosing).toBe(true);
  });

  it('open after shutdown is SHUTTING_DOWN', async () => {
    const registry = new RunRegistry(limits(5));
    await registry.shutdown();
    const error = catchAppError(() => registry.open(claim));
    expect(error.code).toBe('SHUTTING_DOWN');
    expect(registry.size).toBe(0);
  });

  it('open is refused as soon as shutdown starts, before the runs are done', () => {
    const registry = new RunRegistry(limits(5));
    const run = registry.open(claim);
    run.register(new Promise(() => undefined)); // never ends; shutdown is not awaited here
    void registry.shutdown();
    expect(catchAppError(() => registry.open(claim)).code).toBe('SHUTTING_DOWN');
  });

  it('SHUTTING_DOWN wins over QUEUE_FULL', () => {
    const registry = new RunRegistry(limits(1, { maxQueued: 0 }));
    registry.open(claim);
    void registry.shutdown();
    expect(catchAppError(() => registry.open(claim)).code).toBe('SHUTTING_DOWN');
  });
});
