import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeKubeApi } from '../test/fixtures/kube/fake-api-server.js';
import { deploymentWithPods, namespace } from '../test/fixtures/kube/objects.js';
import {
  cpuMs,
  eventLoopDelay,
  fmt,
  machineCpuMs,
  percentile,
  root,
  startBenchServer,
  verdict,
} from './lib.js';
import type { LoadCommand, LoadReply } from './list-targets-load.js';

const namespaces = ['team-a', 'team-b', 'team-c', 'team-d'];

type Result = Extract<LoadReply, { type: 'result' }>;

/** One load-generating process (bench/list-targets-load.ts) and a way to ask it things. */
interface LoadProcess {
  proc: ChildProcess;
  ask<T extends LoadReply['type']>(command: LoadCommand, expect: T): Promise<Extract<LoadReply, { type: T }>>;
}

function startLoadProcess(): LoadProcess {
  const proc = fork(join(root, 'bench', 'list-targets-load.ts'), [], {
    execArgv: [
      // BENCH_CPU_PROF (which profiles the server, bench/lib.ts) profiles the load processes too.
      ...(process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', '--cpu-prof-dir', join(process.env.BENCH_CPU_PROF, 'clients')]
        : []),
      '--import',
      'tsx',
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    proc,
    ask: (command, expect) =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null): void => {
          reject(new Error(`load process exited (${String(code)}) before answering ${command.type}`));
        };
        proc.once('exit', onExit);
        proc.once('message', (reply: LoadReply) => {
          proc.off('exit', onExit);
          if (reply.type === expect) resolve(reply as Extract<LoadReply, { type: typeof expect }>);
          else reject(new Error(reply.type === 'failed' ? reply.error : `unexpected reply ${reply.type}`));
        });
        proc.send(command);
      }),
  };
}

/**
 * Benchmark 4: `list_targets` over Streamable HTTP against a fake API holding 200 deployments and
 * 1,000 pods (4 namespaces of 50 deployments x 5 pods), served from the watch caches.
 * Targets: >= 1,000 calls/s, p99 <= 20 ms.
 *
 * Three processes: this one holds the fake API (idle during the runs: the server reads its watch
 * caches), the server is a child (startBenchServer), and the MCP clients run in load processes of
 * their own (bench/list-targets-load.ts), which time each call where they make it.
 *
 * One load process by default: on a 2-core machine the server and the clients then get a core
 * each; more load processes than cores left over make the server compete with its own clients.
 */
