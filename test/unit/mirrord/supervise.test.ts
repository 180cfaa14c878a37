import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupReaper, groupIsAlive, SpawnGate } from '../../../src/mirrord/process-group.js';
import { supervise, type ProcessOutcome, type SuperviseOptions } from '../../../src/mirrord/supervise.js';

// ---- test-side /proc reader, independent of src/, so assertions do not trust the code under test ----
function statOf(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  const stat = statOf(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Live (non-zombie) processes whose process group is `pgid`. */
function liveMembersOf(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (stat && stat.state !== 'Z' && stat.pgrp === pgid) members.push(Number(entry));
  }
  return members;
}

/** Polls until `check()` holds or `ms` pass. */
async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/**
 * Nothing of the group is left alive. Polled: the output pipes close as the last member exits,
 * a moment before /proc shows it as a zombie, and done no longer waits for the reaper.
 */
const groupGone = (pgid: number): Promise<boolean> => eventually(() => liveMembersOf(pgid).length === 0);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The result every run that never spawned reports. */
const notStarted: ProcessOutcome = {
  exitCode: null,
  signal: null,
  timedOut: false,
  cancelled: true,
  durationMs: 0,
};

// ---- shared reaper and gate, recording what supervise asks of them ----
class RecordingReaper extends GroupReaper {
  readonly calls: { pgid: number; graceMs: number }[] = [];
  override stop(pgid: number, graceMs: number): Promise<void> {
    this.calls.push({ pgid, graceMs });
    return super.stop(pgid, graceMs);
  }
}

class RecordingGate extends SpawnGate {
  turns = 0;
  override turn(): Promise<void> {
    this.turns += 1;
    return super.turn();
  }
}

/** A gate that gives every turn only when the test opens it. */
class ManualGate extends SpawnGate {
  turns = 0;
  private release: () => void = () => undefined;
  private readonly opened = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  override turn(): Promise<void> {
    this.turns += 1;
    return this.opened;
  }
  open(): void {
    this.release();
  }
}

// ---- every group and stray process a test starts is killed afterwards ----
const strays: number[] = [];
let dir: string;
let reaper: RecordingReaper;
let gate: RecordingGate;
let runs = 0;

beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'supervise-test-')));
  reaper = new RecordingReaper();
  gate = new RecordingGate();
});

/** Process groups of the runs that started, from the files the runs' shells wrote. */
function startedGroups(): number[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith('.pgid-'))
    .map((name) => Number(readFileSync(join(dir, name), 'utf8').trim()))
    .filter((pgid) => pgid > 0);
}

