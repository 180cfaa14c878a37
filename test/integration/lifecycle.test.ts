import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, connectStdio, httpClientKinds } from '../helpers/clients.js';
import { startFakeKubeApi } from '../fixtures/kube/fake-api-server.js';
import { seedCluster } from '../fixtures/kube/seed.js';
import { cliPath, fixturesBin } from '../helpers/paths.js';
import { liveProcessesMatching, waitFor } from '../helpers/processes.js';
import { listDir, startServer, type TestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.cleanup();
});

describe('graceful shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s cancels runs, kills their process groups, removes temp files and exits 0',
    async (signal) => {
      const server = await startServer({
        env: { MIRRORD_MCP_RUN_KILL_GRACE_MS: '500', MIRRORD_MCP_DRAIN_TIMEOUT_S: '0' },
      });
      servers.push(server);
      const marker = `${Math.floor(Math.random() * 1e6) + 1000}`;
      const clients = await Promise.all([
        connectClient('v1-sse', server.url),
        connectClient('v2-http', server.url),
      ]);
      const calls = clients.map((client, index) =>
        client
          .callTool('run', {
            cmd_str: `sleep ${marker}.${index} & sleep ${marker}.${index}`,
            // Two workloads: runs mirroring one deployment would take turns (target lock).
            deployment: ['api', 'web'][index],
          })
          .catch((error: unknown) => error),
      );
      const running = await waitFor(
        () => liveProcessesMatching(`sleep ${marker}`),
        (found) => found.length >= 4,
      );
      expect(running.length).toBeGreaterThanOrEqual(4);
      expect((await listDir(server.tmp)).some((name) => name.startsWith('mirrord-mcp-'))).toBe(true);

      const exit = await server.stop(signal);
      expect(exit.code).toBe(0);
      expect(exit.ms).toBeLessThan(8000);
      expect(liveProcessesMatching(`sleep ${marker}`)).toEqual([]);
      expect(await listDir(server.tmp)).toEqual([]);
      // Clients get the cancelled result with a clear note, not a dropped request.
      for (const result of (await Promise.all(calls)) as any[]) {
        expect(result.structuredContent).toMatchObject({ cancelled: true, phase: 'program' });
        expect(result.structuredContent.notes.join(' ')).toMatch(/shutting down/);
      }
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      expect(server.logs()).toMatch(/shut down/);
    },
  );
});

describe('cancellation', () => {
  it.each(['v1-sse', 'v2-sse', 'v1-http', 'v2-http', 'v2-http-modern'] as const)(
    'a cancelled call over %s kills its process group',
    async (kind) => {
      const server = await startServer({ env: { MIRRORD_MCP_RUN_KILL_GRACE_MS: '500' } });
      servers.push(server);
      const client = await connectClient(kind, server.url);
      const marker = `${Math.floor(Math.random() * 1e6) + 1000}`;
      const abort = new AbortController();
      const call = client.callTool(
        'run',
        { cmd_str: `sleep ${marker}`, deployment: 'api' },
        { signal: abort.signal },
      );
      await waitFor(
        () => liveProcessesMatching(`sleep ${marker}`),
        (found) => found.length > 0,
      );
      abort.abort();
      await expect(call).rejects.toThrow();
      const left = await waitFor(
        () => liveProcessesMatching(`sleep ${marker}`),
        (found) => found.length === 0,
      );
      expect(left).toEqual([]);
      await waitFor(
        () => server.logs(),
        (logs) => /"cancelled":true/.test(logs),
      );
      expect(server.logs()).toMatch(/"cancelled":true/);
      await client.close();
      await server.stop();
    },
  );
});

describe('a client that goes away', () => {
  it.each(httpClientKinds)('over %s takes its runs with it', async (kind) => {
    const server = await startServer({ env: { MIRRORD_MCP_RUN_KILL_GRACE_MS: '500' } });
    servers.push(server);
    const client = await connectClient(kind, server.url);
    const marker = `${Math.floor(Math.random() * 1e6) + 1000}`;
    const call = client
      .callTool('run', { cmd_str: `sleep ${marker}`, deployment: 'api' })
      .catch((error: unknown) => error);
    await waitFor(
      () => liveProcessesMatching(`sleep ${marker}`),
      (found) => found.length > 0,
    );
    await client.close();
    const left = await waitFor(
      () => liveProcessesMatching(`sleep ${marker}`),
      (found) => found.length === 0,
    );
    expect(left).toEqual([]);
    await call;
    await server.stop();
  });
});

describe('stdio', () => {
  it('serves MCP on stdin/stdout with logs on stderr', async () => {
    const kube = await startFakeKubeApi();
    seedCluster(kube);
    const dir = await mkdtemp(join(tmpdir(), 'mms-stdio-'));
    try {
      const client = await connectStdio(process.execPath, [cliPath, '--stdio'], {
        PATH: `${fixturesBin}:${process.env.PATH ?? ''}`,
        HOME: dir,
        KUBECONFIG: await kube.writeKubeconfig(join(dir, 'kubeconfig')),
      });
      const result = await client.callTool('run', { cmd_str: 'echo over-stdio', deployment: 'api' });
      expect(result.structuredContent!).toMatchObject({ exit_code: 0, stdout: 'over-stdio\n' });
      expect(client.instructions()).toMatch(/mirrord/);
      await client.close();
    } finally {
      await kube.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('start-up', () => {
  it('stops on a bad configuration value with a message naming the key', () => {
    const bad = spawnSync(process.execPath, [cliPath, '--port', 'eighty'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/port \(env MIRRORD_MCP_PORT\)/);
    const env = spawnSync(process.execPath, [cliPath], {
      encoding: 'utf8',
      env: { ...process.env, MIRRORD_MCP_RUN_MAX_OUTPUT_BYTES: '12' },
    });
    expect(env.status).toBe(2);
    expect(env.stderr).toMatch(/run\.maxOutputBytes \(env MIRRORD_MCP_RUN_MAX_OUTPUT_BYTES\)/);
    const flag = spawnSync(process.execPath, [cliPath, '--bogus'], { encoding: 'utf8' });
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/bogus/);
  });

  it('says where it looked when mirrord is not installed', async () => {
    const server = await startServer({ fakeMirrord: false, args: ['--mirrord-bin', '/opt/none/mirrord'] });
    servers.push(server);
    const client = await connectClient('v2-http', server.url);
    const result = await client.callTool('run', { cmd_str: 'true', deployment: 'api' });
    expect(result.isError).toBe(true);
    expect(result.structuredContent!.error).toMatchObject({
      code: 'MIRRORD_NOT_FOUND',
      message: expect.stringContaining('/opt/none/mirrord'),
    });
    expect(result.content[0]!.text).toMatch(/install/i);
    await client.close();
    await server.stop();
  });
});
