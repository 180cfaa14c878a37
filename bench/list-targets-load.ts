// The load generator of bench/list-targets.ts, run as its own process (child_process.fork): real MCP
// clients (the 1.x SDK Client over Streamable HTTP) that time each call where they make it, so their
// event loop and CPU are neither the fake Kubernetes API's nor the driver's.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** What the driver sends. */
export type LoadCommand =
  | { type: 'connect'; url: string; clients: number }
  | { type: 'run'; mode: 'real' | 'floor'; calls: number; maxMs: number }
  | { type: 'close' };

/** What this process answers. */
export type LoadReply =
  | { type: 'connected'; teamATotal: number }
  | {
      type: 'result';
      /** Per-call latency in ms, measured around `callTool` in this process. */
      times: number[];
      wrong: number;
      /** performance.timeOrigin-based wall clock of the first call's start and the last call's end. */
      startedAt: number;
      endedAt: number;
      /** CPU time (user + system) this process used during the run, in ms. */
      cpuMs: number;
      /** How busy this process's event loop was (0..1): near 1, latencies include the clients' own queueing. */
      utilization: number;
    }
  | { type: 'closed' }
  | { type: 'failed'; error: string };

// The calls an assistant makes: one namespace's deployments, a name search, a page of pods.
const shapes = [
  { namespace: 'team-a', kind: 'deployment', limit: 20 },
  { namespace: 'team-b', name: 'svc-1', limit: 20 },
  { namespace: 'team-c', kind: 'pod', limit: 20 },
  { namespace: 'team-d', kind: 'deployment', name: 'svc-4', limit: 20 },
];

type CallResult = Awaited<ReturnType<Client['callTool']>>;

const modes = {
  real: {
    args: (i: number): Record<string, unknown> => shapes[i % shapes.length]!,
    ok: (result: CallResult): boolean => {
      const out = result.structuredContent as { targets: unknown[]; from_cache: boolean } | undefined;
      return !result.isError && out !== undefined && out.targets.length > 0 && out.from_cache;
    },
  },
  // The same tool refusing at once (no Kubernetes work).
  floor: {
    args: (): Record<string, unknown> => ({ namespace: 'Not_A_Namespace' }),
    ok: (result: CallResult): boolean => result.isError === true,
  },
};

let clients: Client[] = [];

const send = (reply: LoadReply): void => {
  process.send!(reply);
};

async function connect(url: string, count: number): Promise<number> {
  clients = await Promise.all(
    Array.from({ length: count }, async () => {
      const client = new Client({ name: 'bench', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
      return client;
    }),
  );
  // Wait for the caches, then warm up.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const results = await Promise.all(
      shapes.map((args) => clients[0]!.callTool({ name: 'list_targets', arguments: args })),
    );
    if (results.every((r) => (r.structuredContent as { from_cache?: boolean } | undefined)?.from_cache))
      break;
    if (Date.now() > deadline) throw new Error('caches never synced');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (let i = 0; i < 200; i++) {
    await clients[i % count]!.callTool({ name: 'list_targets', arguments: shapes[i % shapes.length]! });
  }
  const check = await clients[0]!.callTool({ name: 'list_targets', arguments: { namespace: 'team-a' } });
  return (check.structuredContent as { total: number }).total;
}

async function run(mode: 'real' | 'floor', calls: number, maxMs: number): Promise<LoadReply> {
  const { args, ok } = modes[mode];
  const times: number[] = [];
  let issued = 0;
  let wrong = 0;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const started = performance.now();
  // Each client keeps one call in flight (closed loop), as an assistant does.
  await Promise.all(
    clients.map(async (client) => {
      while (issued < calls && performance.now() - started < maxMs) {
        const callArgs = args(issued);
        issued += 1;
        const t0 = performance.now();
        const result = await client.callTool({ name: 'list_targets', arguments: callArgs });
        times.push(performance.now() - t0);
        if (!ok(result)) wrong += 1;
      }
    }),
  );
  const ended = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  return {
    type: 'result',
    times,
    wrong,
    startedAt: performance.timeOrigin + started,
    endedAt: performance.timeOrigin + ended,
    cpuMs: (cpu.user + cpu.system) / 1000,
    utilization: elu.utilization,
  };
}

process.on('message', (command: LoadCommand) => {
  void (async () => {
    try {
      switch (command.type) {
        case 'connect':
          send({ type: 'connected', teamATotal: await connect(command.url, command.clients) });
          break;
        case 'run':
          send(await run(command.mode, command.calls, command.maxMs));
          break;
        case 'close':
          await Promise.all(clients.map((client) => client.close()));
          send({ type: 'closed' });
          process.disconnect();
          break;
      }
    } catch (error) {
      send({ type: 'failed', error: (error as Error).stack ?? String(error) });
    }
  })();
});
