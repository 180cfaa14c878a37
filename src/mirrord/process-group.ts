import { readdirSync, readFileSync } from 'node:fs';

/** Sends a signal to every process of a group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Process groups that hold a live (non-zombie) process, from one pass over /proc. Where PID 1
 * does not reap orphans, a dead group lingers as zombies that `kill(-pgid, 0)` still finds.
 * Synchronous on purpose: one pass is ~1 ms, less than dispatching hundreds of async reads.
 * Undefined where there is no /proc (then `kill(-pgid, 0)` is all we have).
 */
function liveGroups(): Set<number> | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const groups = new Set<number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may contain spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') groups.add(Number(fields[2]));
    } catch {
      // exited while we looked
    }
  }
  return groups;
}

interface Pending {
  pgid: number;
  killAt: number;
  resolve: () => void;
}

/**
 * Stops process groups: SIGTERM at once, SIGKILL when the grace period ends if anything of the
 * group still lives. One watcher serves every group, so 50 runs ending together cost one pass
 * over /proc per tick, not fifty, and nothing blocks the event loop.
 */
export class GroupReaper {
  private readonly pending = new Map<number, Pending[]>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;

  /** Resolves once the group has no live member (or right after its SIGKILL). */
  stop(pgid: number, graceMs: number): Promise<void> {
    if (!signalGroup(pgid, 'SIGTERM')) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.pending.get(pgid) ?? [];
      list.push({ pgid, killAt: Date.now() + graceMs, resolve });
      this.pending.set(pgid, list);
      this.schedule();
    });
  }

  /** Groups still being stopped. */
  get size(): number {
    return this.pending.size;
  }

  /** Waits until every group handed over so far is gone or killed. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private schedule(): void {
    if (this.timer) return;
    // Most groups die within a millisecond of SIGTERM: look soon, then back off.
    const delay = [1, 4, 10][this.ticks] ?? 25;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, delay);
  }

  private tick(): void {
    this.ticks += 1;
    // Only groups that still exist at all need the /proc pass.
    const suspects = [...this.pending.keys()].filter((pgid) => signalGroup(pgid, 0));
    const live = suspects.length > 0 ? liveGroups() : new Set<number>();
    const now = Date.now();
    for (const [pgid, list] of this.pending) {
      const alive = live ? live.has(pgid) : signalGroup(pgid, 0);
      const overdue = list.some((entry) => now >= entry.killAt);
      if (alive && overdue) signalGroup(pgid, 'SIGKILL');
      if (!alive || overdue) {
        this.pending.delete(pgid);
        for (const entry of list) entry.resolve();
      }
    }
    if (this.pending.size > 0) this.schedule();
    else this.ticks = 0;
  }
}

/** True while the group has a live (non-zombie) member. */
export function groupIsAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  return liveGroups()?.has(pgid) ?? true;
}

/**
 * Spawning forks the server, which blocks the event loop for milliseconds (more as the heap
 * grows). Fifty calls arriving together would block it for hundreds: the gate lets one spawn
 * happen per turn of the loop, so other requests are served in between.
 */
export class SpawnGate {
  private chain: Promise<void> = Promise.resolve();

  /** Resolves when it is this caller's turn to spawn. */
  turn(): Promise<void> {
    const mine = this.chain.then(
      () =>
        new Promise<void>((resolve) => {
          setImmediate(resolve);
        }),
    );
    this.chain = mine;
    return mine;
  }
}
