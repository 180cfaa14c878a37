import type { RunRecord } from '../runs/run-store.js';
import { shapeRunOutput, type RunOutput } from './run-result.js';

/** Bytes of each stream shown in a snapshot of a run still going; run_logs reads the rest. */
const snapshotTailBytes = 16 * 1024;

/**
 * What run_status (and a `run` handed to the background) reports: the result, or the state so far
 * (queued or running). A run that ended without a result (see `record.error`) is reported as an
 * error by the tools instead.
 */
export function snapshotOf(record: RunRecord): RunOutput {
  if (record.result) return shapeRunOutput(record.result);
  const stdout = record.logs.stdout.tail(snapshotTailBytes);
  const stderr = record.logs.stderr.tail(snapshotTailBytes);
  const now = Date.now();
  const queue = record.queued();
  const startedAt = record.startedAt?.getTime();
  const status = queue ? 'queued' : 'running';
  return {
    run_id: record.id,
    status,
    phase: record.phase,
    exit_code: null,
    signal: null,
    timed_out: false,
    cancelled: false,
    duration_ms: startedAt === undefined ? 0 : now - startedAt,
    queued_ms: (startedAt ?? now) - record.createdAt.getTime(),
    queue: queue ? { position: queue.position, queued: queue.queued, waiting_for: queue.waitingFor } : null,
    startup_ms: null,
    stdout: stdout.text,
    stderr: stderr.text,
    stdout_bytes: stdout.size,
    stderr_bytes: stderr.size,
    stdout_truncated: stdout.offset > 0,
    stderr_truncated: stderr.offset > 0,
    warnings: [],
    session_id: null,
    target: record.target,
    container: null,
    namespace: record.namespace,
    mirrord_error: null,
    setup: null,
    notes: [
      status === 'queued'
        ? `queued: follow with run_status (run_id ${record.id}), cancel with run_stop`
        : `still running: follow with run_status / run_logs (run_id ${record.id}), stop with run_stop`,
    ],
  };
}
