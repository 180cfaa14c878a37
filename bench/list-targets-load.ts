// The load generator of bench/list-targets.ts, run as its own process (child_process.fork): MCP
// clients over Streamable HTTP that time each call where they make it, so their event loop and CPU
// are neither the fake Kubernetes API's nor the driver's. Two kinds: the 1.x SDK Client, and a lean
// client (node:http, keep-alive, the 2025-06-18 session protocol, a few lines of SSE parsing) that
// costs far less CPU per call, so that on a small machine the figures say what the server can do.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent, request } from 'node:http';

/** Which client library makes the calls. */
export type ClientKind = 'sdk' | 'lean';

/** What the driver sends. */
export type LoadCommand =
  | { type: 'connect'; url: string; clients: number; kind: ClientKind }
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

interface CallResult {
  isError?: boolean | undefined;
  structuredContent?: Record<string, unknown> | undefined;
}

interface LoadClient {
  callTool(call: { name: string; arguments: Record<string, unknown> }): Promise<CallResult>;
  close(): Promise<void>;
}

/**
 * A minimal Streamable HTTP MCP client: initialize (a 2025-06-18 session), then one POST per call,
 * reading the answer from the SSE (or JSON) response body.
 */
class LeanClient implements LoadClient {
  private nextId = 1;
  private session: string | undefined;

  constructor(
    private readonly url: URL,
    private readonly agent: Agent,
  ) {}

  private post(
    body: unknown,
    method = 'POST',
  ): Promise<{ status: number; session: string | undefined; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(this.url, {
        method,
        agent: this.agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
          ...(this.session ? { 'mcp-session-id': this.session } : {}),
        },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const session = res.headers['mcp-session-id'];
          resolve({
            status: res.statusCode ?? 0,
            session: typeof session === 'string' ? session : undefined,
            text,
          });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  private async rpc(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    const res = await this.post({ jsonrpc: '2.0', id, method, params });
    if (res.session) this.session = res.session;
    const messages = res.text.startsWith('{')
      ? [res.text]
      : res.text
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5));
    for (const raw of messages) {
      const message = JSON.parse(raw) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id !== id) continue;
      if (message.error) throw new Error(message.error.message);
      return message.result;
    }
    throw new Error(`no answer to ${method} (HTTP ${res.status}): ${res.text.slice(0, 200)}`);
  }

  async connect(): Promise<void> {
    await this.rpc('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'bench-lean', version: '1' },
    });
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  async callTool(call: { name: string; arguments: Record<string, unknown> }): Promise<CallResult> {
    return (await this.rpc('tools/call', call)) as CallResult;
  }

  async close(): Promise<void> {
    await this.post(undefined, 'DELETE');
  }
}

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

let clients: LoadClient[] = [];
const agent = new Agent({ keepAlive: true });

const send = (reply: LoadReply): void => {
  process.send!(reply);
};

async function connect(url: string, count: number, kind: ClientKind): Promise<number> {
  clients = await Promise.all(
    Array.from({ length: count }, async (): Promise<LoadClient> => {
      if (kind === 'lean') {
        const lean = new LeanClient(new URL(`${url}/mcp`), agent);
        await lean.connect();
        return lean;
      }
      const client = new Client({ name: 'bench', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
      return {
        callTool: async (call) => (await client.callTool(call)) as CallResult,
        close: () => client.close(),
      };
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
          send({ type: 'connected', teamATotal: await connect(command.url, command.clients, command.kind) });
          break;
        case 'run':
          send(await run(command.mode, command.calls, command.maxMs));
          break;
        case 'close':
          await Promise.all(clients.map((client) => client.close()));
          agent.destroy();
          send({ type: 'closed' });
          process.disconnect();
          break;
      }
    } catch (error) {
      send({ type: 'failed', error: (error as Error).stack ?? String(error) });
    }
  })();
});
