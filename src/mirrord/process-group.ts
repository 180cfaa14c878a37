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

const hasProc = ((): boolean => {
  try {
    readdirSync('/proc/self');
    return true;
  } catch {
    return false;
  }
})();

/**
 * Live (non-zombie) members of a process group. Where PID 1 does not reap orphans, a dead group
 * can linger as zombies that `kill(-pgid, 0)` still finds; /proc tells them apart.
 */
export function liveGroupMembers(pgid: number): number[] {
  if (!signalGroup(pgid, 0)) return [];
  if (!hasProc) return [pgid];
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

/**
 * Stops a process group: SIGTERM, then SIGKILL after `graceMs` if any member still lives.
 * Resolves once no live member is left (or right after the SIGKILL).
 */
export async function killGroup(pgid: number, graceMs: number, pollMs = 25): Promise<void> {
  if (liveGroupMembers(pgid).length === 0) return;
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    if (liveGroupMembers(pgid).length === 0) return;
  }
  signalGroup(pgid, 'SIGKILL');
}