afterEach(async () => {
  for (const pgid of startedGroups()) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Nothing the reaper still watches may outlive the test (its timer would keep running).
  await reaper.idle();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  done: Promise<ProcessOutcome>;
  stop: (reason: 'timeout' | 'cancel') => void;
  /** The run's process group (its shell's `$$`), once the shell has started. */
  pgid: () => Promise<number>;
  /** Whether the run's shell ever started (it records its `$$` first thing). */
  started: () => boolean;
  stdout: () => string;
  stderr: () => string;
  stdoutChunks: () => number;
  /** Resolves with the stdout text once it contains `needle`. */
  printed: (needle: string) => Promise<string>;
}

/**
 * Supervises `sh -c script` with a minimal env and collects its output. The shell first writes its
 * `$$` (the group leader's pid, as supervise uses detached: true) to a file in `dir`, so the test can
 * find and clean up the group without touching stdout or stderr.
 */
function run(script: string, options: Partial<SuperviseOptions> = {}): Run {
  runs += 1;
  const pgidFile = join(dir, `.pgid-${runs}`);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const waiters: { needle: string; resolve: (text: string) => void }[] = [];
  const text = (): string => Buffer.concat(out).toString();
  const supervised = supervise({
    file: 'sh',
    args: ['-c', `echo $$ > '${pgidFile}'; ${script}`],
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeoutMs: 10_000,
    killGraceMs: 300,
    reaper,
    gate,
    onStdout: (chunk) => {
      out.push(chunk);
      for (const waiter of [...waiters]) {
        if (text().includes(waiter.needle)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(text());
        }
      }
    },
    onStderr: (chunk) => {
      err.push(chunk);
    },
    ...options,
  });
  const readPgid = (): number | undefined => {
    try {
      const content = readFileSync(pgidFile, 'utf8');
      return /^\d+\n$/.test(content) ? Number(content) : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    done: supervised.done,
    stop: (reason) => {
      supervised.stop(reason);
    },
    pgid: async () => {
      if (!(await eventually(() => readPgid() !== undefined))) throw new Error('the run never started');
      return readPgid() ?? 0;
    },
    started: () => existsSync(pgidFile),
    stdout: text,
    stderr: () => Buffer.concat(err).toString(),
    stdoutChunks: () => out.length,
    printed: (needle) =>
      text().includes(needle)
        ? Promise.resolve(text())
        : new Promise((resolve) => {
            waiters.push({ needle, resolve });
          }),
  };
}

/** The outcome, or 'still running' when it takes longer than `ms`. */
async function within(done: Promise<ProcessOutcome>, ms: number): Promise<ProcessOutcome | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => {
    timer = setTimeout(() => {
      resolve('still running');
    }, ms);
  });
  try {
    return await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('supervise: normal exits', () => {
  it('reports the exit code', async () => {
    const child = run('exit 7');
    const outcome = await child.done;
    expect(await child.pgid()).toBeGreaterThan(0);
    expect(outcome).toMatchObject({ exitCode: 7, signal: null, timedOut: false, cancelled: false });
    expect(outcome.spawnError).toBeUndefined();
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('reports exit code 0', async () => {
    expect(await run('true').done).toMatchObject({
      exitCode: 0,
      signal: null,
      timedOut: false,
      cancelled: false,
    });
  });

  it('reports the signal that ended the process', async () => {
    const outcome = await run('kill -USR1 $$').done;
    expect(outcome).toMatchObject({ exitCode: null, signal: 'SIGUSR1', timedOut: false, cancelled: false });
  });

  it('reports a duration that covers the run', async () => {
    const outcome = await run('sleep 0.2').done;
    expect(outcome.exitCode).toBe(0);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(190);
    expect(outcome.durationMs).toBeLessThan(2000);
  });

  it('delivers stdout and stderr chunks separately', async () => {
    const child = run('printf out1; printf err1 >&2; printf out2; printf err2 >&2');
    await child.done;
    expect(child.stdout()).toBe('out1out2');
    expect(child.stderr()).toBe('err1err2');
  });

  it('delivers every byte of a large output before done resolves', async () => {
    const child = run('head -c 3000000 /dev/zero');
    const outcome = await child.done;
    expect(outcome.exitCode).toBe(0);
    expect(child.stdout()).toHaveLength(3_000_000);
    expect(child.stdoutChunks()).toBeGreaterThan(1);
  });

  it('runs in the given cwd with exactly the given environment', async () => {
    const child = run('pwd; echo "FOO=$FOO HOME=${HOME-unset} SECRET=${SECRET-unset}"', {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FOO: 'bar' },
    });
    process.env.SECRET = 'leaked';
    try {
      await child.done;
    } finally {
      delete process.env.SECRET;
    }
    expect(child.stdout()).toBe(`${dir}\nFOO=bar HOME=unset SECRET=unset\n`);
  });

  it('gives the process no stdin', async () => {
    const child = run('read line; echo "read=$?"');
    expect((await child.done).exitCode).toBe(0);
    expect(child.stdout()).toBe('read=1\n');
  });

  it('runs the process as the leader of its own process group', async () => {
    const child = run("echo $$; cut -d' ' -f5 /proc/$$/stat");
    await child.done;
    const [pid, pgrp] = child.stdout().trim().split('\n').map(Number);
    expect(pid).toBeGreaterThan(0);
    expect(pgrp).toBe(pid);
    expect(await child.pgid()).toBe(pid);
    expect(pgrp).not.toBe(statOf(process.pid)?.pgrp);
  });

  it('spawns only after its turn of the gate, and takes exactly one', async () => {
    const manual = new ManualGate();
    const marker = join(dir, 'ran');
    const child = run(`touch '${marker}'`, { gate: manual });
    expect(manual.turns).toBe(1);
    await sleep(150);
    expect(child.started()).toBe(false);
    expect(existsSync(marker)).toBe(false);
    manual.open();
    expect(await child.done).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    expect(existsSync(marker)).toBe(true);
    expect(manual.turns).toBe(1);
  });

  it('many runs sharing one gate all run, one turn each', async () => {
    const children = Array.from({ length: 8 }, (_, index) => run(`echo run${index}`));
    expect(gate.turns).toBe(8);
    const outcomes = await Promise.all(children.map((child) => child.done));
    for (const [index, outcome] of outcomes.entries()) {
      expect(outcome).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
      expect(children[index]?.stdout()).toBe(`run${index}\n`);
    }
    expect(gate.turns).toBe(8);
  });

  it('hands the group to the reaper once, with the grace period, after the process exits', async () => {
    const child = run('exit 0', { killGraceMs: 250 });
    await child.done;
    expect(reaper.calls).toEqual([{ pgid: await child.pgid(), graceMs: 250 }]);
    await reaper.idle();
    expect(reaper.size).toBe(0);
  });
});

describe('supervise: deadline', () => {
  it('a timeout stops a cooperative process with SIGTERM', async () => {
    const child = run('echo started; sleep 30', { timeoutMs: 200 });
    const outcome = await child.done;
    expect(outcome).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: true, cancelled: false });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(190);
    expect(child.stdout()).toBe('started\n');
    const pgid = await child.pgid();
    expect(await groupGone(pgid)).toBe(true);
    // Stopped once, by the deadline; the exit does not hand the group over a second time.
    expect(reaper.calls).toEqual([{ pgid, graceMs: 300 }]);
  });

  it('a timeout sends SIGKILL after the grace period to a group that ignores SIGTERM', async () => {
    const child = run("trap '' TERM; sleep 30 & echo $!; wait", { timeoutMs: 200, killGraceMs: 300 });
    const background = Number((await child.printed('\n')).trim());
    expect(isAlive(background)).toBe(true);
    const pgid = await child.pgid();
    await sleep(300);
    // Past the deadline, inside the grace period: the reaper is at work and everything still lives.
    expect(reaper.calls).toEqual([{ pgid, graceMs: 300 }]);
    expect(reaper.size).toBe(1);
    expect(isAlive(background)).toBe(true);
    expect(isAlive(pgid)).toBe(true);
    const outcome = await child.done;
    expect(outcome).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: true, cancelled: false });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(490);
    expect(await eventually(() => !isAlive(background))).toBe(true);
    expect(await groupGone(pgid)).toBe(true);
    expect(reaper.calls).toHaveLength(1);
  });

  it('the plain `trap "" TERM; sleep 30` case: timedOut and nothing of the group left alive', async () => {
    const child = run("trap '' TERM; sleep 30", { timeoutMs: 150, killGraceMs: 300 });
    const pgid = await child.pgid();
    await sleep(50);
    expect(liveMembersOf(pgid).length).toBeGreaterThan(0);
    const outcome = await child.done;
    expect(outcome.timedOut).toBe(true);
    expect(outcome.signal).toBe('SIGKILL');
    expect(await groupGone(pgid)).toBe(true);
  });

  it('a process that ends before its deadline is not marked timed out', async () => {
    const outcome = await run('sleep 0.1', { timeoutMs: 2000 }).done;
    expect(outcome).toMatchObject({ exitCode: 0, timedOut: false });
  });

  it('the deadline counts from the spawn, not from the call', async () => {
    const manual = new ManualGate();
    const child = run('sleep 0.2', { gate: manual, timeoutMs: 400 });
    await sleep(300);
    manual.open();
    // Called 300 ms ago with a 400 ms deadline, yet the 200 ms run started just now and finishes.
    expect(await child.done).toMatchObject({ exitCode: 0, signal: null, timedOut: false });
  });
});

