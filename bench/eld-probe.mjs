// Preloaded into the server by the benchmarks (node --import): measures the server's own
// event-loop delay and prints it as one JSON line on stderr when asked (SIGUSR2), so the
// production code knows nothing of being measured.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 5 });
histogram.enable();
process.on('SIGUSR2', () => {
  const ms = (ns) => Math.round((ns / 1e6) * 100) / 100;
  process.stderr.write(
    `${JSON.stringify({ eld: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), count: histogram.count } })}\n`,
  );
  histogram.reset();
});
