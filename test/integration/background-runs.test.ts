import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { liveProcessesMatching, waitFor } from '../helpers/processes.js';
import { listDir, startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let client: TestClient;

beforeAll(async () => {
  server = await startServer({
    env: {
      MIRRORD_MCP_RUN_WAIT_S: '1',
      MIRRORD_MCP_RUN_RETAIN_S: '2',
      MIRRORD_MCP_RUN_KILL_GRACE_MS: '500',
      MIRRORD_MCP_RUN_MAX_LOG_BYTES: '4096',
    },
  });
  client = await connectClient('v2-sse', server.url);
});

afterAll(async () => {
  await client.close();
  await server.stop();
  await server.cleanup();
});

const marker = (): string => `${Math.floor(Math.random() * 1e6) + 1000}`;

async function statusOf(runId: string): Promise<Record<string, any>> {
  const result = await client.callTool('run_status', { run_id: runId });
  return result.structuredContent!;
}

describe('background runs', () => {
  it('run_start answers at once; run_status and run_logs follow the run to its end', async () => {
    const started = await client.callTool('run_start', {
      cmd_str: 'for i in 1 2 3; do echo "line $i"; sleep 0.3; done; echo oops >&2; exit 2',
      deployment: 'api',
    });
    const first = started.structuredContent!;
    expect(first).toMatchObject({ status: 'running', target: 'deployment/api', exit_code: null });
    expect(started.content[0]!.text).toMatch(/run_status/);
    const runId = first.run_id as string;

    // Follow stdout by offset until the end.
    let offset = 0;
    let text = '';
    for (let i = 0; i < 100; i++) {
      const logs = (await client.callTool('run_logs', { run_id: runId, offset })).structuredContent!;
      text += String(logs.text);
      offset = logs.next_offset;
      if (logs.eof) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(text).toBe('line 1\nline 2\nline 3\n');
    const stderr = (await client.callTool('run_logs', { run_id: runId, stream: 'stderr', tail_bytes: 100 }))
      .structuredContent!;
    expect(stderr.text).toContain('oops');

    const final = await statusOf(runId);
    expect(final).toMatchObject({
      status: 'finished',
      phase: 'program',
      exit_code: 2,
      stdout: 'line 1\nline 2\nline 3\n',
    });
  });

  it('a run longer than run.waitS answers with its run id and goes on', async () => {
    const startedAt = Date.now();
    const result = await client.callTool('run', {
      cmd_str: 'sleep 1.8; echo finished-late',
      deployment: 'api',
    });
    expect(Date.now() - startedAt).toBeLessThan(1800);
    const out = result.structuredContent!;
    expect(out.status).toBe('running');
    expect(result.isError).toBeFalsy();
    expect(result.content[0]!.text).toMatch(/Still running/);
    const done = await waitFor(
      () => statusOf(out.run_id),
      (status) => status.status === 'finished',
      5000,
    );
    expect(done).toMatchObject({ exit_code: 0, stdout: 'finished-late\n', cancelled: false });
  });

  it('run_stop kills the process group and returns the final result', async () => {
    const tag = marker();
    const started = (
      await client.callTool('run_start', { cmd_str: `echo up; sleep ${tag}`, deployment: 'api' })
    ).structuredContent!;
    await waitFor(
      () => liveProcessesMatching(`sleep ${tag}`),
      (found) => found.length > 0,
    );
    const stopped = await client.callTool('run_stop', { run_id: started.run_id });
    expect(stopped.structuredContent!).toMatchObject({
      status: 'finished',
      cancelled: true,
      signal: 'SIGTERM',
      stdout: 'up\n',
    });
    expect(
      await waitFor(
        () => liveProcessesMatching(`sleep ${tag}`),
        (found) => found.length === 0,
      ),
    ).toEqual([]);
    // Stopping again just answers with the result.
    const again = await client.callTool('run_stop', { run_id: started.run_id });
    expect(again.structuredContent!.cancelled).toBe(true);
  });

  it('keeps a bounded log on disk and says what it dropped', async () => {
    const started = (await client.callTool('run_start', { cmd_str: 'seq 1 3000', deployment: 'api' }))
      .structuredContent!;
    await waitFor(
      () => statusOf(started.run_id),
      (status) => status.status === 'finished',
    );
    const logs = (await client.callTool('run_logs', { run_id: started.run_id, offset: 0, max_bytes: 100000 }))
      .structuredContent!;
    expect(logs.size).toBeGreaterThan(4096);
    expect(logs.dropped).toBeGreaterThan(0);
    expect(logs.text.length).toBeLessThanOrEqual(4096);
    expect(logs.text.endsWith('3000\n')).toBe(true);
  });

  it('lists runs and serves their output as resources', async () => {
    const started = (await client.callTool('run_start', { cmd_str: 'echo resource-text', deployment: 'api' }))
      .structuredContent!;
    await waitFor(
      () => statusOf(started.run_id),
      (status) => status.status === 'finished',
    );
    const list = (await client.callTool('run_list', {})).structuredContent!;
    expect(list.runs.map((run: any) => run.run_id)).toContain(started.run_id);
    const resources = await client.listResources();
    const uri = `mirrord-run://${started.run_id}/stdout`;
    expect(resources.map((resource) => resource.uri)).toContain(uri);
    const contents = await client.readResource(uri);
    expect(contents[0]!.text).toBe('resource-text\n');
  });

  it('refuses unknown run ids clearly', async () => {
    for (const tool of ['run_status', 'run_logs', 'run_stop']) {
      const result = await client.callTool(tool, { run_id: 'no-such-run' });
      expect(result.isError).toBe(true);
      expect(result.structuredContent!.error.code).toBe('RUN_NOT_FOUND');
    }
  });

  it('forgets finished runs after run.retainS and removes their logs', async () => {
    const started = (await client.callTool('run_start', { cmd_str: 'echo short-lived', deployment: 'api' }))
      .structuredContent!;
    await waitFor(
      () => statusOf(started.run_id),
      (status) => status.status === 'finished',
    );
    const gone = await waitFor(
      () => client.callTool('run_status', { run_id: started.run_id }),
      (result) => result.isError === true,
      5000,
    );
    expect(gone.structuredContent!.error.code).toBe('RUN_NOT_FOUND');
  });

  it('stops background runs when their session ends', async () => {
    const other = await connectClient('v1-sse', server.url);
    const tag = marker();
    await other.callTool('run_start', { cmd_str: `sleep ${tag}`, deployment: 'api' });
    await waitFor(
      () => liveProcessesMatching(`sleep ${tag}`),
      (found) => found.length > 0,
    );
    await other.close();
    expect(
      await waitFor(
        () => liveProcessesMatching(`sleep ${tag}`),
        (found) => found.length === 0,
      ),
    ).toEqual([]);
  });
});

describe('operations endpoints', () => {
  it('/metrics counts runs by outcome and exposes durations, sessions and queue', async () => {
    await client.callTool('run', { cmd_str: 'true', deployment: 'api' });
    await client.callTool('run', { cmd_str: 'exit 3', deployment: 'api' });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/mirrord_mcp_runs_total\{outcome="success"\} [1-9]/);
    expect(text).toMatch(/mirrord_mcp_runs_total\{outcome="program_failed"\} [1-9]/);
    expect(text).toMatch(/mirrord_mcp_run_duration_seconds_count\{phase="program"\} [1-9]/);
    expect(text).toMatch(/mirrord_mcp_mirrord_startup_seconds_count [1-9]/);
    expect(text).toMatch(/mirrord_mcp_sessions_active\{transport="sse"\} [1-9]/);
    expect(text).toMatch(/mirrord_mcp_runs_queued 0/);
    expect(text).toMatch(/mirrord_mcp_sync_bytes_total/);
  });

  it('/readyz says when the Kubernetes API is unavailable or no cluster is configured', async () => {
    const remove = server.kube!.fault({ path: '/version', status: 500 });
    try {
      // Readiness is cached for 5 s: wait for a fresh answer.
      const res = await waitFor(
        async () => {
          const answer = await fetch(`${server.url}/readyz`);
          return { status: answer.status, body: (await answer.json()) as any };
        },
        (answer) => answer.status === 503,
        8000,
      );
      expect(res.body.reasons.join(' ')).toMatch(/Kubernetes API is unavailable/);
    } finally {
      remove();
    }
    const recovered = await waitFor(
      async () => (await fetch(`${server.url}/readyz`)).status,
      (status) => status === 200,
      8000,
    );
    expect(recovered).toBe(200);
    const noCluster = await startServer({ kube: false, env: { KUBECONFIG: '/nonexistent/kubeconfig' } });
    try {
      const res = await fetch(`${noCluster.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as any).reasons.join(' ')).toMatch(/no Kubernetes cluster configured/);
    } finally {
      await noCluster.stop();
      await noCluster.cleanup();
    }
  });

  it('/readyz is ready with mirrord present and says why not without it', async () => {
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });
    const without = await startServer({ fakeMirrord: false, args: ['--mirrord-bin', '/opt/none/mirrord'] });
    try {
      const res = await fetch(`${without.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as any).reasons[0]).toMatch(/mirrord not found/);
    } finally {
      await without.stop();
      await without.cleanup();
    }
  });
});

describe('drain on SIGTERM', () => {
  it('lets a running run finish, then exits 0 and leaves no files', async () => {
    const draining = await startServer({ env: { MIRRORD_MCP_DRAIN_TIMEOUT_S: '10' } });
    try {
      const c = await connectClient('v1-sse', draining.url);
      const call = c.callTool('run', { cmd_str: 'sleep 1; echo drained-ok', deployment: 'api' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const exit = draining.stop();
      const result = await call;
      expect(result.structuredContent!).toMatchObject({
        exit_code: 0,
        stdout: 'drained-ok\n',
        cancelled: false,
      });
      expect((await exit).code).toBe(0);
      expect(await listDir(draining.tmp)).toEqual([]);
      await c.close().catch(() => undefined);
    } finally {
      await draining.cleanup();
    }
  });
});

describe('hand-off over every transport', () => {
  it.each(['v1-http', 'v2-http', 'v2-http-modern', 'v1-sse'] as const)(
    'a run handed to the background over %s keeps running after the call returned',
    async (kind) => {
      const c = await connectClient(kind, server.url);
      try {
        const result = await c.callTool('run', { cmd_str: 'sleep 1.5; echo still-here', deployment: 'api' });
        const out = result.structuredContent!;
        expect(out.status).toBe('running');
        const done = await waitFor(
          async () => (await c.callTool('run_status', { run_id: out.run_id })).structuredContent!,
          (status) => status.status === 'finished',
          6000,
        );
        expect(done).toMatchObject({ cancelled: false, exit_code: 0, stdout: 'still-here\n' });
      } finally {
        await c.close();
      }
    },
  );
});