describe('supervise: cancellation', () => {
  it('an abort signal cancels the run', async () => {
    const controller = new AbortController();
    const child = run('echo started; sleep 30', { signal: controller.signal });
    await child.printed('started');
    controller.abort();
    const outcome = await child.done;
    expect(outcome).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: false, cancelled: true });
    expect(await groupGone(await child.pgid())).toBe(true);
  });

  it('an abort reaches a TERM-ignoring group through SIGKILL', async () => {
    const controller = new AbortController();
    const child = run("trap '' TERM; echo started; sleep 30", {
      signal: controller.signal,
      killGraceMs: 200,
    });
    await child.printed('started');
    controller.abort();
    const outcome = await child.done;
    expect(outcome).toMatchObject({ signal: 'SIGKILL', timedOut: false, cancelled: true });
    expect(await groupGone(await child.pgid())).toBe(true);
  });

  it('an already-aborted signal spawns nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const marker = join(dir, 'ran');
    const child = run(`touch '${marker}'; echo ran`, { signal: controller.signal });
    const outcome = await child.done;
    expect(outcome).toEqual(notStarted);
    await sleep(200);
    expect(existsSync(marker)).toBe(false);
    expect(child.started()).toBe(false);
    expect(child.stdout()).toBe('');
    expect(reaper.calls).toEqual([]);
    expect(() => {
      child.stop('cancel');
    }).not.toThrow();
  });

  it('an abort while waiting for the gate spawns nothing', async () => {
    const manual = new ManualGate();
    const controller = new AbortController();
    const marker = join(dir, 'ran');
    const child = run(`touch '${marker}'`, { gate: manual, signal: controller.signal });
    await sleep(20);
    controller.abort();
    manual.open();
    expect(await child.done).toEqual(notStarted);
    await sleep(200);
    expect(existsSync(marker)).toBe(false);
    expect(child.started()).toBe(false);
    expect(reaper.calls).toEqual([]);
  });

  it('stop() before the gate turn spawns nothing', async () => {
    const marker = join(dir, 'ran');
    const child = run(`touch '${marker}'; echo ran`);
    child.stop('cancel');
    expect(await child.done).toEqual(notStarted);
    await sleep(200);
    expect(existsSync(marker)).toBe(false);
    expect(child.started()).toBe(false);
    expect(child.stdout()).toBe('');
    expect(reaper.calls).toEqual([]);
  });

  it('stop("cancel") cancels and stop is idempotent: the first reason wins', async () => {
    const child = run('echo started; sleep 30');
    await child.printed('started');
    child.stop('cancel');
    child.stop('timeout');
    const outcome = await child.done;
    expect(outcome).toMatchObject({ cancelled: true, timedOut: false, signal: 'SIGTERM' });
    expect(reaper.calls).toEqual([{ pgid: await child.pgid(), graceMs: 300 }]);
  });

  it('stop("timeout") marks the run timed out', async () => {
    const child = run('echo started; sleep 30');
    await child.printed('started');
    child.stop('timeout');
    child.stop('cancel');
    expect(await child.done).toMatchObject({ cancelled: false, timedOut: true, signal: 'SIGTERM' });
    expect(reaper.calls).toHaveLength(1);
  });

  it('an abort after the process exited changes nothing', async () => {
    const controller = new AbortController();
    const child = run('exit 3', { signal: controller.signal });
    const outcome = await child.done;
    controller.abort();
    child.stop('cancel');
    expect(outcome).toMatchObject({ exitCode: 3, cancelled: false, timedOut: false });
    // Only the hand-over after the exit; neither the abort nor stop() stopped the group again.
    expect(reaper.calls).toHaveLength(1);
  });
});

