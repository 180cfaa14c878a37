import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics, RunOutcome } from '../metrics.js';
import { OutputLog } from './output-log.js';
import type { OutputStream, RunHooks, RunPhase, RunRequest, RunResult, RunService } from './run-service.js';

export type RunStatus = 'running' | 'finished';

/** One run as the store keeps it: live state while it goes on, the result once it ended. */
export interface RunRecord {
  readonly id: string;
  readonly owner: string;
  /** The session that started it; the run stops when that session ends. */
  readonly sessionId: string | undefined;
  readonly command: string;
  readonly target: string;
  readonly namespace: string;
  readonly startedAt: Date;
  endedAt: Date | undefined;
  status: RunStatus;
  readonly phase: RunPhase;
  result: RunResult | undefined;
  readonly logs: Record<OutputStream, OutputLog>;
  readonly done: Promise<RunResult>;
  latestLine(): string;
  stop(reason?: unknown): void;
}

export interface RunStoreOptions {
  /** Private directory for the runs' output logs. */
  dir: string;
  /** Bytes kept on disk per stream of a run (two rotating halves). */
  maxLogBytes: number;
  /** How long a finished run stays readable. */
  retainMs: number;
  logger: Logger;
  metrics?: Metrics | undefined;
}

/** How a run ended, for the runs_total metric. */
export function outcomeOf(result: RunResult): RunOutcome {
  if (result.timedOut || result.setup?.timedOut) return 'timed_out';
  if (result.cancelled || result.setup?.cancelled) return 'cancelled';
  if (result.phase === 'setup') return 'setup_failed';
  if (result.phase === 'mirrord') return 'mirrord_failed';
  return result.exitCode === 0 ? 'success' : 'program_failed';
}

export interface StartContext {
  owner: string;
  sessionId?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: RunHooks['onProgress'];
}

/**
 * Every run of the server, running or recently finished, with its output on disk: what
 * `run_status`, `run_logs`, `run_stop` and the run resources read. A caller sees only its own runs.
 */
export class RunStore {
  private readonly records = new Map<string, RunRecord>();
  private readonly expiry = new Map<string, NodeJS.Timeout>();
  private sequence = 0;

  constructor(
    private readonly runs: RunService,
    private readonly options: RunStoreOptions,
  ) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  }

  async start(request: RunRequest, context: StartContext): Promise<RunRecord> {
    this.sequence += 1;
    const base = join(this.options.dir, `run-${process.pid}-${this.sequence}`);
    const logs: Record<OutputStream, OutputLog> = {
      stdout: new OutputLog(`${base}.stdout`, this.options.maxLogBytes),
      stderr: new OutputLog(`${base}.stderr`, this.options.maxLogBytes),
    };
    const live = { phase: (request.setupCommand !== undefined ? 'setup' : 'mirrord') as RunPhase };
    let handle: Awaited<ReturnType<RunService['start']>>;
    try {
      handle = await this.runs.start(request, {
        signal: context.signal,
        onProgress: context.onProgress,
        onPhase: (next) => {
          live.phase = next;
        },
        onOutput: (stream, chunk) => {
          logs[stream].append(chunk);
        },
      });
    } catch (error) {
      logs.stdout.remove();
      logs.stderr.remove();
      throw error;
    }
    const record: RunRecord = {
      id: handle.id,
      owner: context.owner,
      sessionId: context.sessionId,
      command: request.command,
      target: request.target.path,
      namespace: request.namespace,
      startedAt: new Date(),
      endedAt: undefined,
      status: 'running',
      get phase() {
        return live.phase;
      },
      result: undefined,
      logs,
      done: handle.done,
      latestLine: () => handle.latestLine(),
      stop: (reason?: unknown) => {
        handle.stop(reason);
      },
    };
    this.records.set(record.id, record);
    void handle.done
      .then((result) => {
        record.result = result;
        live.phase = result.phase;
        const metrics = this.options.metrics;
        metrics?.runs.inc({ outcome: outcomeOf(result) });
        metrics?.runDuration.observe({ phase: result.phase }, result.durationMs / 1000);
        if (result.startupMs !== null) metrics?.mirrordStartup.observe(result.startupMs / 1000);
      })
      .catch((error: unknown) => {
        this.options.metrics?.runs.inc({ outcome: 'error' });
        this.options.logger.error({ err: error, runId: record.id }, 'run failed unexpectedly');
      })
      .finally(() => {
        record.status = 'finished';
        record.endedAt = new Date();
        logs.stdout.close();
        logs.stderr.close();
        const timer = setTimeout(() => {
          this.forget(record.id);
        }, this.options.retainMs);
        timer.unref();
        this.expiry.set(record.id, timer);
      });
    return record;
  }

  /** The caller's run; RUN_NOT_FOUND for unknown ids and for other callers' runs alike. */
  get(id: string, owner: string): RunRecord {
    const record = this.records.get(id);
    if (record?.owner !== owner) {
      throw new AppError('RUN_NOT_FOUND', `no run "${id}" (unknown, someone else's, or expired)`);
    }
    return record;
  }

  list(owner: string): RunRecord[] {
    return [...this.records.values()].filter((record) => record.owner === owner);
  }

  get running(): number {
    let count = 0;
    for (const record of this.records.values()) if (record.status === 'running') count += 1;
    return count;
  }

  /** A session ended: nothing it started outlives it. */
  stopSession(sessionId: string): void {
    for (const record of this.records.values()) {
      if (record.sessionId === sessionId && record.status === 'running') {
        record.stop(new AppError('CANCELLED', 'the session that started the run has ended'));
      }
    }
  }

  private forget(id: string): void {
    const record = this.records.get(id);
    if (!record) return;
    this.records.delete(id);
    clearTimeout(this.expiry.get(id));
    this.expiry.delete(id);
    record.logs.stdout.remove();
    record.logs.stderr.remove();
  }

  /** Removes every record and log (shutdown; runs have been stopped by then). */
  dispose(): void {
    for (const id of [...this.records.keys()]) this.forget(id);
  }
}
