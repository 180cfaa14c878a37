import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient, type ToolResult } from '../helpers/clients.js';
import { waitFor } from '../helpers/processes.js';
import { startServer, type TestServer } from '../helpers/server.js';

let dir: string;
let sequence = 0;

/**
 * A command that holds its run until the test releases it: it marks `NAME.started`, waits for
 * `NAME.release`, then marks `NAME.done` and exits 0.
 */
function hold(): { name: string; cmd: string; started: () => boolean; release: () => Promise<void> } {
  sequence += 1;
  const name = join(dir, `hold-${sequence}`);
  return {
    name,
    cmd: `touch ${name}.started; while [ ! -e ${name}.release ]; do sleep 0.05; done; touch ${name}.done; echo released`,
    started: () => existsSync(`${name}.started`),
    release: () => writeFile(`${name}.release`, ''),
  };
}

const incomingOff = { feature: { network: { incoming: 'off' } } };

async function statusOf(client: TestClient, runId: string): Promise<ToolResult> {
  return client.callTool('run_status', { run_id: runId });
}

async function startHeld(
  client: TestClient,
  args: Record<string, unknown>,
): Promise<{ runId: string; held: ReturnType<typeof hold> }> {
  const held = hold();
  const started = await client.callTool('run_start', { cmd_str: held.cmd, ...args });
  expect(started.isError).toBeFalsy();
  const runId = started.structuredContent!.run_id as string;
  expect(await waitFor(held.started, (value) => value, 10_000)).toBe(true);
  return { runId, held };
}