export async function benchListTargets(
  options: { clients?: number; processes?: number; calls?: number; maxMs?: number } = {},
): Promise<string[]> {
  const clientCount = options.clients ?? 8;
  const processCount = Math.min(clientCount, options.processes ?? 1);
  const totalCalls = options.calls ?? 20_000;
  const maxMs = options.maxMs ?? 10_000;
  const api = await startFakeKubeApi();
  const dir = await mkdtemp(join(tmpdir(), 'mms-bench-kube-'));
  const loads: LoadProcess[] = [];
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
      const runWith = async (kind: 'lean' | 'sdk') => {
        loads.length = 0;
        for (let p = 0; p < processCount; p++) loads.push(startLoadProcess());
        // Clients (and calls) split as evenly as they go over the load processes.
        const share = (total: number, p: number): number =>
          Math.floor(total / processCount) + (p < total % processCount ? 1 : 0);
        const connected = await Promise.all(
          loads.map((load, p) =>
            load.ask({ type: 'connect', url: server.url, clients: share(clientCount, p), kind }, 'connected'),
          ),
        );
        const teamATotal = connected[0]!.teamATotal;
        const apiRequestsBefore = api.requests.length;

        const measure = async (
          mode: 'real' | 'floor',
        ): Promise<{
          calls: number;
          wrong: number;
          rate: number;
          p50: number;
          p99: number;
          serverCpu: number;
          clientCpu: number;
          clientBusy: number;
          machine: { server: number; clients: number; driver: number; other: number };
        }> => {
          const serverCpu0 = await cpuMs(server.proc.pid!);
          const machine0 = await machineCpuMs();
          const driver0 = process.cpuUsage();
          const results: Result[] = await Promise.all(
            loads.map((load, p) =>
              load.ask({ type: 'run', mode, calls: share(totalCalls, p), maxMs }, 'result'),
            ),
          );
          const serverCpu = (await cpuMs(server.proc.pid!)) - serverCpu0;
          const machine1 = await machineCpuMs();
          const driver = process.cpuUsage(driver0);
          const times = results.flatMap((r) => r.times);
          const clientCpu = results.reduce((sum, r) => sum + r.cpuMs, 0);
          const machineBusy = machine1.busy - machine0.busy;
          const wallS =
            (Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt))) /
            1000;
          return {
            serverCpu,
            clientCpu,
            // What the machine's cores did meanwhile, as a share of all their time: other work on the
            // machine takes cores from both the server and the clients, and shows in the latencies.
            machine: {
              server: serverCpu / (machine1.total - machine0.total),
              clients: clientCpu / (machine1.total - machine0.total),
              driver: (driver.user + driver.system) / 1000 / (machine1.total - machine0.total),
              other:
                Math.max(0, machineBusy - serverCpu - clientCpu - (driver.user + driver.system) / 1000) /
                (machine1.total - machine0.total),
            },
            clientBusy: Math.max(...results.map((r) => r.utilization)),
            calls: times.length,
            wrong: results.reduce((sum, r) => sum + r.wrong, 0),
            rate: times.length / wallS,
            p50: percentile(times, 50),
            p99: percentile(times, 99),
          };
        };
        await eventLoopDelay(server);
        const real = await measure('real');
        const eld = await eventLoopDelay(server);
        // The floor: the same tool refusing at once (no Kubernetes work), i.e. what the MCP SDK's
        // Streamable HTTP path costs per call on this machine, clients included.
        const floor = await measure('floor');
        await Promise.all(
          loads.map(async (load) => {
            const exited = new Promise((resolve) => load.proc.once('exit', resolve));
            await load.ask({ type: 'close' }, 'closed');
            await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
          }),
        );
        return { real, floor, eld, teamATotal, apiRequests: api.requests.length - apiRequestsBefore };
      };
      // The lean client first: it leaves the machine to the server, so its figures are the server's.
      const lean = await runWith('lean');
      const sdk = await runWith('sdk');
      const { real, floor, eld, teamATotal } = lean;
      const { rate, p50, p99 } = real;
      const cpus = availableParallelism();
      const pct = (share: number): string => `${fmt(share * 100, 0)}%`;
      return [
        `4. list_targets over Streamable HTTP: fake API with 200 deployments and 1,000 pods in 4 namespaces (team-a holds ${teamATotal} targets)`,
        `   ${real.calls} calls from ${clientCount} concurrent lean MCP clients (node:http, one call in flight each) in ${processCount} load process${processCount === 1 ? '' : 'es'} of their own, ${real.wrong} wrong or uncached results, ${lean.apiRequests} API requests during the runs`,
        `   throughput ${fmt(rate, 0)} calls/s (target >= 1,000): ${verdict(rate >= 1000)}`,
        `   latency p50 ${fmt(p50, 2)} ms, p99 ${fmt(p99, 2)} ms, measured in the clients (target p99 <= 20 ms): ${verdict(p99 <= 20)}`,
        `   server event-loop delay p50 ${fmt(eld.p50)} ms, p99 ${fmt(eld.p99)} ms, max ${fmt(eld.max)} ms`,
        `   floor (the same tool refusing at once, no Kubernetes work): ${fmt(floor.rate, 0)} calls/s, p50 ${fmt(floor.p50, 2)} ms, p99 ${fmt(floor.p99, 2)} ms (${floor.wrong} wrong)`,
        `   load processes' event loops busy ${fmt(real.clientBusy * 100, 0)}% (floor: ${fmt(floor.clientBusy * 100, 0)}%); near 100%, latencies include queueing in the clients`,
        `   the machine's ${cpus} cores during the run: ${pct(real.machine.server)} server, ${pct(real.machine.clients)} clients, ${pct(real.machine.driver)} this driver and the fake API, ${pct(real.machine.other)} other processes`,
        `   CPU per call: server ${fmt(real.serverCpu / real.calls, 3)} ms, clients ${fmt(real.clientCpu / real.calls, 3)} ms (floor: server ${fmt(floor.serverCpu / floor.calls, 3)} ms, clients ${fmt(floor.clientCpu / floor.calls, 3)} ms)`,
        `   list_targets reaches ${fmt((rate / floor.rate) * 100, 0)}% of the floor's throughput`,
        `   with the 1.x SDK Client as load generator instead: ${fmt(sdk.real.rate, 0)} calls/s, p50 ${fmt(sdk.real.p50, 2)} ms, p99 ${fmt(sdk.real.p99, 2)} ms (${sdk.real.wrong} wrong); CPU per call server ${fmt(sdk.real.serverCpu / sdk.real.calls, 3)} ms, clients ${fmt(sdk.real.clientCpu / sdk.real.calls, 3)} ms, their event loops ${fmt(sdk.real.clientBusy * 100, 0)}% busy`,
        `   (on ${cpus} cores the SDK client costs more CPU per call than the server, so there the load generator sets the pace)`,
      ];
    } finally {
      for (const load of loads) if (load.proc.exitCode === null) load.proc.kill('SIGKILL');
      await server.stop();
    }
  } finally {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  }
}
