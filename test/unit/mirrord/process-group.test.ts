import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupReaper, groupIsAlive, signalGroup, SpawnGate } from '../../../src/mirrord/process-group.js';

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

/** Resolves on the next turn of the event loop (after pending I/O and timers of this turn). */
const nextTurn = (): Promise<'next turn'> =>
  new Promise((resolve) => {
    setImmediate(() => {
      resolve('next turn');
    });
  });

// ---- spawned groups, all killed after each test; every reaper is drained ----
const groups: number[] = [];
let reaper: GroupReaper;

beforeEach(() => {
  reaper = new GroupReaper();
});

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Nothing the reaper still watches may outlive the test (its timer would keep running).
  await reaper.idle();
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

/** A group of a leader and two background sleeps, all of which die on SIGTERM. */
async function cooperativeGroup(): Promise<Group & { members: number[] }> {
  const group = spawnGroup('sleep 30 & a=$!; sleep 30 & b=$!; echo $a $b; wait');
  const jobs = await group.firstLine;
  const members = [group.pid, ...jobs].sort((x, y) => x - y);
  expect(liveMembersOf(group.pid)).toEqual(members);
  return { ...group, members };
}

/** A group whose leader and background sleep both ignore SIGTERM. */
async function termIgnoringGroup(): Promise<Group & { background: number }> {
  const group = spawnGroup("trap '' TERM; sleep 30 & echo $!; wait");
  const [background] = await group.firstLine;
  expect(background).toBeGreaterThan(0);
  expect(liveMembersOf(group.pid)).toEqual([group.pid, background ?? 0].sort((x, y) => x - y));
  return { ...group, background: background ?? 0 };
}

/** A group left with only a zombie: its leader was killed and PID 1 here does not reap orphans. */
async function zombieOnlyGroup(): Promise<Group & { zombie: number }> {
  // sleep 0.05 becomes a child of `sleep 30` (after exec), which never reaps it.
  const group = spawnGroup('sleep 0.05 & echo $!; exec sleep 30');
  const [zombie] = await group.firstLine;
  expect(await eventually(() => isZombie(zombie ?? 0))).toBe(true);
  process.kill(group.pid, 'SIGKILL'); // the leader only; the zombie stays
  await group.exited;
  expect(isAlive(group.pid)).toBe(false);
  expect(isZombie(zombie ?? 0)).toBe(true);
  expect(statOf(zombie ?? 0)?.pgrp).toBe(group.pid);
  return { ...group, zombie: zombie ?? 0 };
}

/** Settles `promise` and reports how long it took from now. */
async function timed(promise: Promise<unknown>): Promise<number> {
  const started = Date.now();
  await promise;
  return Date.now() - started;
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

  it('reaches every member of the group, not only the leader', async () => {
    const group = await cooperativeGroup();
    expect(signalGroup(group.pid, 'SIGKILL')).toBe(true);
    expect((await group.exited).signal).toBe('SIGKILL');
    expect(await eventually(() => liveMembersOf(group.pid).length === 0)).toBe(true);
    for (const pid of group.members) expect(isAlive(pid)).toBe(false);
  });
});

describe('groupIsAlive', () => {
  it('false for a group that does not exist', () => {
    expect(groupIsAlive(impossiblePid)).toBe(false);
  });

  it('true for a group with live members, false once they are gone', async () => {
    const group = await cooperativeGroup();
    expect(groupIsAlive(group.pid)).toBe(true);
    process.kill(-group.pid, 'SIGKILL');
    await group.exited;
    expect(await eventually(() => !groupIsAlive(group.pid))).toBe(true);
    expect(liveMembersOf(group.pid)).toEqual([]);
  });

  it('true while background jobs live on after the leader exited', async () => {
    const group = spawnGroup('sleep 30 & echo $!');
    const [background] = await group.firstLine;
    expect((await group.exited).code).toBe(0);
    expect(isAlive(group.pid)).toBe(false);
    expect(liveMembersOf(group.pid)).toEqual([background]);
    expect(groupIsAlive(group.pid)).toBe(true);
  });

  it('does not count zombies, but a live member next to a zombie still counts', async () => {
    const group = spawnGroup('sleep 0.05 & echo $!; exec sleep 30');
    const [zombie] = await group.firstLine;
    expect(await eventually(() => isZombie(zombie ?? 0))).toBe(true);
    expect(liveMembersOf(group.pid)).toEqual([group.pid]);
    expect(groupIsAlive(group.pid)).toBe(true);
  });

  it('false for a group left with only zombies, though kill(-pgid, 0) still finds it', async () => {
    const group = await zombieOnlyGroup();
    expect(signalGroup(group.pid, 0)).toBe(true);
    expect(groupIsAlive(group.pid)).toBe(false);
  });
});

