import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { fmt, rssBytes, startBenchServer, verdict } from './lib.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** Benchmark 2: a command printing 1 GiB: peak server RSS growth and drain throughput. */
export async function benchBigOutput(bytes = GiB): Promise<string[]> {
  const server = await startBenchServer();
  try {
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(new SSEClientTransport(new URL(`${server.url}/sse`)));
    // Warm up the code paths so the baseline includes them.
    await client.callTool({
      name: 'run',
      arguments: { cmd_str: 'head -c 10000000 /dev/zero', deployment: 'api' },
    });
    const pid = server.proc.pid!;
    const baseline = await rssBytes(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      void rssBytes(pid).then((rss) => {
        peak = Math.max(peak, rss);
      });
    }, 10);
    const started = performance.now();
    const result = await client.callTool(
      {
        name: 'run',
        arguments: { cmd_str: `head -c ${bytes} /dev/zero`, deployment: 'api', timeout_s: 600 },
      },
      undefined,
      { timeout: 600_000 },
    );
    const wall = performance.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, await rssBytes(pid));
    const out = result.structuredContent as {
      stdout_bytes: number;
      stdout_truncated: boolean;
      exit_code: number;
      duration_ms: number;
      startup_ms: number;
    };
    if (out.stdout_bytes !== bytes || out.exit_code !== 0)
      throw new Error(`bad result: ${JSON.stringify(out).slice(0, 300)}`);
    await client.close();
    const growth = (peak - baseline) / MiB;
    const programMs = out.duration_ms - out.startup_ms;
    const throughput = bytes / 1e6 / (programMs / 1000);
    return [
      `2. a command printing ${fmt(bytes / MiB, 0)} MiB (head -c ... /dev/zero) through run`,
      `   server RSS baseline ${fmt(baseline / MiB)} MiB, peak ${fmt(peak / MiB)} MiB: growth ${fmt(growth)} MiB (target <= 64 MiB): ${verdict(growth <= 64)}`,
      `   drained in ${fmt(programMs, 0)} ms after Ready (${fmt(wall, 0)} ms wall): ${fmt(throughput, 0)} MB/s (target >= 300 MB/s): ${verdict(throughput >= 300)}`,
      `   kept ${out.stdout_truncated ? 'head+tail (truncated)' : 'all'} of it`,
    ];
  } finally {
    await server.stop();
  }
}
