import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { killGroup, liveGroupMembers, signalGroup } from '../../../src/mirrord/process-group.js';

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

function isZombie(pid: number): boolean {
  return statOf(pid)?.state === 'Z';
}

/** Live (non-zombie) processes whose process group is `pgid`. */
function liveMembersOf(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (stat && stat.state !== 'Z' && stat.pgrp === pgid) members.push(Number(entry));
  }
  return members.sort((a, b) => a - b);
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- spawned groups, all killed after each test ----
const groups: number[] = [];

afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A PID that cannot exist (above any pid_max), so its group cannot either. */
const impossiblePid = 2 ** 30;

interface Group {
  pid: number;
  /** The numbers the script printed on its first line (e.g. PIDs of its background jobs). */
  firstLine: Promise<number[]>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `sh -c script` as the leader of its own process group. */
function spawnGroup(script: string): Group {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('spawn failed');
  groups.push(pid);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  const firstLine = new Promise<number[]>((resolve) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const newline = text.indexOf('\n');
      if (newline >= 0) resolve(text.slice(0, newline).trim().split(/\s+/).map(Number));
    });
    child.stdout.once('close', () => {
      resolve(text.trim() === '' ? [] : text.trim().split(/\s+/).map(Number));
    });
  });
  return { pid, firstLine, exited };
}

describe('signalGroup', () => {
  it('false for a group that does not exist', () => {
    expect(signalGroup(impossiblePid, 0)).toBe(false);
    expect(signalGroup(impossiblePid, 'SIGTERM')).toBe(false);
  });

  it('true for a live group, and the signal reaches it', async () => {
    const group = spawnGroup('echo ready; sleep 30');
    await group.firstLine;
    expect(signalGroup(group.pid, 0)).toBe(true);
    expect(isAlive(group.pid)).toBe(true);
    expect(signalGroup(group.pid, 'SIGTERM')).toBe(true);
    expect((await group.exited).signal).toBe('SIGTERM');
  });
});

describe('liveGroupMembers', () => {
  it('[] for a group that does not exist', () => {
    expect(liveGroupMembers(impossiblePid)).toEqual([]);
  });

  it('lists the leader and its background jobs', async () => {
    const group = spawnGroup('sleep 30 & a=$!; sleep 30 & b=$!; echo $a $b; wait');
    const [a, b] = await group.firstLine;
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    const expected = [group.pid, a ?? 0, b ?? 0].sort((x, y) => x - y);
    expect(liveGroupMembers(group.pid).sort((x, y) => x - y)).toEqual(expected);
    expect(liveMembersOf(group.pid)).toEqual(expected);
  });

  it('does not count zombies', async () => {
    // sleep 0.05 becomes a child of `sleep 30` (after exec), which never reaps it.
    const group = spawnGroup('sleep 0.05 & echo $!; exec sleep 30');
    const [zombie] = await group.firstLine;
    expect(await eventually(() => isZombie(zombie ?? 0))).toBe(true);
    expect(signalGroup(group.pid, 0)).toBe(true);
    expect(liveGroupMembers(group.pid)).toEqual([group.pid]);
  });

  it('[] for a group left with only zombies', async () => {
    const group = spawnGroup('sleep 0.05 & echo $!; exec sleep 30');
    const [zombie] = await group.firstLine;
    expect(await eventually(() => isZombie(zombie ?? 0))).toBe(true);
    process.kill(group.pid, 'SIGKILL'); // the leader only; the zombie stays (PID 1 here does not reap)
    await group.exited;
    expect(isAlive(group.pid)).toBe(false);
    expect(liveGroupMembers(group.pid)).toEqual([]);
    await expect(killGroup(group.pid, 1000)).resolves.toBeUndefined();
  });
});

describe('killGroup', () => {
  it('resolves at once for a group that does not exist', async () => {
    await expect(killGroup(impossiblePid, 5000)).resolves.toBeUndefined();
  });

  it('stops a whole group with SIGTERM and resolves when none is left', async () => {
    const group = spawnGroup('sleep 30 & a=$!; sleep 30 & b=$!; echo $a $b; wait');
    const members = await group.firstLine;
    expect(liveMembersOf(group.pid)).toHaveLength(3);
    await killGroup(group.pid, 2000, 10);
    expect(liveMembersOf(group.pid)).toEqual([]);
    for (const pid of members) expect(isAlive(pid)).toBe(false);
    expect((await group.exited).signal).toBe('SIGTERM');
  });

  it('sends SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const group = spawnGroup("trap '' TERM; sleep 30 & echo $!; wait");
    const [background] = await group.firstLine;
    const killing = killGroup(group.pid, 400, 10);
    await sleep(150);
    // Inside the grace period the TERM-ignoring members are still there.
    expect(isAlive(group.pid)).toBe(true);
    expect(isAlive(background ?? 0)).toBe(true);
    await killing;
    expect(await eventually(() => liveMembersOf(group.pid).length === 0)).toBe(true);
    expect(isAlive(background ?? 0)).toBe(false);
    expect((await group.exited).signal).toBe('SIGKILL');
  });

  it('kills members that the leader left behind after it exited', async () => {
    const group = spawnGroup('sleep 30 & echo $!');
    const [background] = await group.firstLine;
    expect((await group.exited).code).toBe(0);
    expect(isAlive(background ?? 0)).toBe(true);
    expect(liveGroupMembers(group.pid)).toEqual([background]);
    await killGroup(group.pid, 2000, 10);
    expect(isAlive(background ?? 0)).toBe(false);
    expect(liveMembersOf(group.pid)).toEqual([]);
  });
});
