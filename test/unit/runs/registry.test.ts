import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
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

describe('RunRegistry: open and release', () => {
  it('starts empty and open reserves a slot at once', () => {
    const registry = new RunRegistry(2);
    expect(registry.size).toBe(0);
    expect(registry.isClosing).toBe(false);
    const run = registry.open();
    expect(registry.size).toBe(1);
    expect(run.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.abort).toBeInstanceOf(AbortController);
    expect(run.abort.signal.aborted).toBe(false);
  });

  it('gives every run its own id and abort controller', () => {
    const registry = new RunRegistry(10);
    const a = registry.open();
    const b = registry.open();
    expect(a.id).not.toBe(b.id);
    expect(a.abort).not.toBe(b.abort);
  });

  it('release frees the slot, and releasing twice or an unknown id is harmless', () => {
    const registry = new RunRegistry(1);
    const run = registry.open();
    registry.release(run.id);
    expect(registry.size).toBe(0);
    registry.release(run.id);
    registry.release('no-such-id');
    expect(registry.size).toBe(0);
    expect(() => registry.open()).not.toThrow();
  });

  it('a registered run leaves the registry when its promise resolves', async () => {
    const registry = new RunRegistry(1);
    const run = registry.open();
    const done = deferred();
    run.register(done.promise);
    await settle();
    expect(registry.size).toBe(1);
    done.resolve();
    await settle();
    expect(registry.size).toBe(0);
  });

  it('a registered run leaves the registry when its promise rejects, without an unhandled rejection', async () => {
    const registry = new RunRegistry(1);
    const run = registry.open();
    const done = deferred();
    run.register(done.promise);
    done.reject(new Error('run failed'));
    await expect(done.promise).rejects.toThrow('run failed');
    await settle();
    expect(registry.size).toBe(0);
  });
});

describe('RunRegistry: the limit', () => {
  it('refuses a run over the limit with TOO_MANY_RUNS', () => {
    const registry = new RunRegistry(2);
    registry.open();
    registry.open();
    const error = catchAppError(() => registry.open());
    expect(error.code).toBe('TOO_MANY_RUNS');
    expect(error.message).toContain('2');
    expect(error.message).toContain('run.maxConcurrent');
    expect(registry.size).toBe(2);
  });

  it('a released slot can be taken again', () => {
    const registry = new RunRegistry(1);
    const first = registry.open();
    expect(() => registry.open()).toThrow(AppError);
    registry.release(first.id);
    expect(registry.open().id).not.toBe(first.id);
  });

  it('a finished run frees its slot', async () => {
    const registry = new RunRegistry(1);
    const run = registry.open();
    const done = deferred();
    run.register(done.promise);
    expect(catchAppError(() => registry.open()).code).toBe('TOO_MANY_RUNS');
    done.resolve();
    await settle();
    expect(() => registry.open()).not.toThrow();
  });

  it('an opened but not yet registered run counts against the limit', () => {
    const registry = new RunRegistry(3);
    registry.open();
    registry.open();
    registry.open();
    expect(catchAppError(() => registry.open()).code).toBe('TOO_MANY_RUNS');
  });
});

describe('RunRegistry: shutdown', () => {
  it('aborts every run with a SHUTTING_DOWN reason and waits for them', async () => {
    const registry = new RunRegistry(5);
    const runs = [registry.open(), registry.open()];
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

  it('waits for runs that fail, and does not throw', async () => {
    const registry = new RunRegistry(5);
    const run = registry.open();
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
    const registry = new RunRegistry(5);
    const run = registry.open();
    await expect(registry.shutdown()).resolves.toBeUndefined();
    expect(run.abort.signal.aborted).toBe(true);
  });

  it('with no runs, resolves at once', async () => {
    const registry = new RunRegistry(1);
    await expect(registry.shutdown()).resolves.toBeUndefined();
    expect(registry.isClosing).toBe(true);
  });

  it('open after shutdown is SHUTTING_DOWN', async () => {
    const registry = new RunRegistry(5);
    await registry.shutdown();
    const error = catchAppError(() => registry.open());
    expect(error.code).toBe('SHUTTING_DOWN');
    expect(registry.size).toBe(0);
  });

  it('open is refused as soon as shutdown starts, before the runs are done', () => {
    const registry = new RunRegistry(5);
    const run = registry.open();
    run.register(new Promise(() => undefined)); // never ends; shutdown is not awaited here
    void registry.shutdown();
    expect(catchAppError(() => registry.open()).code).toBe('SHUTTING_DOWN');
  });

  it('SHUTTING_DOWN wins over TOO_MANY_RUNS', () => {
    const registry = new RunRegistry(1);
    registry.open();
    void registry.shutdown();
    expect(catchAppError(() => registry.open()).code).toBe('SHUTTING_DOWN');
  });
});