async function finished(client: TestClient, runId: string): Promise<ToolResult> {
  return waitFor(
    () => statusOf(client, runId),
    (result) => result.isError === true || result.structuredContent!.status === 'finished',
    15_000,
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mms-queue-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the run queue (run.maxConcurrent 3)', () => {
  let server: TestServer;
  let client: TestClient;

  beforeAll(async () => {
    server = await startServer({
      env: {
        MIRRORD_MCP_RUN_MAX_CONCURRENT: '3',
        MIRRORD_MCP_RUN_WAIT_S: '30',
        MIRRORD_MCP_RUN_KILL_GRACE_MS: '500',
      },
    });
    client = await connectClient('v2-sse', server.url);
  });

  afterAll(async () => {
    await client.close();
    await server.stop();
    await server.cleanup();
  });

  it('serializes two runs on one deployment with incoming traffic on; the second is told it is queued, then runs', async () => {
    const first = await startHeld(client, { deployment: 'api' });
    const messages: string[] = [];
    const second = client.callTool(
      'run',
      {
        cmd_str: `if [ -e ${first.held.name}.done ]; then echo after-first; else echo overlapped; fi`,
        deployment: 'api',
      },
      { onprogress: (progress) => messages.push(progress.message ?? '') },
    );
    const queued = await waitFor(
      () => messages.filter((message) => message.startsWith('queued:')),
      (found) => found.length > 0,
      10_000,
    );
    expect(queued[0]).toBe(
      `queued: position 1 of 1, waiting for deployment/api in default (held by your run ${first.runId})`,
    );
    const list = (await client.callTool('run_list', {})).structuredContent!;
    const waiting = list.runs.find((run: any) => run.status === 'queued');
    expect(waiting).toMatchObject({
      status: 'queued',
      started_at: null,
      queue: { position: 1, queued: 1 },
    });
    expect(waiting.queue.waiting_for).toContain(first.runId);
    const waitingStatus = (await statusOf(client, waiting.run_id)).structuredContent!;
    expect(waitingStatus).toMatchObject({ status: 'queued', queue: { position: 1 }, exit_code: null });
    expect(waitingStatus.queue.waiting_for).toBe(
      `deployment/api in default (held by your run ${first.runId})`,
    );

    await first.held.release();
    const result = await second;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent!).toMatchObject({
      status: 'finished',
      exit_code: 0,
      stdout: 'after-first\n',
      queue: null,
    });
    expect(result.structuredContent!.queued_ms).toEqual(expect.any(Number));
    expect(result.structuredContent!.notes.join('\n')).toMatch(
      /waited [\d.]+s in the queue for deployment\/api in default/,
    );
    expect(messages.some((message) => message.startsWith('mirrord:'))).toBe(true);
    const firstResult = (await finished(client, first.runId)).structuredContent!;
    expect(firstResult).toMatchObject({ status: 'finished', exit_code: 0, stdout: 'released\n' });
  });

  it('runs with incoming "off", or targetless, do not wait for each other', async () => {
    for (const args of [{ deployment: 'api', mirrord_config: incomingOff }, { target: 'targetless' }]) {
      const first = await startHeld(client, args);
      const messages: string[] = [];
      const second = await client.callTool(
        'run',
        { cmd_str: `[ -e ${first.held.name}.done ] && echo after-first || echo alongside`, ...args },
        { onprogress: (progress) => messages.push(progress.message ?? '') },
      );
      expect(second.structuredContent!).toMatchObject({
        status: 'finished',
        exit_code: 0,
        stdout: 'alongside\n',
      });
      expect(messages.filter((message) => message.startsWith('queued:'))).toEqual([]);
      expect((await statusOf(client, first.runId)).structuredContent!.status).toBe('running');
      await first.held.release();
      expect((await finished(client, first.runId)).structuredContent!.exit_code).toBe(0);
    }
  });

  it('a run with incoming "off" passes a run that mirrors the same deployment', async () => {
    const first = await startHeld(client, { deployment: 'web' });
    const second = await client.callTool('run', {
      cmd_str: 'echo no-traffic-needed',
      deployment: 'web',
      mirrord_config: incomingOff,
    });
    expect(second.structuredContent!).toMatchObject({ status: 'finished', stdout: 'no-traffic-needed\n' });
    await first.held.release();
    await finished(client, first.runId);
  });

  it('a pod target waits for a run on its owning deployment', async () => {
    const targets = (await client.callTool('list_targets', { kind: 'pod', name: 'api' })).structuredContent!;
    const podTarget = targets.targets.find((target: any) => target.owner === 'deployment/api');
    expect(podTarget).toBeDefined();
    const first = await startHeld(client, { deployment: 'api' });
    const second = await client.callTool('run_start', { cmd_str: 'echo pod-run', target: podTarget.target });
    expect(second.structuredContent!).toMatchObject({ status: 'queued', target: podTarget.target });
    expect(second.structuredContent!.queue.waiting_for).toContain(`deployment/api in default`);
    await first.held.release();
    expect((await finished(client, second.structuredContent!.run_id)).structuredContent!).toMatchObject({
      status: 'finished',
      stdout: 'pod-run\n',
    });
  });

  it('run_start of a blocked run answers at once with status queued; run_stop takes it out without starting it', async () => {
    const first = await startHeld(client, { deployment: 'api' });
    const started = await client.callTool('run_start', { cmd_str: 'echo never', deployment: 'api' });
    expect(started.isError).toBeFalsy();
    const queued = started.structuredContent!;
    expect(queued).toMatchObject({ status: 'queued', exit_code: null, queue: { position: 1, queued: 1 } });
    expect(started.content[0]!.text).toMatch(/^Queued for .* waiting for deployment\/api in default/);

    const stopped = await client.callTool('run_stop', { run_id: queued.run_id });
    expect(stopped.isError).toBe(true);
    expect(stopped.structuredContent!.error).toMatchObject({
      code: 'CANCELLED',
      message: `stopped by run_stop; run ${queued.run_id} was still queued and never started`,
      details: { run_id: queued.run_id },
    });
    // It stays readable as what it was: ended before it started.
    const status = await statusOf(client, queued.run_id);
    expect(status.structuredContent!.error.code).toBe('CANCELLED');
    const listed = (await client.callTool('run_list', {})).structuredContent!.runs.find(
      (run: any) => run.run_id === queued.run_id,
    );
    expect(listed).toMatchObject({
      status: 'finished',
      started_at: null,
      error: 'CANCELLED',
      exit_code: null,
    });
    const calls = await server.calls();
    expect(calls.some((call) => call.configPath.includes(queued.run_id))).toBe(false);

    await first.held.release();
    await finished(client, first.runId);
  });

  it('queues runs beyond run.maxConcurrent and starts them as slots free', async () => {
    const holders = [];
    for (let i = 0; i < 3; i++) holders.push(await startHeld(client, { target: 'targetless' }));
    const started = await client.callTool('run_start', { cmd_str: 'echo fourth', target: 'targetless' });
    const fourth = started.structuredContent!;
    expect(fourth).toMatchObject({ status: 'queued' });
    expect(fourth.queue.waiting_for).toBe(
      'a free slot (the server runs at most 3 at once, run.maxConcurrent)',
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/mirrord_mcp_runs_queued 1\b/);
    expect(metrics).toMatch(/mirrord_mcp_runs_active 3\b/);
    await holders[1]!.held.release();
    expect((await finished(client, fourth.run_id)).structuredContent!).toMatchObject({
      status: 'finished',
      stdout: 'fourth\n',
    });
    for (const holder of holders) await holder.held.release();
    for (const holder of holders) await finished(client, holder.runId);
    const after = await (await fetch(`${server.url}/metrics`)).text();
    expect(after).toMatch(/mirrord_mcp_runs_queued 0\b/);
  });
});

