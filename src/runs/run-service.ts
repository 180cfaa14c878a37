import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { buildChildEnv, buildExecArgs } from '../mirrord/command.js';
import { buildMirrordConfig, type TempFiles } from '../mirrord/config-file.js';
import { execMirrord } from '../mirrord/exec.js';
import { locateExecutable } from '../mirrord/locate.js';
import type { GroupReaper, SpawnGate } from '../mirrord/process-group.js';
import { supervise } from '../mirrord/supervise.js';
import type { Target } from '../mirrord/target.js';
import type { JsonObject } from '../policy/mirrord-config.js';
import { anonymousIdentity } from '../auth/identity.js';
import { BoundedOutput } from './bounded-output.js';
import type { RunRegistry } from './registry.js';
import type { QueueState } from './run-queue.js';
import { targetLockFor } from './target-locks.js';

export type RunPhase = 'setup' | 'mirrord' | 'program';

export interface RunRequest {
  command: string;
  target: Target;
  namespace: string;
  /** The caller's mirrord config, already vetted by policy. */
  callerConfig: JsonObject;
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  setupCommand?: string | undefined;
  setupTimeoutMs: number;
  /** Things the server adjusted (e.g. a capped timeout), reported in the result. */
  notes: string[];
  /** Who asked (the audit log, the per-identity limit); 'anonymous' while authentication is off. */
  caller?: string | undefined;
}

export interface StreamCapture {
  text: string;
  bytes: number;
  truncated: boolean;
}

export interface SetupResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  stdout: StreamCapture;
  stderr: StreamCapture;
}

export interface RunResult {
  runId: string;
  phase: RunPhase;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  /** From the start of the run (its slot granted) to its end; the time queued is not in it. */
  durationMs: number;
  /** Time spent in the queue before the run started. */
  queuedMs: number;
  startupMs: number | null;
  stdout: StreamCapture;
  stderr: StreamCapture;
  warnings: string[];
  sessionId: string | null;
  target: string;
  /** The container mirrord targets, when the pre-spawn check knows it. */
  container: string | null;
  namespace: string;
  mirrordError: string | null;
  setup: SetupResult | null;
  notes: string[];
}

export interface RunProgress {
  phase: RunPhase;
  message: string;
}

export type OutputStream = 'stdout' | 'stderr';

export interface RunHooks {
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: RunProgress) => void) | undefined;
  /** Output as it arrives: setup_cmd's, then the program's (mirrord's own progress lines excluded). */
  onOutput?: ((stream: OutputStream, chunk: Buffer, phase: RunPhase) => void) | undefined;
  onPhase?: ((phase: RunPhase) => void) | undefined;
  /** The run left the queue and starts now (at once when nothing held it back). */
  onStart?: (() => void) | undefined;
}

/** A run that has been started: its id, its end, and a way to stop it. */
export interface RunHandle {
  readonly id: string;
  readonly done: Promise<RunResult>;
  /** The latest output line, for progress and status. */
  latestLine(): string;
  /** Where the run waits for its slot or target lock; undefined once it started. */
  queued(): QueueState | undefined;
  /** Stops it, queued or running. */
  stop(reason?: unknown): void;
}

export interface RunServiceDeps {
  config: Config;
  logger: Logger;
  registry: RunRegistry;
  tempFiles: TempFiles;
  reaper: GroupReaper;
  gate: SpawnGate;
  /** The server's own environment, from which the child's minimal one is picked. */
  serverEnv: NodeJS.ProcessEnv;
  /**
   * Checks the target against the cluster before anything is spawned (kube.checkTargets); may pin
   * the container, and names a pod's owning workload (for the target lock). Absent = no check.
   */
  preflight?: Preflight | undefined;
}

/** A pre-spawn check of a run's target; throws an AppError to refuse the run. */
export type Preflight = (
  target: Target,
  namespace: string,
  signal?: AbortSignal,
) => Promise<{ target: Target; container: string | null; notes: string[]; owner?: string | null }>;

export interface RunService {
  /** Checks the request, then queues it (it may start at once); resolves once queued (or refused). */
  start(request: RunRequest, hooks?: RunHooks): Promise<RunHandle>;
  /** Starts and waits for the end. */
  run(request: RunRequest, hooks?: RunHooks): Promise<RunResult>;
}

function capture(output: BoundedOutput): StreamCapture {
  return { text: output.text(), bytes: output.bytes, truncated: output.truncated };
}

async function checkCwd(cwd: string): Promise<void> {
  if (!isAbsolute(cwd)) throw new AppError('INVALID_CWD', `cwd "${cwd}" is not an absolute path`);
  const info = await stat(cwd).catch(() => undefined);
  if (!info?.isDirectory()) throw new AppError('INVALID_CWD', `cwd "${cwd}" is not an existing directory`);
}

const elapsed = (since: number): string => `${Math.round((performance.now() - since) / 1000)}s`;

/** The progress message of a queued run. */
export function queuedMessage(state: QueueState): string {
  return `queued: position ${state.position} of ${state.queued}, waiting for ${state.waitingFor}`;
}

