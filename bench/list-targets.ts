import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeKubeApi } from '../test/fixtures/kube/fake-api-server.js';
import { deploymentWithPods, namespace } from '../test/fixtures/kube/objects.js';
import { cpuMs, eventLoopDelay, fmt, percentile, startBenchServer, verdict } from './lib.js';

const namespaces = ['team-a', 'team-b', 'team-c', 'team-d'];

/**
 * Benchmark 4: `list_targets` over Streamable HTTP against a fake API holding 200 deployments and
 * 1,000 pods (4 namespaces of 50 deployments x 5 pods), served from the watch caches.
 * Targets: >= 1,000 calls/s, p99 <= 20 ms.
 */
export async function benchListTargets(
  options: { clients?: number; calls?: number; maxMs?: number } = {},
): Promise<string[]> {
  const clientCount = options.clients ?? 8;
  const totalCalls = options.calls ?? 20_000;
  const maxMs = options.maxMs ?? 10_000;
  const api = await startFakeKubeApi();
  const dir = await mkdtemp(join(tmpdir(), 'mms-bench-kube-'));
  try {
    for (const ns of namespaces) {
      api.apply(namespace(ns));
      for (let i = 0; i < 50; i++) {
        api.apply(
          ...deploymentWithPods(`svc-${String(i).padStart(2, '0')}`, ns, {
            replicas: 5,
            containers: [
              { name: 'app', ports: [8080, 9090] },
              { name: 'istio-proxy', ports: [15090] },
            ],
          }),
        );
      }
    }
    const kubeconfig = await api.writeKubeconfig(join(dir, 'kubeconfig'));
    const server = await startBenchServer({
      KUBECONFIG: kubeconfig,
      MIRRORD_MCP_NAMESPACES_ALLOWED: namespaces.join(','),
      MIRRORD_MCP_DEFAULT_NAMESPACE: 'team-a',
    });
    try {
      const clients = await Promise.all(
        Array.from({ length: clientCount }, async () => {
          const client = new Client({ name: 'bench', version: '1' });
          await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
          return client;
        }),
      );
      // The calls a assistant makes: one namespace's deployments, a name search, a page of pods.
      const shapes = [
        { namespace: 'team-a', kind: 'deployment', limit: 20 },
        { namespace: 'team-b', name: 'svc-1', limit: 20 },
        { namespace: 'team-c', kind: 'pod', limit: 20 },
        { namespace: 'team-d', kind: 'deployment', name: 'svc-4', limit: 20 },
      ];
      // Wait for the caches, then warm up.
      const deadline = Date.now() + 15_000;
      for (;;) {
        const results = await Promise.all(
          shapes.map((args) => clients[0]!.callTool({ name: 'list_targets', arguments: args })),
        );
        if (results.every((r) => (r.structuredContent as { from_cache: boolean }).from_cache)) break;
        if (Date.now() > deadline) throw new Error('caches never synced');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (let i = 0; i < 200; i++) {
        await clients[i % clientCount]!.callTool({
          name: 'list_targets',
          arguments: shapes[i % shapes.length]!,
        });
      }
      const check = await clients[0]!.callTool({ name: 'list_targets', arguments: { namespace: 'team-a' } });
      const full = check.structuredContent as { total: number };
      const apiRequestsBefore = api.requests.length;
      await eventLoopDelay(server);

      const measure = async (
        argsFor: (i: number) => Record<string, unknown>,
        ok: (result: Awaited<ReturnType<Client['callTool']>>) => boolean,
      ): Promise<{
        calls: number;
        wrong: number;
        rate: number;
        p50: number;
        p99: number;
        serverCpu: number;
        clientCpu: number;
      }> => {
        const times: number[] = [];
        // The clients run in this process and share the machine's cores with the server, so we
        // report how busy each side was (CPU ms per wall ms): a client side near 1.0 means the
        // latencies include queueing in the clients' own event loop, not only the server's work.
        const serverCpu0 = await cpuMs(server.proc.pid!);
        const clientCpu0 = process.cpuUsage();
        let issued = 0;
        let wrong = 0;
        const started = performance.now();
        await Promise.all(
          clients.map(async (client) => {
            while (issued < totalCalls && performance.now() - started < maxMs) {
              const args = argsFor(issued);
              issued += 1;
              const t0 = performance.now();
              const result = await client.callTool({ name: 'list_targets', arguments: args });
              times.push(performance.now() - t0);
              if (!ok(result)) wrong += 1;
            }
          }),
        );
        const wallS = (performance.now() - started) / 1000;
        const clientCpu = process.cpuUsage(clientCpu0);
        return {
          serverCpu: (await cpuMs(server.proc.pid!)) - serverCpu0,
          clientCpu: (clientCpu.user + clientCpu.system) / 1000,
          calls: times.length,
          wrong,
          rate: times.length / wallS,
          p50: percentile(times, 50),
          p99: percentile(times, 99),
        };
      };
      await eventLoopDelay(server);
      const real = await measure(
        (i) => shapes[i % shapes.length]!,
        (result) => {
          const out = result.structuredContent as { targets: unknown[]; from_cache: boolean } | undefined;
          return !result.isError && out !== undefined && out.targets.length > 0 && out.from_cache;
        },
      );
      const eld = await eventLoopDelay(server);
      // The floor: the same tool refusing at once (no Kubernetes work), i.e. what the MCP SDK's
      // Streamable HTTP path costs per call on this machine, clients included.
      const floor = await measure(
        () => ({ namespace: 'Not_A_Namespace' }),
        (result) => result.isError === true,
      );
      await Promise.all(clients.map((client) => client.close()));
      const { rate, p50, p99 } = real;
      return [
        `4. list_targets over Streamable HTTP: fake API with 200 deployments and 1,000 pods in 4 namespaces (team-a holds ${full.total} targets)`,
        `   ${real.calls} calls from ${clientCount} concurrent clients, ${real.wrong} wrong or uncached results, ${api.requests.length - apiRequestsBefore} API requests during the runs`,
        `   throughput ${fmt(rate, 0)} calls/s (target >= 1,000): ${verdict(rate >= 1000)}`,
        `   latency p50 ${fmt(p50, 2)} ms, p99 ${fmt(p99, 2)} ms (target p99 <= 20 ms): ${verdict(p99 <= 20)}`,
        `   server event-loop delay p50 ${fmt(eld.p50)} ms, p99 ${fmt(eld.p99)} ms, max ${fmt(eld.max)} ms`,
        `   floor (the same tool refusing at once, no Kubernetes work): ${fmt(floor.rate, 0)} calls/s, p50 ${fmt(floor.p50, 2)} ms, p99 ${fmt(floor.p99, 2)} ms (${floor.wrong} wrong)`,
        `   CPU per call: server ${fmt(real.serverCpu / real.calls, 3)} ms, clients ${fmt(real.clientCpu / real.calls, 3)} ms (floor: server ${fmt(floor.serverCpu / floor.calls, 3)} ms, clients ${fmt(floor.clientCpu / floor.calls, 3)} ms)`,
        `   list_targets reaches ${fmt((rate / floor.rate) * 100, 0)}% of the floor's throughput`,
      ];
    } finally {
      await server.stop();
    }
  } finally {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  }
}
