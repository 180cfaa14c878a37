import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics, RunOutcome } from '../metrics.js';
import { OutputLog } from './output-log.js';
import type { QueueState } from './run-queue.js';
import type { OutputStream, RunHooks, RunPhase, RunRequest, RunResult, RunService } from './run-service.js';

/** `queued`: waiting for a slot or its target lock; nothing was spawned yet. */
export type RunStatus = 'queued' | 'running' | 'finished';

/** One run as the store keeps it: live state while it goes on, the result once it ended. */
export interface RunRecord {
  readonly id: string;
  readonly owner: string;
  /** The session that started it; the run stops when that session ends. */
  readonly sessionId: string | undefined;
  readonly command: string;
  readonly target: string;
  readonly namespace: string;
  /** When it was asked for (it may have queued). */
  readonly createdAt: Date;
  /** When it left the queue and started; undefined while queued, or when it never started. */
  readonly startedAt: Date | undefined;
  endedAt: Date | undefined;
  readonly status: RunStatus;
  readonly phase: RunPhase;
  result: RunResult | undefined;
  /** Why it ended without a result: it left the queue (timeout, stop, shutdown) or failed unexpectedly. */
  error: AppError | undefined;
  /** Where it waits while queued. */
  queued(): QueueState | undefined;
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

/** How a run ended that has no result (it never left the queue, or failed unexpectedly). */
export function outcomeOfError(error: AppError): RunOutcome {
  if (error.code === 'QUEUE_TIMEOUT') return 'queue_timeout';
  if (error.code === 'CANCELLED' || error.code === 'SHUTTING_DOWN') return 'cancelled';
  return 'error';
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
    const live = {
      phase: (request.setupCommand !== undefined ? 'setup' : 'mirrord') as RunPhase,
      ended: false,
      startedAt: undefined as Date | undefined,
    };
    let handle: Awaited<ReturnType<RunService['start']>>;
    try {
      handle = await this.runs.start(request, {
        signal: context.signal,
        onProgress: context.onProgress,
        onStart: () => {
          live.startedAt = new Date();
        },
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
      createdAt: new Date(),
      get startedAt() {
        return live.startedAt;
      },
      endedAt: undefined,
      get status(): RunStatus {
        if (live.ended) return 'finished';
        return handle.queued() ? 'queued' : 'running';
      },
      get phase() {
        return live.phase;
      },
      result: undefined,
      error: undefined,
      queued: () => handle.queued(),
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
        const appError = toAppError(error);
        record.error = appError;
        const outcome = outcomeOfError(appError);
        this.options.metrics?.runs.inc({ outcome });
        if (outcome === 'error') {
          this.options.logger.error({ err: error, runId: record.id }, 'run failed unexpectedly');
        } else {
          this.options.logger.info({ runId: record.id, code: appError.code }, appError.message);
        }
      })
      .finally(() => {
        live.ended = true;
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

  /** A session ended: nothing it started outlives it. */
  stopSession(sessionId: string): void {
    for (const record of this.records.values()) {
      if (record.sessionId === sessionId && record.status !== 'finished') {
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
