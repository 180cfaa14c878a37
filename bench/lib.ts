import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const fakeBin = join(root, 'test', 'fixtures', 'bin');
export const cli = join(root, 'dist', 'cli.js');
/** A sh stand-in for mirrord that starts at native speed (bench/fixtures/mirrord). */
export const liteMirrord = join(root, 'bench', 'fixtures', 'mirrord');

export interface BenchServer {
  url: string;
  proc: ChildProcess;
  home: string;
  tmp: string;
  logs(): string;
  stop(): Promise<void>;
}

/** Starts the built server with the fake mirrord on PATH and the event-loop probe preloaded. */
export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const home = await mkdtemp(join(tmpdir(), 'mms-bench-home-'));
  const tmp = await mkdtemp(join(tmpdir(), 'mms-bench-tmp-'));
  const proc = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []),
      '--import',
      join(root, 'bench', 'eld-probe.mjs'),
      cli,
      '--port',
      '0',
    ],
    {
      env: {
        PATH: `${fakeBin}:${process.env.PATH ?? ''}`,
        HOME: home,
        TMPDIR: tmp,
        MIRRORD_MCP_LOG_LEVEL: 'info',
        // The run benches measure the run path, not Kubernetes: no cluster, so no pre-spawn target check
        // (bench/list-targets.ts measures discovery against the fake API).
        MIRRORD_MCP_KUBE_CHECK_TARGETS: 'false',
        // One anonymous load generator makes thousands of calls: the per-identity rate limit is off.
        MIRRORD_MCP_RATE_LIMIT_REQUESTS_PER_MINUTE: '0',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let logs = '';
  proc.stderr!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Leave nothing behind when the server never comes up.
      proc.kill('SIGKILL');
      void Promise.all([
        rm(home, { recursive: true, force: true }),
        rm(tmp, { recursive: true, force: true }),
      ]).finally(() => {
        reject(new Error(`server did not start: ${logs}`));
      });
    }, 15_000);
    const check = (): void => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(logs);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    proc.stderr!.on('data', check);
  });
  return {
    url,
    proc,
    home,
    tmp,
    logs: () => logs,
    stop: async () => {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
      await rm(home, { recursive: true, force: true });
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** Asks the probe for the event-loop delay since the last ask. */
export async function eventLoopDelay(
  server: BenchServer,
): Promise<{ p50: number; p99: number; max: number; count: number }> {
  const before = server.logs().length;
  server.proc.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    const match = /\{"eld":(\{[^}]+\})\}/.exec(server.logs().slice(before));
    if (match) return JSON.parse(match[1]!);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no event-loop figures from the probe');
}

/** Resident set size of a process, in bytes (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

/** CPU time (user + system) a process has used so far, in ms (Linux, from /proc/PID/stat). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which sits in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const msPerTick = 10; // USER_HZ is 100 on Linux
  return (Number(fields[11]) + Number(fields[12])) * msPerTick;
}

/** CPU time the whole machine has spent busy and in all, in ms summed over cores (Linux, /proc/stat). */
export async function machineCpuMs(): Promise<{ busy: number; total: number }> {
  const stat = await readFile('/proc/stat', 'utf8');
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice", in USER_HZ ticks; guest
  // time is already counted in user.
  const ticks = stat.split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, t) => sum + t, 0);
  const idle = ticks[3]! + ticks[4]!;
  return { busy: (total - idle) * 10, total: total * 10 };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const fmt = (n: number, digits = 1): string => n.toFixed(digits);

export function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}