describe('GroupReaper.stop', () => {
  it('resolves at once for a group that does not exist, and watches nothing', async () => {
    const stopping = reaper.stop(impossiblePid, 5000);
    expect(reaper.size).toBe(0);
    // Settled before the event loop turns even once: no timer, no /proc pass.
    await expect(Promise.race([stopping, nextTurn()])).resolves.toBeUndefined();
    expect(reaper.size).toBe(0);
  });

  it('stops a whole group that dies on SIGTERM quickly, long before the grace period ends', async () => {
    const group = await cooperativeGroup();
    const stopping = reaper.stop(group.pid, 2000);
    expect(reaper.size).toBe(1);
    const elapsed = await timed(stopping);
    expect(elapsed).toBeLessThan(500);
    expect(reaper.size).toBe(0);
    expect(liveMembersOf(group.pid)).toEqual([]);
    for (const pid of group.members) expect(isAlive(pid)).toBe(false);
    expect(groupIsAlive(group.pid)).toBe(false);
    expect((await group.exited).signal).toBe('SIGTERM');
  });

  it('SIGKILLs a group that ignores SIGTERM once the grace period ends, then resolves', async () => {
    const group = await termIgnoringGroup();
    let settled = false;
    const started = Date.now();
    const stopping = reaper.stop(group.pid, 400).then(() => {
      settled = true;
    });
    await sleep(150);
    // Inside the grace period the TERM-ignoring members are still there, and the reaper waits.
    expect(settled).toBe(false);
    expect(reaper.size).toBe(1);
    expect(isAlive(group.pid)).toBe(true);
    expect(isAlive(group.background)).toBe(true);
    await stopping;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(1000);
    expect(reaper.size).toBe(0);
    expect((await group.exited).signal).toBe('SIGKILL');
    expect(await eventually(() => liveMembersOf(group.pid).length === 0)).toBe(true);
    expect(isAlive(group.background)).toBe(false);
    expect(groupIsAlive(group.pid)).toBe(false);
  });

  it('resolves when a TERM-ignoring group ends by itself within the grace period, without SIGKILL', async () => {
    const group = spawnGroup("trap '' TERM; echo ready; sleep 0.2");
    await group.firstLine;
    const elapsed = await timed(reaper.stop(group.pid, 2000));
    expect(elapsed).toBeLessThan(1000);
    expect(await group.exited).toEqual({ code: 0, signal: null });
    expect(liveMembersOf(group.pid)).toEqual([]);
  });

  it('kills members that the leader left behind after it exited', async () => {
    const group = spawnGroup('sleep 30 & echo $!');
    const [background] = await group.firstLine;
    expect((await group.exited).code).toBe(0);
    expect(isAlive(background ?? 0)).toBe(true);
    expect(liveMembersOf(group.pid)).toEqual([background]);
    const elapsed = await timed(reaper.stop(group.pid, 2000));
    expect(elapsed).toBeLessThan(500);
    expect(isAlive(background ?? 0)).toBe(false);
    expect(liveMembersOf(group.pid)).toEqual([]);
  });

  it('resolves quickly for a group left with only zombies', async () => {
    const group = await zombieOnlyGroup();
    const elapsed = await timed(reaper.stop(group.pid, 2000));
    expect(elapsed).toBeLessThan(500);
    expect(reaper.size).toBe(0);
    expect(groupIsAlive(group.pid)).toBe(false);
  });

  it('two stops of the same group count as one group and both resolve', async () => {
    const group = await termIgnoringGroup();
    const first = reaper.stop(group.pid, 300);
    const second = reaper.stop(group.pid, 300);
    expect(reaper.size).toBe(1);
    await Promise.all([first, second]);
    expect(reaper.size).toBe(0);
    expect((await group.exited).signal).toBe('SIGKILL');
    expect(await eventually(() => liveMembersOf(group.pid).length === 0)).toBe(true);
  });

  it('one reaper stops several groups at once, each on its own schedule', async () => {
    const quick1 = await cooperativeGroup();
    const quick2 = await cooperativeGroup();
    const stubbornShort = await termIgnoringGroup();
    const stubbornLong = await termIgnoringGroup();
    const started = Date.now();
    const resolvedAt = new Map<string, number>();
    const track = (name: string, promise: Promise<void>): Promise<void> =>
      promise.then(() => {
        resolvedAt.set(name, Date.now() - started);
      });
    const all = Promise.all([
      track('quick1', reaper.stop(quick1.pid, 2000)),
      track('quick2', reaper.stop(quick2.pid, 2000)),
      track('stubbornShort', reaper.stop(stubbornShort.pid, 250)),
      track('stubbornLong', reaper.stop(stubbornLong.pid, 600)),
    ]);
    expect(reaper.size).toBe(4);

    // The cooperative groups are done long before the stubborn ones are killed.
    expect(await eventually(() => resolvedAt.has('quick1') && resolvedAt.has('quick2'), 1000)).toBe(true);
    expect(reaper.size).toBe(2);
    expect(liveMembersOf(quick1.pid)).toEqual([]);
    expect(liveMembersOf(quick2.pid)).toEqual([]);
    expect(isAlive(stubbornShort.background)).toBe(true);
    expect(isAlive(stubbornLong.background)).toBe(true);

    await all;
    expect(reaper.size).toBe(0);
    expect(resolvedAt.get('quick1')).toBeLessThan(250);
    expect(resolvedAt.get('quick2')).toBeLessThan(250);
    expect(resolvedAt.get('stubbornShort')).toBeGreaterThanOrEqual(250);
    expect(resolvedAt.get('stubbornShort')).toBeLessThan(600);
    expect(resolvedAt.get('stubbornLong')).toBeGreaterThanOrEqual(600);
    expect((await quick1.exited).signal).toBe('SIGTERM');
    expect((await quick2.exited).signal).toBe('SIGTERM');
    expect((await stubbornShort.exited).signal).toBe('SIGKILL');
    expect((await stubbornLong.exited).signal).toBe('SIGKILL');
    for (const group of [quick1, quick2, stubbornShort, stubbornLong]) {
      expect(await eventually(() => liveMembersOf(group.pid).length === 0)).toBe(true);
    }
  });

  it('works again after it went idle', async () => {
    const first = await cooperativeGroup();
    await reaper.stop(first.pid, 2000);
    expect(reaper.size).toBe(0);
    const second = await termIgnoringGroup();
    const elapsed = await timed(reaper.stop(second.pid, 200));
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect((await second.exited).signal).toBe('SIGKILL');
    expect(await eventually(() => liveMembersOf(second.pid).length === 0)).toBe(true);
  });
});

