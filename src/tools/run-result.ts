import * as z from 'zod';
import type { AppError } from '../errors.js';
import type { RunResult, SetupResult } from '../runs/run-service.js';

const setupSchema = z.object({
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  timed_out: z.boolean(),
  cancelled: z.boolean(),
  duration_ms: z.number().int(),
  stdout: z.string(),
  stderr: z.string(),
  stdout_bytes: z.number().int(),
  stderr_bytes: z.number().int(),
  stdout_truncated: z.boolean(),
  stderr_truncated: z.boolean(),
});

/** What a `run` returns as structuredContent. */
export const runOutputSchema = z.object({
  run_id: z.string(),
  status: z
    .enum(['queued', 'running', 'finished'])
    .describe(
      '"queued": waiting for a free slot or its target lock (see `queue`), nothing started yet; "running": the run goes on in the background; follow either with run_status / run_logs, stop it with run_stop',
    ),
  phase: z
    .enum(['setup', 'mirrord', 'program'])
    .describe('Where the run ended: setup_cmd, mirrord before the program started, or the program itself'),
  exit_code: z
    .number()
    .int()
    .nullable()
    .describe('Exit code of the phase that ended the run; null when killed by a signal'),
  signal: z.string().nullable(),
  timed_out: z.boolean(),
  cancelled: z.boolean(),
  duration_ms: z.number().int().describe('From the start of the run to its end (time queued not included)'),
  queued_ms: z.number().int().describe('Time the run waited in the queue before it started'),
  queue: z
    .object({
      position: z.number().int().describe('1-based place in the queue (first come, first served)'),
      queued: z.number().int().describe('Runs queued in all'),
      waiting_for: z.string().describe('What it waits for: a target lock and its holder, or a limit'),
    })
    .nullable()
    .describe('While queued: where the run waits; null otherwise'),
  startup_ms: z.number().int().nullable().describe('Time until mirrord said Ready! (the program started)'),
  stdout: z.string(),
  stderr: z.string(),
  stdout_bytes: z.number().int(),
  stderr_bytes: z.number().int(),
  stdout_truncated: z.boolean(),
  stderr_truncated: z.boolean(),
  warnings: z.array(z.string()).describe("mirrord's warnings"),
  session_id: z.string().nullable().describe("mirrord's session id"),
  target: z
    .string()
    .describe('The target mirrord ran against (the container is pinned when the pod has several)'),
  container: z.string().nullable().describe('The container mirrord targeted, when known'),
  namespace: z.string(),
  mirrord_error: z.string().nullable().describe("mirrord's own error when it failed before Ready"),
  setup: setupSchema.nullable(),
  notes: z.array(z.string()).describe('Adjustments the server made, such as a capped timeout'),
});

export type RunOutput = z.infer<typeof runOutputSchema>;

function shapeSetup(setup: SetupResult): z.infer<typeof setupSchema> {
  return {
    exit_code: setup.exitCode,
    signal: setup.signal,
    timed_out: setup.timedOut,
    cancelled: setup.cancelled,
    duration_ms: setup.durationMs,
    stdout: setup.stdout.text,
    stderr: setup.stderr.text,
    stdout_bytes: setup.stdout.bytes,
    stderr_bytes: setup.stderr.bytes,
    stdout_truncated: setup.stdout.truncated,
    stderr_truncated: setup.stderr.truncated,
  };
}

