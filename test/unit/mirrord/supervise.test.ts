import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- every group and stray process a test starts is killed afterwards ----
const groups: number[] = [];
const strays: number[] = [];
let dir: string;

beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'supervise-test-')));
});

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
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
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  pid: number | undefined;
  done: Promise<ProcessOutcome>;
  stop: (reason: 'timeout' | 'cancel') => void;
  stdout: () => string;
  stderr: () => string;
  stdoutChunks: () => number;
  /** Resolves with the stdout text once it contains `needle`. */
  printed: (needle: string) => Promise<string>;
}

/** Supervises `sh -c script` with a minimal env and collects its output. */
function run(script: string, options: Partial<SuperviseOptions> = {}): Run {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const waiters: { needle: string; resolve: (text: string) => void }[] = [];
  const text = (): string => Buffer.concat(out).toString();
  const supervised = supervise({
    file: 'sh',
    args: ['-c', script],
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeoutMs: 10_000,
    killGraceMs: 300,
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
  if (supervised.pid !== undefined) groups.push(supervised.pid);
  return {
    pid: supervised.pid,
    done: supervised.done,
    stop: (reason) => {
      supervised.stop(reason);
    },
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
    expect(child.pid).toBeGreaterThan(0);
    const outcome = await child.done;
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
    const child = run("cut -d' ' -f5 /proc/$$/stat");
    await child.done;
    expect(Number(child.stdout().trim())).toBe(child.pid);
    expect(child.pid).not.toBe(statOf(process.pid)?.pgrp);
  });
});

describe('supervise: deadline', () => {
  it('a timeout stops a cooperative process with SIGTERM', async () => {
    const child = run('echo started; sleep 30', { timeoutMs: 200 });
    const outcome = await child.done;
    expect(outcome).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: true, cancelled: false });
    expect(child.stdout()).toBe('started\n');
    expect(liveMembersOf(child.pid ?? 0)).toEqual([]);
  });

  it('a timeout sends SIGKILL after the grace period to a group that ignores SIGTERM', async () => {
    const child = run("trap '' TERM; sleep 30 & echo $!; wait", { timeoutMs: 200, killGraceMs: 300 });
    const background = Number((await child.printed('\n')).trim());
    expect(isAlive(background)).toBe(true);
    const outcome = await child.done;
    expect(outcome).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: true, cancelled: false });
    expect(isAlive(background)).toBe(false);
    expect(liveMembersOf(child.pid ?? 0)).toEqual([]);
  });

  it('the plain `trap "" TERM; sleep 30` case: timedOut and nothing of the group left alive', async () => {
    const child = run("trap '' TERM; sleep 30", { timeoutMs: 150, killGraceMs: 300 });
    await sleep(50);
    expect(liveMembersOf(child.pid ?? 0).length).toBeGreaterThan(0);
    const outcome = await child.done;
    expect(outcome.timedOut).toBe(true);
    expect(outcome.signal).toBe('SIGKILL');
    expect(liveMembersOf(child.pid ?? 0)).toEqual([]);
  });

  it('a process that ends before its deadline is not marked timed out', async () => {
    const outcome = await run('sleep 0.1', { timeoutMs: 2000 }).done;
    expect(outcome).toMatchObject({ exitCode: 0, timedOut: false });
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
    expect(liveMembersOf(child.pid ?? 0)).toEqual([]);
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
    expect(liveMembersOf(child.pid ?? 0)).toEqual([]);
  });

  it('an already-aborted signal spawns nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const marker = join(dir, 'ran');
    const child = run(`touch ${marker}; echo ran`, { signal: controller.signal });
    expect(child.pid).toBeUndefined();
    const outcome = await child.done;
    expect(outcome).toEqual({
      exitCode: null,
      signal: null,
      timedOut: false,
      cancelled: true,
      durationMs: 0,
    });
    await sleep(200);
    expect(existsSync(marker)).toBe(false);
    expect(child.stdout()).toBe('');
    expect(() => {
      child.stop('cancel');
    }).not.toThrow();
  });

  it('stop("cancel") cancels and stop is idempotent: the first reason wins', async () => {
    const child = run('echo started; sleep 30');
    await child.printed('started');
    child.stop('cancel');
    child.stop('timeout');
    const outcome = await child.done;
    expect(outcome).toMatchObject({ cancelled: true, timedOut: false, signal: 'SIGTERM' });
  });

  it('stop("timeout") marks the run timed out', async () => {
    const child = run('echo started; sleep 30');
    await child.printed('started');
    child.stop('timeout');
    child.stop('cancel');
    expect(await child.done).toMatchObject({ cancelled: false, timedOut: true, signal: 'SIGTERM' });
  });

  it('an abort after the process exited changes nothing', async () => {
    const controller = new AbortController();
    const child = run('exit 3', { signal: controller.signal });
    const outcome = await child.done;
    controller.abort();
    child.stop('cancel');
    expect(outcome).toMatchObject({ exitCode: 3, cancelled: false, timedOut: false });
  });
});

describe('supervise: what the command leaves behind', () => {
  it('kills a background job and does not wait for it', async () => {
    // Exit only once the job has become `sleep`, which holds stdout open for 30 s.
    const child = run(
      `sleep 30 & p=$!; while [ "$(cut -d' ' -f2 /proc/$p/stat)" != "(sleep)" ]; do sleep 0.01; done; echo $p`,
    );
    const outcome = await within(child.done, 5000);
    expect(outcome).not.toBe('still running');
    expect(outcome).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false });
    const background = Number(child.stdout().trim());
    expect(background).toBeGreaterThan(0);
    expect(isAlive(background)).toBe(false);
    expect(liveMembersOf(child.pid ?? 0)).toEqual([]);
  });

  it('kills a TERM-ignoring background job with SIGKILL after the grace period', async () => {
    // The job marks when its trap is set, and the shell exits only after that, so SIGTERM cannot win.
    const started = Date.now();
    const child = run(
      "(trap '' TERM; touch trapped; exec sleep 30) & p=$!; while [ ! -e trapped ]; do sleep 0.01; done; echo $p",
      { killGraceMs: 200 },
    );
    const outcome = await within(child.done, 5000);
    expect(outcome).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    // SIGTERM was ignored, so the group was only gone after the grace period and the SIGKILL.
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(isAlive(Number(child.stdout().trim()))).toBe(false);
    expect(liveMembersOf(child.pid ?? 0)).toEqual([]);
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
    const outcome = await within(child.done, 5000);
    expect(outcome).not.toBe('still running');
    expect(outcome).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
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
    expect(child.pid).toBeUndefined();
    expect(outcome).toMatchObject({ exitCode: null, signal: null, timedOut: false, cancelled: false });
    expect(outcome.spawnError).toContain(missing);
    expect(existsSync(join(dir, 'here'))).toBe(false);
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
      onStdout: () => undefined,
      onStderr: () => undefined,
    }).done;
    expect(outcome).toMatchObject({ exitCode: null, signal: null, timedOut: false, cancelled: false });
    expect(outcome.spawnError).toContain('ENOENT');
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
