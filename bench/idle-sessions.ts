import { request, type ClientRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fmt, rssBytes, startBenchServer, verdict } from './lib.js';

/** CPU seconds (user + system) a process has used so far (Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Opens `count` SSE streams and resolves once each has its endpoint event. */
async function openStreams(
  url: string,
  count: number,
): Promise<{ requests: ClientRequest[]; received: () => number }> {
  const requests: ClientRequest[] = [];
  let bytes = 0;
  const batch = 50;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from(
        { length: Math.min(batch, count - i) },
        () =>
          new Promise<void>((resolve, reject) => {
            const req = request(
              `${url}/sse`,
              { agent: false, headers: { accept: 'text/event-stream' } },
              (res) => {
                res.on('data', (chunk: Buffer) => {
                  bytes += chunk.length;
                  resolve();
                });
              },
            );
            req.on('error', reject);
            req.end();
            requests.push(req);
          }),
      ),
    );
  }
  return { requests, received: () => bytes };
}

/** Benchmark: 1,000 idle SSE sessions held open: memory per session and keep-alive cost. */
export async function benchIdleSessions(count = 1000): Promise<string[]> {
  const keepAliveMs = 1000; // 15x the default rate, so the keep-alive cost is measurable in seconds
  const server = await startBenchServer({ MIRRORD_MCP_SESSIONS_KEEP_ALIVE_MS: String(keepAliveMs) });
  const pid = server.proc.pid!;
  try {
    // Warm up: one session opened and closed, so lazily loaded code is not counted per session.
    const warm = await openStreams(server.url, 10);
    for (const req of warm.requests) req.destroy();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = await rssBytes(pid);
    const { requests, received } = await openStreams(server.url, count);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = await rssBytes(pid);
    const perSession = (after - before) / count / 1024;

    const windowS = 10;
    const cpu0 = await cpuSeconds(pid);
    const bytes0 = received();
    await new Promise((resolve) => setTimeout(resolve, windowS * 1000));
    const cpu = (await cpuSeconds(pid)) - cpu0;
    const keepAlives = (received() - bytes0) / ': keep-alive\n\n'.length;
    const perKeepAliveUs = (cpu / Math.max(1, keepAlives)) * 1e6;
    // At the default 15 s interval: CPU share of the server spent on keep-alives for these sessions.
    const defaultShare = ((perKeepAliveUs / 1e6) * count) / 15;
    for (const req of requests) req.destroy();
    return [
      `4. ${count} idle SSE sessions held open (each with its MCP server instance)`,
      `   server RSS ${fmt(before / 1048576)} MiB -> ${fmt(after / 1048576)} MiB: ${fmt(perSession)} KiB per session (target <= 100 KiB): ${verdict(perSession <= 100)}`,
      `   keep-alives at ${keepAliveMs} ms for ${windowS} s: ${fmt(keepAlives, 0)} sent, server CPU ${fmt(cpu, 2)} s = ${fmt(perKeepAliveUs)} us each`,
      `   at the default 15 s interval that is ${fmt(defaultShare * 100, 3)}% of one core for ${count} sessions`,
    ];
  } finally {
    await server.stop();
  }
}