describe('supervise: what the command leaves behind', () => {
  it('kills a background job that holds the output pipe, and does not wait for it', async () => {
    // Exit only once the job has become `sleep`, which holds stdout open for 30 s.
    const child = run(
      `sleep 30 & p=$!; while [ "$(cut -d' ' -f2 /proc/$p/stat)" != "(sleep)" ]; do sleep 0.01; done; echo $p`,
    );
    const outcome = await within(child.done, 2000);
    expect(outcome).not.toBe('still running');
    expect(outcome).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false });
    const background = Number(child.stdout().trim());
    expect(background).toBeGreaterThan(0);
    expect(await eventually(() => !isAlive(background))).toBe(true);
    expect(await groupGone(await child.pgid())).toBe(true);
  });

  it('the reaper kills a background job that does not hold the output pipes', async () => {
    const child = run(
      `sleep 30 >/dev/null 2>&1 & p=$!; while [ "$(cut -d' ' -f2 /proc/$p/stat)" != "(sleep)" ]; do sleep 0.01; done; echo $p`,
    );
    const outcome = await within(child.done, 2000);
    expect(outcome).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false });
    const background = Number(child.stdout().trim());
    const pgid = await child.pgid();
    expect(statOf(background)?.pgrp).toBe(pgid);
    expect(reaper.calls).toEqual([{ pgid, graceMs: 300 }]);
    await reaper.idle();
    expect(await eventually(() => !groupIsAlive(pgid))).toBe(true);
    expect(isAlive(background)).toBe(false);
    expect(liveMembersOf(pgid)).toEqual([]);
  });

  it('kills a TERM-ignoring background job with SIGKILL after the grace period', async () => {
    // The job marks when its trap is set, and the shell exits only after that, so SIGTERM cannot win.
    const started = Date.now();
    const child = run(
      "(trap '' TERM; touch trapped; exec sleep 30) & p=$!; while [ ! -e trapped ]; do sleep 0.01; done; echo $p",
      { killGraceMs: 200 },
    );
    const outcome = await within(child.done, 2000);
    expect(outcome).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    // SIGTERM was ignored and the job holds stdout, so done came only after the grace period and SIGKILL.
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(await eventually(() => !isAlive(Number(child.stdout().trim())))).toBe(true);
    expect(await groupGone(await child.pgid())).toBe(true);
  });

  it('does not wait for a TERM-ignoring job that left the pipes: the reaper SIGKILLs it later', async () => {
    const child = run(
      "(trap '' TERM; touch trapped; exec sleep 30) >/dev/null 2>&1 & p=$!; while [ ! -e trapped ]; do sleep 0.01; done; echo $p",
      { killGraceMs: 400 },
    );
    const background = Number((await child.printed('\n')).trim());
    const printedAt = Date.now();
    const outcome = await within(child.done, 2000);
    const doneAt = Date.now();
    expect(outcome).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false });
    // done came before the grace period ended: the job is still alive, and the reaper still on it.
    expect(doneAt - printedAt).toBeLessThan(400);
    const pgid = await child.pgid();
    expect(isAlive(background)).toBe(true);
    expect(groupIsAlive(pgid)).toBe(true);
    expect(reaper.size).toBe(1);
    await reaper.idle();
    expect(Date.now() - printedAt).toBeGreaterThanOrEqual(400);
    expect(await eventually(() => !isAlive(background))).toBe(true);
    expect(groupIsAlive(pgid)).toBe(false);
  });

  it('stops waiting for a process outside the group that holds the output pipe', async () => {
    // setsid moves the sleep out of the group, so the group kill cannot reach it; it keeps stdout open.
    // The loop waits until the job has left the group, so the group kill cannot catch it before setsid.
    const child = run(
      `setsid sleep 30 & p=$!; while [ "$(cut -d' ' -f5 /proc/$p/stat)" != "$p" ]; do sleep 0.01; done; echo $p`,
      { killGraceMs: 200 },
    );
    const straggler = Number((await child.printed('\n')).trim());
    strays.push(straggler);
    const printedAt = Date.now();
    const outcome = await within(child.done, 2500);
    expect(outcome).not.toBe('still running');
    expect(outcome).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    // It gave up on the pipes killGraceMs + 1000 ms after the exit, not earlier.
    expect(Date.now() - printedAt).toBeGreaterThanOrEqual(1150);
    // It really was out of reach: still alive, in a group of its own.
    expect(isAlive(straggler)).toBe(true);
    expect(statOf(straggler)?.pgrp).toBe(straggler);
  });
});

