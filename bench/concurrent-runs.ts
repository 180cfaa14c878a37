import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { eventLoopDelay, fmt, liteMirrord, percentile, startBenchServer, verdict } from './lib.js';

/** Runs that take no incoming traffic need no target lock. */
const noIncoming = { feature: { network: { incoming: 'off' } } };

/**
 * Benchmark 3: 50 concurrent runs, every result checked, and the server's event-loop delay. The runs
 * take no incoming traffic, so they need no target lock and truly run at once (with incoming on,
 * runs on one deployment take turns), and the per-identity limit is raised (all callers are anonymous).
 */
export async function benchConcurrentRuns(concurrency = 50): Promise<string[]> {
  return [...(await measure(concurrency, false)), ...(await measure(concurrency, true)).slice(1)];
}

async function measure(concurrency: number, lite: boolean): Promise<string[]> {
  const server = await startBenchServer({
    MIRRORD_MCP_RUN_MAX_CONCURRENT: String(concurrency * 2),
    MIRRORD_MCP_RUN_MAX_PER_IDENTITY: String(concurrency * 2),
    ...(lite ? { MIRRORD_MCP_MIRRORD_BIN: liteMirrord } : {}),
  });
  try {
    const clients = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const client = new Client({ name: 'bench', version: '1' });
        await client.connect(new SSEClientTransport(new URL(`${server.url}/sse`)));
        return client;
      }),
    );
    // Warm up (first-call module loading and JIT are start-up costs, not steady state).
    await Promise.all(
      clients.map((client) =>
        client.callTool({
          name: 'run',
          arguments: { cmd_str: 'echo warm', deployment: 'api', mirrord_config: noIncoming },
        }),
      ),
    );
    await eventLoopDelay(server); // reset the histogram
    const started = performance.now();
    const times: number[] = [];
    let correct = 0;
    let firstBad: string | undefined;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        const client = clients[i % clients.length]!;
        const t0 = performance.now();
        const result = await client.callTool({
          name: 'run',
          arguments: {
            cmd_str: `echo run-${i}; head -c 200000 /dev/zero | tr '\\0' x; echo; echo end-${i} >&2; exit ${i % 7}`,
            deployment: 'api',
            mirrord_config: noIncoming,
          },
        });
        times.push(performance.now() - t0);
        const out = result.structuredContent as {
          exit_code: number;
          stdout: string;
          stderr: string;
          stdout_bytes: number;
        };
        const expectedBytes = `run-${i}\n`.length + 200_000 + 1;
        const ok =
          out.exit_code === i % 7 &&
          out.stdout.startsWith(`run-${i}\n`) &&
          out.stderr === `end-${i}\n` &&
          out.stdout_bytes === expectedBytes;
        if (ok) correct += 1;
        else
          firstBad ??= JSON.stringify({
            i,
            exit: out.exit_code,
            bytes: out.stdout_bytes,
            stderr: out.stderr.slice(0, 200),
          });
      }),
    );
    const wall = performance.now() - started;
    const eld = await eventLoopDelay(server);
    await Promise.all(clients.map((client) => client.close()));
    return [
      `3. ${concurrency} concurrent runs (each prints 200 kB, over 10 SSE sessions)`,
      lite
        ? '   -- with bench/fixtures/mirrord, a sh stand-in that starts at native speed:'
        : '   -- with the test fake mirrord (a Node process per run: 50 of them share 2 cores with the server):',
      `   results correct: ${correct}/${concurrency}: ${verdict(correct === concurrency)}; wall ${fmt(wall, 0)} ms, call p50 ${fmt(percentile(times, 50), 0)} ms, p99 ${fmt(percentile(times, 99), 0)} ms`,
      ...(firstBad ? [`   first wrong result: ${firstBad}`] : []),
      `   server event-loop delay p50 ${fmt(eld.p50)} ms, p99 ${fmt(eld.p99)} ms, max ${fmt(eld.max)} ms (target p99 <= 50 ms): ${verdict(eld.p99 <= 50)}`,
    ];
  } finally {
    await server.stop();
  }
}