describe('the queue wait limit (run.queueTimeoutS 1)', () => {
  let server: TestServer;
  let client: TestClient;

  beforeAll(async () => {
    server = await startServer({
      env: { MIRRORD_MCP_RUN_QUEUE_TIMEOUT_S: '1', MIRRORD_MCP_RUN_WAIT_S: '20' },
    });
    client = await connectClient('v1-sse', server.url);
  });

  afterAll(async () => {
    await client.close();
    await server.stop();
    await server.cleanup();
  });

  it('a run that waits too long fails with QUEUE_TIMEOUT naming the lock and the run holding it', async () => {
    const first = await startHeld(client, { deployment: 'api', namespace: 'staging' });
    const result = await client.callTool('run', {
      cmd_str: 'echo never',
      deployment: 'api',
      namespace: 'staging',
    });
    expect(result.isError).toBe(true);
    const error = result.structuredContent!.error;
    expect(error.code).toBe('QUEUE_TIMEOUT');
    expect(error.message).toMatch(/waited 1 s in the queue \(run\.queueTimeoutS\) and never started/);
    expect(error.message).toContain(`deployment/api in staging (held by your run ${first.runId})`);
    expect(error.hint).toMatch(/incoming to "off"/);
    expect(result.content[0]!.text).toMatch(/^QUEUE_TIMEOUT: /);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/mirrord_mcp_runs_total\{outcome="queue_timeout"\} 1\b/);
    // The holder was not disturbed.
    expect((await statusOf(client, first.runId)).structuredContent!.status).toBe('running');
    await first.held.release();
    expect((await finished(client, first.runId)).structuredContent!.exit_code).toBe(0);
  });
});

describe('the hand-off while queued (run.waitS 1)', () => {
  let server: TestServer;
  let client: TestClient;

  beforeAll(async () => {
    server = await startServer({ env: { MIRRORD_MCP_RUN_WAIT_S: '1' } });
    client = await connectClient('v2-http', server.url);
  });

  afterAll(async () => {
    await client.close();
    await server.stop();
    await server.cleanup();
  });

  it('a run still queued at run.waitS answers with its run id and status queued, then runs', async () => {
    const first = await startHeld(client, { deployment: 'api' });
    const result = await client.callTool('run', { cmd_str: 'echo later', deployment: 'api' });
    expect(result.isError).toBeFalsy();
    const out = result.structuredContent!;
    expect(out).toMatchObject({ status: 'queued', queue: { position: 1 } });
    expect(result.content[0]!.text).toContain(out.run_id);
    await first.held.release();
    expect((await finished(client, out.run_id)).structuredContent!).toMatchObject({
      status: 'finished',
      stdout: 'later\n',
    });
  });
});

describe('shutdown with queued runs', () => {
  it('fails queued runs with SHUTTING_DOWN at once; the drain does not wait for them', async () => {
    const server = await startServer({
      env: { MIRRORD_MCP_DRAIN_TIMEOUT_S: '1', MIRRORD_MCP_RUN_KILL_GRACE_MS: '300' },
    });
    try {
      const client = await connectClient('v2-sse', server.url);
      const first = await startHeld(client, { deployment: 'api' });
      const messages: string[] = [];
      const queued = client.callTool(
        'run',
        { cmd_str: 'echo never', deployment: 'api' },
        { onprogress: (progress) => messages.push(progress.message ?? '') },
      );
      await waitFor(
        () => messages,
        (found) => found.some((message) => message.startsWith('queued:')),
        10_000,
      );
      const exit = server.stop();
      const result = await queued;
      expect(result.isError).toBe(true);
      expect(result.structuredContent!.error.code).toBe('SHUTTING_DOWN');
      expect(result.structuredContent!.error.message).toMatch(/still queued and never started/);
      expect((await exit).code).toBe(0);
      const calls = await server.calls();
      expect(calls).toHaveLength(1);
      expect(first.held.started()).toBe(true);
      await client.close().catch(() => undefined);
    } finally {
      await server.cleanup();
    }
  });
});
