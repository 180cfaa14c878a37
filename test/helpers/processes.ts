import { readdirSync, readFileSync } from 'node:fs';

/** Live (non-zombie) processes whose command line starts with `needle` (e.g. "sleep 1234"). */
export function liveProcessesMatching(needle: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state === 'Z') continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.startsWith(needle)) found.push({ pid: Number(entry), cmdline });
    } catch {
      // gone while we looked
    }
  }
  return found;
}

/** Polls until `check` holds or the time is up; returns the last value. */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  check: (value: T) => boolean,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!check(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await probe();
  }
  return value;
}
