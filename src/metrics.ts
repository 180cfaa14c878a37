import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics, on a registry of its own (no global state). */
export interface Metrics {
  readonly registry: Registry;
  readonly runs: Counter<'outcome'>;
  readonly runDuration: Histogram<'phase'>;
  readonly mirrordStartup: Histogram;
  readonly runsActive: Gauge;
  readonly runsQueued: Gauge;
  readonly sessions: Gauge<'transport'>;
  readonly syncBytes: Counter;
}

/** Outcome label of a finished run. */
export type RunOutcome =
  | 'success'
  | 'program_failed'
  | 'mirrord_failed'
  | 'setup_failed'
  | 'timed_out'
  | 'cancelled'
  | 'queue_timeout'
  | 'error';

export function createMetrics(gauges: {
  activeRuns: () => number;
  queuedRuns: () => number;
  sessions: (transport: 'sse' | 'streamable-http') => number;
}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mirrord_mcp_' });
  const seconds = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
  return {
    registry,
    runs: new Counter({
      name: 'mirrord_mcp_runs_total',
      help: 'Runs that ended, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    runDuration: new Histogram({
      name: 'mirrord_mcp_run_duration_seconds',
      help: 'Duration of runs, by the phase they ended in',
      labelNames: ['phase'],
      buckets: seconds,
      registers: [registry],
    }),
    mirrordStartup: new Histogram({
      name: 'mirrord_mcp_mirrord_startup_seconds',
      help: 'Time from spawning mirrord to its Ready! (agent start, port-forward)',
      buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
      registers: [registry],
    }),
    runsActive: new Gauge({
      name: 'mirrord_mcp_runs_active',
      help: 'Runs going on now',
      registers: [registry],
      collect() {
        this.set(gauges.activeRuns());
      },
    }),
    runsQueued: new Gauge({
      name: 'mirrord_mcp_runs_queued',
      help: 'Runs waiting for a concurrency slot or a target lock',
      registers: [registry],
      collect() {
        this.set(gauges.queuedRuns());
      },
    }),
    sessions: new Gauge({
      name: 'mirrord_mcp_sessions_active',
      help: 'Open MCP sessions, by transport',
      labelNames: ['transport'],
      registers: [registry],
      collect() {
        this.set({ transport: 'sse' }, gauges.sessions('sse'));
        this.set({ transport: 'streamable-http' }, gauges.sessions('streamable-http'));
      },
    }),
    syncBytes: new Counter({
      name: 'mirrord_mcp_sync_bytes_total',
      help: 'Bytes received by workspace syncs',
      registers: [registry],
    }),
  };
}
