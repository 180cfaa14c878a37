import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, percentile, root as repoRoot, startBenchServer, verdict } from './lib.js';

const MiB = 1024 ** 2;
/** The `mirrord-mcp-server` command as installed (package.json `bin`), which is what users run. */
const bin = join(repoRoot, 'dist', 'bin.cjs');
const deadlineMs = 8 * 60_000;

/** Deterministic, incompressible bytes (xorshift32), so runs are comparable and nothing dedupes. */
function fill(buffer: Buffer, seed: number): void {
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= buffer.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buffer.writeUInt32LE(x >>> 0, i);
  }
}

/** 10,000 files in 100 directories, 100 MiB in all, sizes spread between 1 and ~20 KiB. */
async function generate(root: string, files: number, totalBytes: number): Promise<void> {
  const weights = Array.from({ length: files }, (_, i) => 1 + ((i * 7919) % 19));
  const sum = weights.reduce((a, b) => a + b, 0);
  let left = totalBytes;
  for (let d = 0; d < 100; d++) await mkdir(join(root, `pkg${d}`, 'src'), { recursive: true });
  await writeFile(join(root, '.gitignore'), 'node_modules/\n');
  for (let i = 0; i < files; i++) {
    const size = i === files - 1 ? left : Math.floor((weights[i]! / sum) * totalBytes);
    left -= size;
    const data = Buffer.alloc(size);
    fill(data, i + 1);
    await writeFile(join(root, `pkg${i % 100}`, 'src', `file${i}.dat`), data);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function ensureRsync(): string {
  const found = (): string | undefined => {
    try {
      return execFileSync('sh', ['-c', 'command -v rsync'], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const existing = found();
  if (existing) return existing;
  console.log('sync: rsync is missing; installing it with apt-get (Debian rsync)');
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', 'rsync'], { stdio: 'ignore' });
  } catch {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'rsync'], { stdio: 'ignore' });
  }
  const installed = found();
  if (!installed) throw new Error('rsync could not be installed');
  return installed;
}

/** Runs a command, resolving with its wall time and stdout. */
function timed(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

async function startRsyncDaemon(rsync: string, dir: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const dest = join(dir, 'dest');
  await mkdir(dest);
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const conf = join(dir, 'rsyncd.conf');
  await writeFile(
    conf,
    [
      `address = 127.0.0.1`,
      `port = ${port}`,
      `use chroot = no`,
      `uid = ${uid}`,
      `gid = ${gid}`,
      `pid file = ${join(dir, 'rsyncd.pid')}`,
      `lock file = ${join(dir, 'rsyncd.lock')}`,
      `log file = ${join(dir, 'rsyncd.log')}`,
      `[bench]`,
      `path = ${dest}`,
      `read only = false`,
      '',
    ].join('\n'),
  );
  const proc = spawn(rsync, ['--daemon', '--no-detach', `--config=${conf}`], { stdio: 'ignore' });
  const url = `rsync://127.0.0.1:${port}/bench/`;
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync(rsync, [url], { stdio: 'ignore' });
      return { url, proc };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  proc.kill('SIGKILL');
  throw new Error('the rsync daemon did not start');
}

/**
 * What creating a file costs on this disk right now (create, write 4 KiB, close, rename; sync
 * calls): printed beside the figures, since it bounds both sides of a first sync and drifts.
 */
function fileCreationCost(dir: string, count = 2000): number {
  mkdirSync(join(dir, 'a'), { recursive: true });
  mkdirSync(join(dir, 'b'));
  const data = Buffer.alloc(4096, 1);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const tmp = join(dir, 'a', String(i));
    const fd = openSync(tmp, 'wx');
    writeSync(fd, data);
    closeSync(fd);
    renameSync(tmp, join(dir, 'b', String(i)));
  }
  return ((performance.now() - started) * 1000) / count;
}

/**
 * The least a fresh `sync` process can take here, whatever it does: Node's own start-up (`node -e
 * 0`, median of 5) and one `lstat` per file of the project in a fresh Node process (the walk's
 * system calls alone, no ignore rules, no hashing, nothing sent).
 */
async function oneShotFloor(
  project: string,
  env: NodeJS.ProcessEnv,
): Promise<{ start: number; lstat: number }> {
  const starts: number[] = [];
  const lstats: number[] = [];
  const script = `const fs=require('node:fs');const t=performance.now();const walk=(d)=>{for(const e of fs.readdirSync(d,{withFileTypes:true})){const p=d+'/'+e.name;if(e.isDirectory())walk(p);else fs.lstatSync(p)}};walk(process.argv[1]);console.log(performance.now()-t)`;
  for (let i = 0; i < 5; i++) {
    starts.push((await timed(process.execPath, ['-e', '0'], env)).ms);
    lstats.push(Number((await timed(process.execPath, ['-e', script, project], env)).stdout));
  }
  return { start: percentile(starts, 50), lstat: percentile(lstats, 50) };
}

const watchDebounceMs = 20;
/** File creation cost (us) under which the disk is taken as settled. */
const settledUs = 150;

interface WatchRound {
  own: number;
  fromWrite: number;
  phases: unknown;
}

interface HandOffRound {
  /** Wall time of the one-shot `sync` process. */
  wall: number;
  /** The phases of the watch's own sync it asked for (none when nothing had changed). */
  phases: unknown;
}

/**
 * `sync --watch` as a developer leaves it running: one process (its code warm, its hash cache in
 * memory, its connection open); each round writes one file and waits for the re-sync's report,
 * then saves a file again unchanged (as editors do), which sets off a sync that finds nothing to
 * send. Then one-shot `sync` processes while it runs (they ask it, see watch-socket.ts): after a
 * one-file write, and with nothing changed.
 */
async function watchSeries(options: {
  project: string;
  url: string;
  workspace: string;
  env: NodeJS.ProcessEnv;
  repeats: number;
  touchOne: () => Promise<void>;
  oneShot: () => Promise<{ wall: number; own: number; report: Record<string, number> }>;
}): Promise<{
  one: WatchRound[];
  none: WatchRound[];
  handOffOne: HandOffRound[];
  handOffNone: HandOffRound[];
}> {
  const watch = (debounceMs: number) => {
    const child = spawn(
      process.execPath,
      [
        bin,
        'sync',
        options.project,
        '--url',
        options.url,
        '--workspace',
        options.workspace,
        '--json',
        '--watch',
        '--debounce-ms',
        String(debounceMs),
      ],
      { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let buffered = '';
    let stderr = '';
    const reports: Record<string, unknown>[] = [];
    let wake: (() => void) | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        reports.push(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>);
        buffered = buffered.slice(newline + 1);
        wake?.();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const next = async (): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 15_000;
      while (reports.length === 0) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`sync --watch gave no report: ${stderr}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      return reports.shift() as Record<string, unknown>;
    };
    const stop = async (): Promise<void> => {
      child.kill('SIGINT');
      await exited;
    };
    return { child, next, stop };
  };
  const one: WatchRound[] = [];
  const none: WatchRound[] = [];
  const handOffOne: HandOffRound[] = [];
  const handOffNone: HandOffRound[] = [];
  const resaved = join(options.project, 'pkg3', 'src', 'file3.dat');
  const resavedData = await readFile(resaved);
  // Watched rounds with a short debounce (what is timed is the watch's own sync).
  let current = watch(watchDebounceMs);
  let { next } = current;
  try {
    await next();
    // Let the watcher settle after its first sync, and between writes, as edits are apart.
    const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));
    // Two rounds first, not counted: a watch runs for hours, and its steady state is what counts
    // (the first rounds pay for compiling the code paths, on both sides).
    const warmUp = 2;
    for (let i = 0; i < options.repeats + warmUp; i++) {
      const counted = i >= warmUp;
      await pause();
      let started = performance.now();
      await options.touchOne();
      let report = await next();
      if (report.sentFiles !== 1)
        throw new Error(`--watch one-file re-sync sent ${String(report.sentFiles)} files`);
      if (counted)
        one.push({ own: report.ms as number, fromWrite: performance.now() - started, phases: report.phases });
      await pause();
      started = performance.now();
      await writeFile(resaved, resavedData);
      report = await next();
      if (report.unchanged !== true)
        throw new Error('--watch sync after an unchanged save was not unchanged');
      if (counted)
        none.push({
          own: report.ms as number,
          fromWrite: performance.now() - started,
          phases: report.phases,
        });
    }
    // One-shot syncs while a watch runs with the default debounce, as a developer leaves it: the
    // one-shot comes before the watch would have synced by itself.
    await current.stop();
    current = watch(300);
    ({ next } = current);
    await next();
    const child = current.child;
    for (let i = 0; i < options.repeats + warmUp; i++) {
      const counted = i >= warmUp;
      await pause();
      await options.touchOne();
      const run = await options.oneShot();
      const report = await next();
      if (run.report.watch !== child.pid || run.report.sentFiles !== 1)
        throw new Error(`the one-shot sync was not the watch's one-file sync: ${JSON.stringify(run.report)}`);
      if (counted) handOffOne.push({ wall: run.wall, phases: report.phases });
      await pause();
      const still = await options.oneShot();
      if (still.report.watch !== child.pid || still.report.unchanged !== (true as unknown as number))
        throw new Error(
          `the one-shot sync with nothing changed was not the watch's: ${JSON.stringify(still.report)}`,
        );
      if (counted) handOffNone.push({ wall: still.wall, phases: still.report.phases });
    }
  } finally {
    await current.stop();
  }
  return { one, none, handOffOne, handOffNone };
}

/** Benchmark: workspace sync of 10,000 files / 100 MiB, beside rsync -a to an rsync daemon on loopback. */
export async function benchSync(files = 10_000, totalBytes = 100 * MiB): Promise<string[]> {
  const rsync = ensureRsync();
  const work = await mkdtemp(join(tmpdir(), 'mms-bench-sync-'));
  const project = join(work, 'project');
  const home = join(work, 'home');
  const dataDir = join(work, 'data');
  await Promise.all([mkdir(project), mkdir(home), mkdir(dataDir)]);
  let server: Awaited<ReturnType<typeof startBenchServer>> | undefined;
  let daemon: { url: string; proc: ChildProcess } | undefined;
  const guard = setTimeout(() => {
    console.log('sync: benchmark over its time limit; stopping');
    daemon?.proc.kill('SIGKILL');
    server?.proc.kill('SIGKILL');
  }, deadlineMs);
  try {
    const genStarted = performance.now();
    await generate(project, files, totalBytes);
    const lines = [
      `sync: ${files} files, ${fmt(totalBytes / MiB)} MiB generated in ${fmt((performance.now() - genStarted) / 1000, 2)} s; rsync ${execFileSync(rsync, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? ''}`,
    ];
    // Deletions (earlier sections' clean-up, other jobs) make file creation slow here for a while
    // afterwards: wait, up to a minute, for the disk to settle, and say how it was.
    const settleStarted = performance.now();
    let probes = 0;
    let cost = fileCreationCost(join(work, `probe-${probes++}`));
    while (cost > settledUs && performance.now() - settleStarted < 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      cost = fileCreationCost(join(work, `probe-${probes++}`));
    }
    lines.push(
      `  this disk, before: ${fmt(cost, 0)} µs to create, write and rename a 4 KiB file (sync calls), after waiting ${fmt((performance.now() - settleStarted) / 1000, 0)} s for it to fall under ${settledUs} µs`,
    );
    server = await startBenchServer({ MIRRORD_MCP_WORKSPACES_DATA_DIR: dataDir });
    daemon = await startRsyncDaemon(rsync, work);
    const ours = async (
      workspace: string,
      cacheHome: string,
    ): Promise<{ wall: number; own: number; report: Record<string, number> }> => {
      const { ms, stdout } = await timed(
        process.execPath,
        [bin, 'sync', project, '--url', server!.url, '--workspace', workspace, '--json'],
        { PATH: process.env.PATH ?? '', HOME: home, XDG_CACHE_HOME: cacheHome },
      );
      const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
      return { wall: ms, own: report.ms ?? Number.NaN, report };
    };
    const theirs = async (dest: string): Promise<number> =>
      (await timed(rsync, ['-a', `${project}/`, `${daemon!.url}${dest}/`], { PATH: process.env.PATH ?? '' }))
        .ms;
    let touched = 0;
    const touchOne = async (): Promise<void> => {
      touched += 1;
      const data = Buffer.alloc(4096);
      fill(data, 1_000_000 + touched);
      await writeFile(join(project, 'pkg7', 'src', 'file7.dat'), data);
    };
    const med = (values: number[]): number => percentile(values, 50);
    const mbps = (ms: number): string => fmt(totalBytes / 1e6 / (ms / 1000));

    // First syncs, each to a new workspace (and a new rsync destination) with an empty hash cache,
    // alternating which goes first: this disk's speed for creating files drifts by several times
    // within minutes (the probe lines), and both sides create 10,000 files. Nothing is deleted
    // until the end, so neither pays for the other's deletions.
    const rounds = 5;
    const firstOurs: { wall: number; own: number; report: Record<string, number> }[] = [];
    const firstRsync: number[] = [];
    const cacheHome = (round: number): string => join(home, `cache-${round}`);
    for (let round = 0; round < rounds; round++) {
      const runOurs = async (): Promise<void> => {
        firstOurs.push(await ours(`first-${round}`, cacheHome(round)));
      };
      const runRsync = async (): Promise<void> => {
        firstRsync.push(await theirs(`first-${round}`));
      };
      if (round % 2 === 0) {
        await runOurs();
        await runRsync();
      } else {
        await runRsync();
        await runOurs();
      }
    }
    const last = rounds - 1;
    const workspace = `first-${last}`;

    const repeats = 5;
    const oneOurs: { wall: number; own: number; report: Record<string, number> }[] = [];
    const oneRsync: number[] = [];
    const noneOurs: { wall: number; own: number }[] = [];
    const noneRsync: number[] = [];
    for (let i = 0; i < repeats; i++) {
      await touchOne();
      const run = await ours(workspace, cacheHome(last));
      if (run.report.sentFiles !== 1) throw new Error(`one-file re-sync sent ${run.report.sentFiles} files`);
      oneOurs.push(run);
      oneRsync.push(await theirs(workspace));
      const still = await ours(workspace, cacheHome(last));
      if (still.report.unchanged !== (true as unknown as number))
        throw new Error('no-change re-sync was not unchanged');
      noneOurs.push(still);
      noneRsync.push(await theirs(workspace));
    }
    const floor = await oneShotFloor(project, { PATH: process.env.PATH ?? '' });
    const watched = await watchSeries({
      project,
      url: server.url,
      workspace,
      env: { PATH: process.env.PATH ?? '', HOME: home, XDG_CACHE_HOME: cacheHome(last) },
      repeats,
      touchOne,
      oneShot: () => ours(workspace, cacheHome(last)),
    });

    const firstOwn = med(firstOurs.map((r) => r.own));
    const rsyncFirst = med(firstRsync);
    // The verdict is the median of the rounds' own ratios: each pair ran back to back, so a disk
    // that speeds up or slows down across the rounds does not favour either side.
    const ratio = med(firstOurs.map((r, i) => r.own / (firstRsync[i] ?? Number.NaN)));
    const pairs = firstOurs
      .map((r, i) => `${fmt(r.own, 0)}/${fmt(firstRsync[i] ?? Number.NaN, 0)}`)
      .join(', ');
    lines.push(
      `  first sync:        ours ${fmt(firstOwn, 0)} ms median of ${rounds} (${mbps(firstOwn)} MB/s; ${fmt(med(firstOurs.map((r) => r.wall)), 0)} ms with Node start-up)` +
        `   rsync -a ${fmt(rsyncFirst, 0)} ms (${mbps(rsyncFirst)} MB/s)   ratio ${fmt(ratio, 2)}x, the median of the rounds' (target <= 1.5x) ${verdict(ratio <= 1.5)}`,
      `                     rounds, ours/rsync ms: ${pairs}; phases of our median round: ${JSON.stringify(firstOurs.find((r) => r.own === firstOwn)?.report.phases ?? {})}`,
    );
    const one = med(oneOurs.map((r) => r.own));
    const oneWall = med(oneOurs.map((r) => r.wall));
    lines.push(
      `  one-file re-sync:  ours ${fmt(one, 0)} ms median of ${repeats}, ${fmt(oneWall, 0)} ms with Node start-up` +
        `   rsync -a ${fmt(med(oneRsync), 0)} ms   (target <= 150 ms) client ${verdict(one <= 150)}, end to end ${verdict(oneWall <= 150)}`,
    );
    lines.push(
      `                     phases of the median one-file round: ${JSON.stringify(oneOurs.find((r) => r.own === one)?.report.phases ?? {})}`,
    );
    const none = med(noneOurs.map((r) => r.own));
    const noneWall = med(noneOurs.map((r) => r.wall));
    lines.push(
      `  no-change re-sync: ours ${fmt(none, 0)} ms median of ${repeats}, ${fmt(noneWall, 0)} ms with Node start-up` +
        `   rsync -a ${fmt(med(noneRsync), 0)} ms   (target <= 100 ms) client ${verdict(none <= 100)}, end to end ${verdict(noneWall <= 100)}`,
    );
    lines.push(
      `  a fresh process's floor here: Node start-up ${fmt(floor.start, 0)} ms + ${files} lstat calls ${fmt(floor.lstat, 0)} ms = ${fmt(floor.start + floor.lstat, 0)} ms before any work (medians of 5)`,
    );
    const debounce = `--debounce-ms ${watchDebounceMs}`;
    lines.push(
      `  --watch, one file: ours ${fmt(med(watched.one.map((r) => r.own)), 0)} ms from the walk to the commit, ${fmt(med(watched.one.map((r) => r.fromWrite)), 0)} ms from the write (${debounce} included), median of ${repeats} after 2 warm-up rounds` +
        `   (target <= 150 ms) ${verdict(med(watched.one.map((r) => r.own)) <= 150)}`,
      `                     phases of the median one-file round: ${JSON.stringify(watched.one.find((r) => r.own === med(watched.one.map((x) => x.own)))?.phases ?? {})}`,
      `  --watch, no change: ours ${fmt(med(watched.none.map((r) => r.own)), 0)} ms from the listing to the answer, ${fmt(med(watched.none.map((r) => r.fromWrite)), 0)} ms from saving a file unchanged` +
        `   (target <= 100 ms) ${verdict(med(watched.none.map((r) => r.own)) <= 100)}`,
    );
    const handOne = med(watched.handOffOne.map((r) => r.wall));
    const handNone = med(watched.handOffNone.map((r) => r.wall));
    lines.push(
      `  one-shot sync while a --watch runs (default --debounce-ms 300; the one-shot asks the watch, which lists only what changed), wall time of the whole process, median of ${repeats} after 2 warm-up rounds:`,
      `                     one file written just before: ${fmt(handOne, 0)} ms (target <= 150 ms) end to end ${verdict(handOne <= 150)}; rounds ${watched.handOffOne.map((r) => fmt(r.wall, 0)).join(', ')}`,
      `                     phases of the watch's sync in the median round: ${JSON.stringify(watched.handOffOne.find((r) => r.wall === handOne)?.phases ?? {})}`,
      `                     nothing changed: ${fmt(handNone, 0)} ms (target <= 100 ms) end to end ${verdict(handNone <= 100)}; rounds ${watched.handOffNone.map((r) => fmt(r.wall, 0)).join(', ')}`,
    );
    lines.push(
      `  this disk, after: ${fmt(fileCreationCost(join(work, 'probe-after')), 0)} µs per file`,
      '  ("ours" is the time the sync client reports from its first stat to the server answering the commit; "with Node start-up" is the',
      "   wall time of the whole `mirrord-mcp-server sync` process, as rsync's is)",
    );
    return lines;
  } finally {
    clearTimeout(guard);
    if (daemon) {
      const exited = new Promise((resolve) => daemon!.proc.once('exit', resolve));
      daemon.proc.kill('SIGTERM');
      await exited;
    }
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  }
}