export function shapeRunOutput(result: RunResult): RunOutput {
  return {
    run_id: result.runId,
    status: 'finished',
    phase: result.phase,
    exit_code: result.exitCode,
    signal: result.signal,
    timed_out: result.timedOut,
    cancelled: result.cancelled,
    duration_ms: result.durationMs,
    queued_ms: result.queuedMs,
    queue: null,
    startup_ms: result.startupMs,
    stdout: result.stdout.text,
    stderr: result.stderr.text,
    stdout_bytes: result.stdout.bytes,
    stderr_bytes: result.stderr.bytes,
    stdout_truncated: result.stdout.truncated,
    stderr_truncated: result.stderr.truncated,
    warnings: result.warnings,
    session_id: result.sessionId,
    target: result.target,
    container: result.container,
    namespace: result.namespace,
    mirrord_error: result.mirrordError,
    setup: result.setup ? shapeSetup(result.setup) : null,
    notes: result.notes,
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

function ending(exitCode: number | null, signal: string | null): string {
  if (signal !== null) return `killed by ${signal}`;
  return `exit code ${exitCode ?? 'unknown'}`;
}

function section(title: string, text: string, bytes: number, truncated: boolean): string {
  const size = `${bytes} bytes${truncated ? ', not all shown' : ''}`;
  return `--- ${title} (${size}) ---\n${text === '' ? '(empty)' : text.replace(/\n$/, '')}`;
}

/** The text rendering, for clients that read only `content`: it carries the output too. */
export function summarizeRun(output: RunOutput): string {
  const lines: string[] = [];
  const where = `${output.target} in namespace ${output.namespace}`;
  if (output.status === 'queued') {
    const queue = output.queue;
    lines.push(
      `Queued for ${seconds(output.queued_ms)}${queue ? ` (position ${queue.position} of ${queue.queued}), waiting for ${queue.waiting_for}` : ''}; ` +
        `nothing has started yet against ${where}; run id ${output.run_id}.`,
      `It starts by itself when that is free. Follow it with run_status {"run_id":"${output.run_id}"}; cancel it with run_stop.`,
    );
    return lines.join('\n');
  }
  if (output.status === 'running') {
    lines.push(
      `Still running after ${seconds(output.duration_ms)} (phase ${output.phase}), against ${where}; run id ${output.run_id}.`,
      `Follow it with run_status {"run_id":"${output.run_id}"} and run_logs {"run_id":"${output.run_id}"}; stop it with run_stop.`,
    );
    lines.push(section('stdout so far (tail)', output.stdout, output.stdout_bytes, output.stdout_truncated));
    lines.push(section('stderr so far (tail)', output.stderr, output.stderr_bytes, output.stderr_truncated));
    return lines.join('\n');
  }
  if (output.phase === 'setup' && output.setup) {
    const why = output.setup.timed_out
      ? 'timed out'
      : output.setup.cancelled
        ? 'was cancelled'
        : `failed (${ending(output.setup.exit_code, output.setup.signal)})`;
    lines.push(`setup_cmd ${why} after ${seconds(output.setup.duration_ms)}; mirrord was not started.`);
  } else if (output.phase === 'mirrord') {
    const why = output.timed_out
      ? 'timed out before the program started'
      : output.cancelled
        ? 'was cancelled before the program started'
        : `failed before the program started (${ending(output.exit_code, output.signal)})`;
    lines.push(`mirrord ${why}, against ${where}, after ${seconds(output.duration_ms)}.`);
    if (output.mirrord_error) lines.push(`mirrord said: ${output.mirrord_error}`);
  } else {
    const how = output.timed_out
      ? `timed out (${ending(output.exit_code, output.signal)})`
      : output.cancelled
        ? 'was cancelled'
        : `ended with ${ending(output.exit_code, output.signal)}`;
    lines.push(
      `The program ${how} after ${seconds(output.duration_ms)}, against ${where}` +
        `${output.startup_ms !== null ? ` (mirrord ready after ${seconds(output.startup_ms)})` : ''}.`,
    );
  }
  if (output.timed_out || output.setup?.timed_out)
    lines.push('Its process group got SIGTERM, then SIGKILL after the grace period.');
  for (const warning of output.warnings) lines.push(`mirrord warning: ${warning}`);
  for (const note of output.notes) lines.push(`note: ${note}`);
  if (output.session_id) lines.push(`session id: ${output.session_id}; run id: ${output.run_id}`);
  if (output.setup) {
    lines.push(
      section('setup stdout', output.setup.stdout, output.setup.stdout_bytes, output.setup.stdout_truncated),
    );
    lines.push(
      section('setup stderr', output.setup.stderr, output.setup.stderr_bytes, output.setup.stderr_truncated),
    );
  }
  if (output.phase !== 'setup') {
    lines.push(section('stdout', output.stdout, output.stdout_bytes, output.stdout_truncated));
    lines.push(section('stderr', output.stderr, output.stderr_bytes, output.stderr_truncated));
  }
  return lines.join('\n');
}

/** A refused call: nothing ran. */
export function errorResult(error: AppError): {
  isError: true;
  content: { type: 'text'; text: string }[];
  structuredContent: Record<string, unknown>;
} {
  return {
    isError: true,
    content: [{ type: 'text', text: `${error.code}: ${error.message}\n${error.hint}` }],
    structuredContent: { error: error.toJSON() },
  };
}