describe('supervise: spawn errors', () => {
  it('a nonexistent cwd is a spawnError', async () => {
    const missing = join(dir, 'missing');
    const child = run('touch here', { cwd: missing });
    const outcome = await child.done;
    expect(outcome).toMatchObject({ exitCode: null, signal: null, timedOut: false, cancelled: false });
    expect(outcome.spawnError).toContain(missing);
    expect(child.started()).toBe(false);
    expect(existsSync(join(dir, 'here'))).toBe(false);
    expect(reaper.calls).toEqual([]);
  });

  it('a nonexistent file is a spawnError', async () => {
    const missing = join(dir, 'no-such-program');
    const outcome = await supervise({
      file: missing,
      args: [],
      cwd: dir,
      env: {},
      timeoutMs: 1000,
      killGraceMs: 100,
      reaper,
      gate,
      onStdout: () => undefined,
      onStderr: () => undefined,
    }).done;
    expect(outcome).toMatchObject({ exitCode: null, signal: null, timedOut: false, cancelled: false });
    expect(outcome.spawnError).toContain('ENOENT');
    expect(reaper.calls).toEqual([]);
  });

  it('a bare name that is not on PATH is a spawnError', async () => {
    const outcome = await run('ignored', { file: 'no-such-program-mirrord-test', env: { PATH: dir } }).done;
    expect(outcome.spawnError).toContain('ENOENT');
  });

  it('a file that is not executable is a spawnError', async () => {
    const path = join(dir, 'not-executable');
    await writeFile(path, '#!/bin/sh\necho hi\n');
    await chmod(path, 0o644);
    const child = run('ignored', { file: path, args: [] });
    const outcome = await child.done;
    expect(outcome.spawnError).toContain('EACCES');
    expect(child.stdout()).toBe('');
  });
});