describe('GroupReaper.idle', () => {
  it('resolves at once when nothing is being stopped', async () => {
    expect(reaper.size).toBe(0);
    expect(await timed(reaper.idle())).toBeLessThan(50);
  });

  it('waits until every group handed over is gone or killed', async () => {
    const quick = await cooperativeGroup();
    const stubborn = await termIgnoringGroup();
    const started = Date.now();
    void reaper.stop(quick.pid, 2000);
    void reaper.stop(stubborn.pid, 300);
    let idle = false;
    const idling = reaper.idle().then(() => {
      idle = true;
    });
    await sleep(150);
    // The quick group is gone, the stubborn one is not: idle() keeps waiting.
    expect(liveMembersOf(quick.pid)).toEqual([]);
    expect(isAlive(stubborn.background)).toBe(true);
    expect(reaper.size).toBe(1);
    expect(idle).toBe(false);
    await idling;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(reaper.size).toBe(0);
    expect((await stubborn.exited).signal).toBe('SIGKILL');
    expect(await eventually(() => liveMembersOf(stubborn.pid).length === 0)).toBe(true);
  });
});

describe('SpawnGate', () => {
  it('a turn never resolves synchronously or within the current macrotask', async () => {
    const gate = new SpawnGate();
    let resolved = false;
    void gate.turn().then(() => {
      resolved = true;
    });
    for (let i = 0; i < 10; i += 1) await Promise.resolve();
    expect(resolved).toBe(false);
    await nextTurn();
    await nextTurn();
    expect(resolved).toBe(true);
  });

  it('turns resolve in the order they were asked for', async () => {
    const gate = new SpawnGate();
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        gate.turn().then(() => {
          order.push(index);
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('each turn is a separate macrotask: an immediate queued before turn 2 is due runs first', async () => {
    const gate = new SpawnGate();
    const log: string[] = [];
    const first = gate.turn().then(() => {
      log.push('turn 1');
      // Queued as turn 1 is given, before the gate queues turn 2: it must run before turn 2.
      setImmediate(() => {
        log.push('immediate');
      });
    });
    const second = gate.turn().then(() => {
      log.push('turn 2');
    });
    await Promise.all([first, second]);
    expect(log).toEqual(['turn 1', 'immediate', 'turn 2']);
  });

  it('each of many turns comes in a later turn of the event loop than the one before', async () => {
    const gate = new SpawnGate();
    // Counts turns of the event loop: one increment per check phase.
    let loopTurns = 0;
    let ticking = true;
    const tick = (): void => {
      loopTurns += 1;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const seen: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, () =>
        gate.turn().then(() => {
          seen.push(loopTurns);
        }),
      ),
    );
    ticking = false;
    expect(seen).toHaveLength(20);
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]).toBeGreaterThan(seen[i - 1] ?? Infinity);
  });

  it('a turn asked for after earlier ones settled is still a fresh macrotask', async () => {
    const gate = new SpawnGate();
    await gate.turn();
    const log: string[] = [];
    setImmediate(() => {
      log.push('immediate');
    });
    await gate.turn();
    log.push('turn');
    expect(log).toEqual(['immediate', 'turn']);
  });

  it('separate gates do not wait for each other', async () => {
    const a = new SpawnGate();
    const b = new SpawnGate();
    const order: string[] = [];
    const turns = [
      a.turn().then(() => order.push('a1')),
      a.turn().then(() => order.push('a2')),
      b.turn().then(() => order.push('b1')),
    ];
    await Promise.all(turns);
    // b's first turn does not queue behind a's second.
    expect(order.indexOf('b1')).toBeLessThan(order.indexOf('a2'));
  });
});
