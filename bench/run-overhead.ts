import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { fakeBin, fmt, liteMirrord, percentile, startBenchServer, verdict } from './lib.js';

/** Benchmark 1: what a `run` through MCP over SSE adds to spawning the same mirrord + command. */
export async function benchRunOverhead(iterations = 40): Promise<string[]> {
  return [...(await measure(iterations, false)), ...(await measure(iterations, true)).slice(1)];
}

async function measure(iterations: number, lite: boolean): Promise<string[]> {
  const bin = lite ? liteMirrord : join(fakeBin, 'mirrord');
  const server = await startBenchServer(lite ? { MIRRORD_MCP_MIRRORD_BIN: bin } : {});
  try {
    const configPath = join(server.tmp, 'direct.json');
    await writeFile(
      configPath,
      JSON.stringify({
        target: { path: 'deployment/api', namespace: 'default' },
        operator: false,
        telemetry: false,
      }),
      { mode: 0o600 },
    );
    const env = {
      PATH: `${fakeBin}:${process.env.PATH ?? ''}`,
      HOME: server.home,
      TMPDIR: server.tmp,
      MIRRORD_PROGRESS_MODE: 'json',
    };
    const args = [
      'exec',
      '-f',
      configPath,
      '-t',
      'deployment/api',
      '-n',
      'default',
      '--disable-version-check',
      '--no-telemetry',
      '--',
      'sh',
      '-c',
      'echo ok',
    ];
    const direct = async (): Promise<number> => {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const child = spawn(bin, args, {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        child.stdout.resume();
        child.stderr.resume();
        child.once('error', reject);
        child.once('close', () => resolve());
      });
      return performance.now() - started;
    };

    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(new SSEClientTransport(new URL(`${server.url}/sse`)));
    const viaMcp = async (): Promise<number> => {
      const started = performance.now();
      const result = await client.callTool({
        name: 'run',
        arguments: { cmd_str: 'echo ok', deployment: 'api' },
      });
      const out = result.structuredContent as { exit_code: number; stdout: string };
      if (out.exit_code !== 0 || out.stdout !== 'ok\n')
        throw new Error(`bad result: ${JSON.stringify(result)}`);
      return performance.now() - started;
    };

    for (let i = 0; i < 5; i++) {
      await direct();
      await viaMcp();
    }
    const directTimes: number[] = [];
    const mcpTimes: number[] = [];
    // Interleaved, so drift on the machine hits both sides alike.
    for (let i = 0; i < iterations; i++) {
      directTimes.push(await direct());
      mcpTimes.push(await viaMcp());
    }
    await client.close();
    const d50 = percentile(directTimes, 50);
    const m50 = percentile(mcpTimes, 50);
    const added = m50 - d50;
    return [
      `1. run overhead over SSE (${iterations} interleaved runs of "echo ok")`,
      lite ? '   -- with bench/fixtures/mirrord (sh stand-in):' : '   -- with the test fake mirrord:',
      `   direct spawn   median ${fmt(d50)} ms  p90 ${fmt(percentile(directTimes, 90))} ms`,
      `   MCP run (SSE)  median ${fmt(m50)} ms  p90 ${fmt(percentile(mcpTimes, 90))} ms`,
      `   added median latency ${fmt(added)} ms (target <= 15 ms): ${verdict(added <= 15)}; ratio ${fmt(m50 / d50, 2)}x`,
    ];
  } finally {
    await server.stop();
  }
}
