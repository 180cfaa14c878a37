import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeKubeApi, type FakeKubeApi } from '../fixtures/kube/fake-api-server.js';
import { seedCluster } from '../fixtures/kube/seed.js';
import { cliPath, fixturesBin } from './paths.js';

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly proc: ChildProcess;
  /** HOME of the server (the fake mirrord writes its trace under it). */
  readonly home: string;
  /** TMPDIR of the server (its private temp files live there). */
  readonly tmp: string;
  /** The fake Kubernetes API the server talks to (absent with `kube: false`). */
  readonly kube: FakeKubeApi | undefined;
  logs(): string;
  /** Fake mirrord calls recorded so far. */
  calls(): Promise<FakeCall[]>;
  /** SIGTERM and wait for exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Removes HOME and TMPDIR. */
  cleanup(): Promise<void>;
}

export interface FakeCall {
  argv: string[];
  env: Record<string, string>;
  configPath: string;
  configMode: string;
  configRaw: string;
  config: Record<string, any>;
  target: string;
  namespace: string;
  agentNamespace: string | null;
  cwd: string;
  pid: number;
  sessionId: string;
  outcome: string;
}

export interface StartOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Put the fake mirrord on PATH (default true). */
  fakeMirrord?: boolean;
  /**
   * The cluster: by default a fake API seeded with seedCluster (owned and closed by the server
   * handle); pass one to share it, or false for no kubeconfig at all.
   */
  kube?: FakeKubeApi | false;
}

/** Starts the built CLI on a free loopback port and waits for its "listening" log line. */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const home = await mkdtemp(join(tmpdir(), 'mms-home-'));
  const tmp = await mkdtemp(join(tmpdir(), 'mms-tmp-'));
  const ownKube = options.kube === undefined;
  let kube: FakeKubeApi | undefined;
  if (options.kube === undefined) {
    kube = await startFakeKubeApi();
    seedCluster(kube);
  } else if (options.kube !== false) {
    kube = options.kube;
  }
  const kubeEnv: Record<string, string> = kube
    ? { KUBECONFIG: await kube.writeKubeconfig(join(home, 'kubeconfig.yaml')) }
    : {};
  const pathEnv = `${options.fakeMirrord === false ? '' : `${fixturesBin}:`}${process.env.PATH ?? ''}`;
  const proc = spawn(
    process.execPath,
    [cliPath, '--port', '0', '--log-level', 'debug', ...(options.args ?? [])],
    {
      env: {
        PATH: pathEnv,
        HOME: home,
        TMPDIR: tmp,
        // Tests make hundreds of calls as one identity; the rate-limit tests turn it back on.
        MIRRORD_MCP_RATE_LIMIT_REQUESTS_PER_MINUTE: '0',
        ...kubeEnv,
        ...(options.env ?? {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let logs = '';
  proc.stdout.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs}`)), 15_000);
    const check = (): void => {
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"listening"/.exec(logs);
      if (match) {
        clearTimeout(timer);
        proc.stderr.off('data', check);
        resolve(match[1]!);
      }
    };
    proc.stderr.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening:\n${logs}`));
    });
  }).catch(async (error: unknown) => {
    if (ownKube) await kube?.close();
    await rm(home, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
    throw error;
  });
  const port = Number(new URL(url).port);

  return {
    url,
    port,
    proc,
    home,
    tmp,
    kube,
    logs: () => logs,
    calls: async () => {
      const text = await readFile(join(home, '.mirrord', 'fake-mirrord', 'calls.jsonl'), 'utf8').catch(
        () => '',
      );
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as FakeCall);
    },
    stop: async (signal = 'SIGTERM') => {
      const started = Date.now();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const result = await exited;
      return { ...result, ms: Date.now() - started };
    },
    cleanup: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        // A graceful stop first, so the server kills its runs' process groups itself.
        proc.kill('SIGTERM');
        const stopped = await Promise.race([
          exited.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000)),
        ]);
        if (!stopped) {
          proc.kill('SIGKILL');
          await exited;
        }
      }
      // A failed test may have left a server that could not clean up: no run of it outlives the test.
      const text = await readFile(join(home, '.mirrord', 'fake-mirrord', 'calls.jsonl'), 'utf8').catch(
        () => '',
      );
      for (const line of text.split('\n')) {
        const pid = line.trim() === '' ? undefined : (JSON.parse(line) as { pid?: number }).pid;
        if (!pid) continue;
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (ownKube) await kube?.close();
      await rm(home, { recursive: true, force: true });
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** Entries left in a directory (to check that temp files were removed). */
export async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}
