import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** Opens GET /sse and collects what arrives for `ms` milliseconds (or until `until` matches). */
function readSse(
  url: string,
  ms: number,
  until?: RegExp,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let body = '';
      let ended = false;
      const finish = (): void => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ended });
      };
      const timer = setTimeout(finish, ms);
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
        if (until?.test(body)) finish();
      });
      res.on('end', () => {
        ended = true;
        finish();
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } },
});

describe('HTTP endpoints', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { MIRRORD_MCP_SESSIONS_KEEP_ALIVE_MS: '200' } });
  });
  afterAll(async () => {
    await server.stop();
    await server.cleanup();
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('opens an SSE stream with the endpoint event, no buffering and keep-alive comments', async () => {
    const sse = await readSse(`${server.url}/sse`, 2000, /: keep-alive\n\n[\s\S]*: keep-alive\n\n/);
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toMatch(/text\/event-stream/);
    expect(sse.headers['x-accel-buffering']).toBe('no');
    expect(sse.body).toMatch(/^event: endpoint\ndata: \/messages\?sessionId=[0-9a-f-]{36}\n\n/);
    expect(sse.body.match(/: keep-alive/g)?.length).toBeGreaterThanOrEqual(2);
  });

  it('answers POST /sse with 405 so clients fall back to GET', async () => {
    const res = await post(`${server.url}/sse`, initialize);
    expect(res.status).toBe(405);
    expect(res.json.error.message).toMatch(/GET \/sse/);
  });

  it('answers unknown SSE sessions with 404 and a JSON-RPC body', async () => {
    const res = await post(
      `${server.url}/messages?sessionId=00000000-0000-0000-0000-000000000000`,
      initialize,
    );
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 }, id: null });
    const missing = await post(`${server.url}/messages`, initialize);
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toMatch(/sessionId/);
  });

  it('answers malformed SSE messages with 400 and a JSON-RPC body, keeping the session', async () => {
    const sse = await readSse(`${server.url}/sse`, 1000, /sessionId=[0-9a-f-]{36}/);
    const path = /data: (\/messages\?sessionId=[0-9a-f-]{36})/.exec(sse.body)![1]!;
    // The stream was closed by readSse, so open one that stays for this test.
    const held = new Promise<string>((resolve) => {
      const req = request(`${server.url}/sse`, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
          const match = /data: (\/messages\?sessionId=[0-9a-f-]{36})/.exec(body);
          if (match) resolve(match[1]!);
        });
      });
      req.end();
      setTimeout(() => req.destroy(), 3000);
    });
    const live = await held;
    expect(path).not.toBe(live);
    const bad = await post(`${server.url}${live}`, '{"jsonrpc": "2.0", ');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });
    const notRpc = await post(`${server.url}${live}`, '{"hello": "world"}');
    expect(notRpc.status).toBe(400);
    expect(notRpc.json.error.code).toBe(-32600);
    const ok = await post(`${server.url}${live}`, initialize, { accept: '*/*' });
    expect(ok.status).toBe(202);
  });

  it('answers Streamable HTTP errors with JSON-RPC bodies', async () => {
    const bad = await post(`${server.url}/mcp`, 'not json', {
      accept: 'application/json, text/event-stream',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe(-32700);
    const unknown = await post(`${server.url}/mcp`, initialize, {
      accept: 'application/json, text/event-stream',
      'mcp-session-id': 'no-such-session',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe(-32001);
  });

  it('gives 2025-era Streamable HTTP clients a session id', async () => {
    const res = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      body: initialize,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    await res.text();
  });

  it('answers OAuth discovery with 404, not 401', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-authorization-server']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(404);
    }
  });

  it('refuses a foreign Origin or Host (DNS rebinding) and accepts a missing Origin', async () => {
    const statusWith = (path: string, headers: Record<string, string>): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(
          `${server.url}${path}`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              ...headers,
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(initialize);
      });
    expect(await statusWith('/mcp', { origin: 'http://evil.example' })).toBe(403);
    expect(await statusWith('/mcp', { host: 'rebind.evil.example' })).toBe(403);
    expect(await statusWith('/messages?sessionId=x', { host: 'rebind.evil.example' })).toBe(403);
    expect(await statusWith('/mcp', { origin: 'http://localhost:5173' })).toBe(200);
    expect(await statusWith('/mcp', {})).toBe(200);
    const evilSse = await readSse(`${server.url}/sse`, 500, /./, { origin: 'http://evil.example' });
    expect(evilSse.status).toBe(403);
  });

  it('answers health probes whatever their Host (kubelet sends the pod IP)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/healthz`, { headers: { host: '10.1.2.3:3000' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
  });

  it('answers unknown paths with a JSON 404 naming the MCP endpoints', async () => {
    const res = await fetch(`${server.url}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toMatch(/\/sse.*\/mcp/);
  });
});

describe('base path and allowed hosts', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      args: ['--base-path', '/team/mirrord'],
      env: { MIRRORD_MCP_ALLOWED_HOSTS: 'mcp.example.com,127.0.0.1' },
    });
  });
  afterAll(async () => {
    await server.stop();
    await server.cleanup();
  });

  it('names the prefixed messages URL in the endpoint event and serves clients under it', async () => {
    expect(server.url).toMatch(/\/team\/mirrord$/);
    const sse = await readSse(`${server.url}/sse`, 1000, /sessionId=/);
    expect(sse.body).toMatch(/data: \/team\/mirrord\/messages\?sessionId=/);
    const client = await connectClient('v1-sse', server.url);
    const result = await client.callTool('run', { cmd_str: 'echo prefixed', deployment: 'api' });
    expect(result.structuredContent!.stdout).toBe('prefixed\n');
    await client.close();
  });

  it('accepts a configured public Host header', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/healthz`, { headers: { host: 'mcp.example.com' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
  });
});

describe('idle sessions', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      env: { MIRRORD_MCP_SESSIONS_IDLE_TIMEOUT_S: '1', MIRRORD_MCP_SESSIONS_KEEP_ALIVE_MS: '200' },
    });
  });
  afterAll(async () => {
    await server.stop();
    await server.cleanup();
  });

  it('closes an abandoned SSE session after the idle timeout', async () => {
    const sse = await readSse(`${server.url}/sse`, 5000);
    expect(sse.ended).toBe(true);
    const path = /data: (\/messages\?sessionId=[0-9a-f-]{36})/.exec(sse.body)![1]!;
    const res = await post(`${server.url}${path}`, initialize);
    expect(res.status).toBe(404);
    expect(server.logs()).toMatch(/closing idle session/);
  });

  it('keeps a session with a call in flight', async () => {
    const client = await connectClient('v2-sse', server.url);
    const result = await client.callTool('run', { cmd_str: 'sleep 2.5; echo survived', deployment: 'api' });
    expect(result.structuredContent!.stdout).toBe('survived\n');
    await client.close();
  });
});