/** Runs a command under `mirrord exec`, with an optional setup step before it. */
export function createRunService(deps: RunServiceDeps): RunService {
  const { config, logger, registry, tempFiles, serverEnv, reaper, gate, preflight } = deps;

  async function start(request: RunRequest, hooks: RunHooks = {}): Promise<RunHandle> {
    // Everything that can be refused is checked before anything is spawned: local things first,
    // then the target against the cluster.
    const mirrordBin = await locateExecutable(config.mirrordBin, serverEnv.PATH);
    await checkCwd(request.cwd);
    let checked: RunRequest & { container: string | null } = { ...request, container: null };
    let owner: string | null = null;
    if (preflight) {
      const result = await preflight(request.target, request.namespace, hooks.signal);
      checked = {
        ...request,
        target: result.target,
        container: result.container,
        notes: [...request.notes, ...result.notes],
      };
      owner = result.owner ?? null;
    } else if (request.target.kind !== 'targetless') {
      checked.notes = [
        ...request.notes,
        'the target was not checked against the cluster (kube.checkTargets is off)',
      ];
    }
    const mirrordConfig = buildMirrordConfig(checked.callerConfig, {
      target: checked.target,
      namespace: checked.namespace,
      agentNamespace: config.agentNamespace,
      envOverride: checked.env,
    });
    // The lock follows the config mirrord will read, not the caller's words for it.
    const lock = targetLockFor(checked.target, checked.namespace, mirrordConfig, owner);
    const firstPhase: RunPhase = checked.setupCommand !== undefined ? 'setup' : 'mirrord';
    const { onProgress } = hooks;
    const queuedAt = performance.now();
    const record = registry.open(
      { identity: checked.caller ?? anonymousIdentity.subject, lock },
      {
        signal: hooks.signal,
        onQueued:
          onProgress &&
          ((state) => {
            onProgress({ phase: firstPhase, message: queuedMessage(state) });
          }),
      },
    );
    const live = { latest: (): string => '' };
    const done = (async () => {
      const waiting = record.queued();
      let heartbeat: NodeJS.Timeout | undefined;
      if (waiting) {
        logger.debug({ runId: record.id, lock: lock?.key, waitingFor: waiting.waitingFor }, 'run queued');
        if (onProgress) {
          heartbeat = setInterval(() => {
            const state = record.queued();
            if (state) {
              onProgress({
                phase: firstPhase,
                message: `${queuedMessage(state)} (${elapsed(queuedAt)} so far)`,
              });
            }
          }, config.run.heartbeatMs);
        }
      }
      try {
        await record.granted;
      } finally {
        clearInterval(heartbeat);
      }
      const queuedMs = Math.round(performance.now() - queuedAt);
      const notes = waiting
        ? [...checked.notes, `waited ${(queuedMs / 1000).toFixed(1)}s in the queue for ${waiting.waitingFor}`]
        : checked.notes;
      hooks.onStart?.();
      return execute(
        record.id,
        mirrordBin,
        { ...checked, notes },
        mirrordConfig,
        queuedMs,
        record.signal,
        hooks,
        live,
      );
    })();
    record.register(done);
    return {
      id: record.id,
      done,
      latestLine: () => live.latest(),
      queued: () => record.queued(),
      stop: (reason?: unknown) => {
        record.abort.abort(reason ?? new AppError('CANCELLED', 'the run was stopped'));
      },
    };
  }

  async function run(request: RunRequest, hooks: RunHooks = {}): Promise<RunResult> {
    return (await start(request, hooks)).done;
  }

  async function execute(
    runId: string,
    mirrordBin: string,
    request: RunRequest & { container: string | null },
    mirrordConfig: JsonObject,
    queuedMs: number,
    signal: AbortSignal,
    hooks: RunHooks,
    live: { latest: () => string },
  ): Promise<RunResult> {
    const { onProgress, onOutput } = hooks;
    const started = performance.now();
    const configText = JSON.stringify(mirrordConfig, null, 2);
    // Audit: who ran what where, with a digest of the config (never its values: env holds secrets).
    const log = logger.child({
      audit: true,
      runId,
      caller: request.caller ?? 'anonymous',
      target: request.target.path,
      namespace: request.namespace,
    });
    log.info(
      {
        command: request.command,
        setupCommand: request.setupCommand,
        cwd: request.cwd,
        configDigest: `sha256:${createHash('sha256').update(configText).digest('hex')}`,
        envNames: Object.keys(request.env),
        queuedMs,
      },
      'run started',
    );
    let phase: RunPhase = request.setupCommand !== undefined ? 'setup' : 'mirrord';
    const setLatest = (fn: () => string): void => {
      live.latest = fn;
    };
    const latest = (): string => live.latest();
    const phaseStarted = { at: performance.now() };
    const heartbeat = setInterval(() => {
      const line = latest();
      onProgress?.({
        phase,
        message: `${phase}: still running (${elapsed(phaseStarted.at)} in this phase)${line ? `; last output: ${line}` : ''}`,
      });
    }, config.run.heartbeatMs);

    const notes = [...request.notes];
    signal.addEventListener(
      'abort',
      () => {
        const reason: unknown = signal.reason;
        if (reason instanceof AppError && reason.code === 'SHUTTING_DOWN') {
          notes.push('the server is shutting down: the run was stopped; retry against the new instance');
        }
      },
      { once: true },
    );
    const base = {
      runId,
      target: request.target.path,
      container: request.container,
      namespace: request.namespace,
      notes,
      queuedMs,
    };
    try {
      let setup: SetupResult | null = null;
      if (request.setupCommand !== undefined) {
        onProgress?.({ phase: 'setup', message: `setup: running ${JSON.stringify(request.setupCommand)}` });
        const out = new BoundedOutput(config.run.maxOutputBytes);
        const err = new BoundedOutput(config.run.maxOutputBytes);
        setLatest(() => out.latestLine);
        const outcome = await supervise({
          file: 'sh',
          args: ['-c', request.setupCommand],
          cwd: request.cwd,
          env: buildChildEnv(serverEnv, { mirrord: false, extra: request.env }),
          timeoutMs: request.setupTimeoutMs,
          killGraceMs: config.run.killGraceMs,
          signal,
          reaper,
          gate,
          onStdout: (chunk) => {
            out.push(chunk);
            onOutput?.('stdout', chunk, 'setup');
          },
          onStderr: (chunk) => {
            err.push(chunk);
            onOutput?.('stderr', chunk, 'setup');
          },
        }).done;
        setup = {
          exitCode: outcome.exitCode,
          signal: outcome.signal,
          timedOut: outcome.timedOut,
          cancelled: outcome.cancelled,
          durationMs: outcome.durationMs,
          stdout: capture(out),
          stderr: capture(err),
        };
        if (outcome.spawnError !== undefined) {
          throw new AppError('SPAWN_FAILED', `setup_cmd could not be started: ${outcome.spawnError}`);
        }
        if (outcome.exitCode !== 0) {
          const result: RunResult = {
            ...base,
            phase: 'setup',
            exitCode: outcome.exitCode,
            signal: outcome.signal,
            timedOut: outcome.timedOut,
            cancelled: outcome.cancelled,
            durationMs: Math.round(performance.now() - started),
            startupMs: null,
            stdout: { text: '', bytes: 0, truncated: false },
            stderr: { text: '', bytes: 0, truncated: false },
            warnings: [],
            sessionId: null,
            mirrordError: null,
            setup,
          };
          log.info({ phase: 'setup', exitCode: outcome.exitCode, timedOut: outcome.timedOut }, 'run ended');
          return result;
        }
        phase = 'mirrord';
        hooks.onPhase?.(phase);
        phaseStarted.at = performance.now();
      }

      const configPath = await tempFiles.write(`${runId}.json`, configText);
      try {
        onProgress?.({
          phase: 'mirrord',
          message: `mirrord: starting against ${request.target.path} in ${request.namespace}`,
        });
        const remainingMs = Math.max(1, request.timeoutMs);
        const execution = execMirrord({
          bin: mirrordBin,
          args: buildExecArgs({
            configPath,
            target: request.target,
            namespace: request.namespace,
            agentNamespace: config.agentNamespace,
            command: request.command,
          }),
          cwd: request.cwd,
          env: buildChildEnv(serverEnv, { mirrord: true }),
          timeoutMs: remainingMs,
          killGraceMs: config.run.killGraceMs,
          maxOutputBytes: config.run.maxOutputBytes,
          signal,
          reaper,
          gate,
          onEvent: (_event, description) => {
            onProgress?.({ phase, message: description });
          },
          onReady: () => {
            if (phase !== 'program') {
              phase = 'program';
              hooks.onPhase?.(phase);
              phaseStarted.at = performance.now();
            }
          },
          onOutput: (stream, chunk) => {
            onOutput?.(stream, chunk, phase);
          },
        });
        setLatest(() => execution.latestLine());
        const outcome = await execution.result;
        if (outcome.spawnError !== undefined) {
          throw new AppError(
            'SPAWN_FAILED',
            `mirrord could not be started (${mirrordBin}): ${outcome.spawnError}`,
          );
        }
        const result: RunResult = {
          ...base,
          phase: outcome.ready ? 'program' : 'mirrord',
          exitCode: outcome.exitCode,
          signal: outcome.signal,
          timedOut: outcome.timedOut,
          cancelled: outcome.cancelled,
          durationMs: Math.round(performance.now() - started),
          startupMs: outcome.startupMs,
          stdout: capture(outcome.stdout),
          stderr: capture(outcome.stderr),
          warnings: outcome.warnings,
          sessionId: outcome.sessionId,
          mirrordError: outcome.mirrordError,
          setup,
        };
        log.info(
          {
            phase: result.phase,
            exitCode: result.exitCode,
            signal: result.signal,
            timedOut: result.timedOut,
            cancelled: result.cancelled,
            durationMs: result.durationMs,
            startupMs: result.startupMs,
          },
          'run ended',
        );
        return result;
      } finally {
        await tempFiles.remove(configPath);
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  return { start, run };
}
