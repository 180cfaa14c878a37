import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, httpClientKinds } from '../helpers/clients.js';
import { cliPath } from '../helpers/paths.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startFakeIssuer, type FakeIssuer } from '../fixtures/oidc-issuer.js';

const aliceToken = 'alice-0123456789abcdef0123456789';
const bobToken = 'bob-0123456789abcdef0123456789ab';
const stagingToken = 'staging-only-0123456789abcdef012';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mms-auth-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tokensFile(): Promise<string> {
  const path = join(dir, 'tokens.yaml');
  await writeFile(
    path,
    [
      'tokens:',
      `  - { identity: alice, token: ${aliceToken} }`,
      `  - { identity: bob, token: ${bobToken} }`,
      `  - { identity: stager, token: ${stagingToken}, namespaces: [staging] }`,
      '',
    ].join('\n'),
  );
  return path;
}

const get = async (url: string, token?: string) => {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, headers: res.headers, text: await res.text() };
};

describe('static bearer tokens', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { MIRRORD_MCP_AUTH_TOKENS_FILE: await tokensFile() } });
  });
  afterAll(async () => {
    await server.cleanup();
  });

  it.each(httpClientKinds)(
    '%s: a client with a token connects and calls tools; one without is refused',
    async (kind) => {
      const client = await connectClient(kind, server.url, { token: aliceToken });
      try {
        const info = await client.callTool('server_info', {});
        expect(info.structuredContent?.caller).toBe('alice');
      } finally {
        await client.close();
      }
      await expect(connectClient(kind, server.url)).rejects.toThrow();
      await expect(connectClient(kind, server.url, { token: 'wrong-0123456789abcdef' })).rejects.toThrow();
    },
  );

  it('answers 401 with a Bearer challenge; a bad token gets error="invalid_token"', async () => {
    for (const path of ['/sse', '/mcp', '/messages?sessionId=x', '/workspaces', '/metrics', '/nowhere']) {
      const missing = await get(`${server.url}${path}`);
      expect(missing.status, path).toBe(401);
      expect(missing.headers.get('www-authenticate'), path).toBe('Bearer realm="mirrord-mcp-server"');
      expect(JSON.parse(missing.text).error.message).toContain('authentication required');
    }
    const bad = await get(`${server.url}/mcp`, 'forged-0123456789abcdef');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe(
      'Bearer realm="mirrord-mcp-server", error="invalid_token", error_description="the token is not valid for this server"',
    );
  });

  it('serves the probes without a token, /metrics with one, and no OAuth metadata (404, not 401)', async () => {
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
    expect([200, 503]).toContain((await get(`${server.url}/readyz`)).status);
    expect((await get(`${server.url}/metrics`, aliceToken)).text).toContain('mirrord_mcp_runs_active');
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-authorization-server']) {
      expect((await get(`${server.url}${path}`)).status).toBe(404);
    }
  });

  it('a session belongs to the identity that opened it', async () => {
    const alice = await connectClient('v1-sse', server.url, { token: aliceToken });
    try {
      // Learn alice's SSE session id from the endpoint event by opening one more session as alice.
      const controller = new AbortController();
      const res = await fetch(`${server.url}/sse`, {
        headers: { authorization: `Bearer ${aliceToken}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      let text = '';
      while (!/sessionId=([\w-]+)/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
      const sessionId = /sessionId=([\w-]+)/.exec(text)![1];
      const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
      const asBob = await fetch(`${server.url}/messages?sessionId=${sessionId}`, {
        method: 'POST',
        body: ping,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bobToken}` },
      });
      expect(asBob.status).toBe(404);
      const asAlice = await fetch(`${server.url}/messages?sessionId=${sessionId}`, {
        method: 'POST',
        body: ping,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${aliceToken}` },
      });
      expect(asAlice.status).toBe(202);
      controller.abort();
    } finally {
      await alice.close();
    }
  });

  it("one identity never sees another's runs", async () => {
    const alice = await connectClient('v2-http', server.url, { token: aliceToken });
    const bob = await connectClient('v2-http', server.url, { token: bobToken });
    try {
      const started = await alice.callTool('run_start', { cmd_str: 'echo mine', deployment: 'api' });
      const runId = started.structuredContent?.run_id as string;
      expect(runId).toBeTruthy();
      const peek = await bob.callTool('run_status', { run_id: runId });
      expect(peek.isError).toBe(true);
      expect(peek.structuredContent?.error?.code).toBe('RUN_NOT_FOUND');
      expect((await bob.callTool('run_list', {})).structuredContent?.runs).toEqual([]);
      const own = await alice.callTool('run_status', { run_id: runId });
      expect(own.structuredContent?.run_id).toBe(runId);
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it("a token's namespaces narrow what every tool may touch", async () => {
    const stager = await connectClient('v2-http', server.url, { token: stagingToken });
    try {
      const before = (await server.calls()).length;
      const refused = await stager.callTool('run', {
        cmd_str: 'true',
        deployment: 'api',
        namespace: 'default',
      });
      expect(refused.structuredContent?.error?.code).toBe('NAMESPACE_NOT_ALLOWED');
      expect(refused.structuredContent?.error?.message).toContain(
        'your credential limits stager to: staging',
      );
      expect((await server.calls()).length).toBe(before);
      // Her default is her namespace, not the server's.
      const ran = await stager.callTool('run', { cmd_str: 'echo ok', deployment: 'api' });
      expect(ran.structuredContent?.exit_code).toBe(0);
      expect((await server.calls()).at(-1)?.namespace).toBe('staging');
      const all = await stager.callTool('list_targets', { all_namespaces: true });
      const namespaces = new Set(
        (all.structuredContent?.targets as { namespace: string }[]).map((t) => t.namespace),
      );
      expect([...namespaces]).toEqual(['staging']);
      const info = await stager.callTool('server_info', {});
      expect(info.structuredContent?.allowed_namespaces).toEqual(['staging']);
    } finally {
      await stager.close();
    }
  });

  it('logs who ran what, and never a token', () => {
    expect(server.logs()).toContain('"caller":"alice"');
    for (const token of [aliceToken, bobToken, stagingToken]) expect(server.logs()).not.toContain(token);
  });
});

describe('rate limit per identity', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      env: {
        MIRRORD_MCP_AUTH_TOKENS_FILE: await tokensFile(),
        MIRRORD_MCP_RATE_LIMIT_REQUESTS_PER_MINUTE: '60',
        MIRRORD_MCP_RATE_LIMIT_BURST: '5',
      },
    });
  });
  afterAll(async () => {
    await server.cleanup();
  });

  it('answers 429 with Retry-After past the burst, for that identity only', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await get(`${server.url}/workspaces`, aliceToken)).status);
    expect(statuses.slice(0, 5).every((status) => status !== 429)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const limited = await get(`${server.url}/workspaces`, aliceToken);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(limited.text).error.message).toContain('Too many requests for alice');
    expect((await get(`${server.url}/workspaces`, bobToken)).status).not.toBe(429);
  });

  it('slows down token guessing from one address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++)
      statuses.push((await get(`${server.url}/mcp`, `guess-${i}-0123456789abcdef`)).status);
    expect(statuses[0]).toBe(401);
    expect(statuses.at(-1)).toBe(429);
    // A valid token still gets in.
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
    expect((await get(`${server.url}/workspaces`, bobToken)).status).not.toBe(401);
  });
});

describe('OIDC tokens', () => {
  let issuer: FakeIssuer;
  let server: TestServer;
  beforeAll(async () => {
    issuer = await startFakeIssuer();
    server = await startServer({
      env: {
        MIRRORD_MCP_AUTH_OIDC_ISSUER: issuer.issuer,
        MIRRORD_MCP_AUTH_OIDC_AUDIENCE: 'mirrord-mcp',
        MIRRORD_MCP_AUTH_OIDC_NAMESPACES_CLAIM: 'namespaces',
      },
    });
  });
  afterAll(async () => {
    await server.cleanup();
    await issuer.close();
  });

  it('serves RFC 9728 metadata naming the issuer, and points 401s at it', async () => {
    const metadata = await get(`${server.url}/.well-known/oauth-protected-resource`);
    expect(metadata.status).toBe(200);
    expect(JSON.parse(metadata.text)).toEqual({
      resource: server.url,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
      resource_name: 'mirrord-mcp-server',
    });
    expect((await get(`${server.url}/.well-known/oauth-protected-resource/mcp`)).status).toBe(200);
    expect((await get(`${server.url}/.well-known/oauth-authorization-server`)).status).toBe(404);
    const challenge = (await get(`${server.url}/mcp`)).headers.get('www-authenticate');
    expect(challenge).toBe(
      `Bearer realm="mirrord-mcp-server", resource_metadata="${server.url}/.well-known/oauth-protected-resource"`,
    );
  });

  it.each(['v1-sse', 'v2-http'] as const)(
    '%s: a valid JWT connects as its subject, within its namespaces',
    async (kind) => {
      const token = await issuer.sign({ sub: 'dana', namespaces: ['default'] });
      const client = await connectClient(kind, server.url, { token });
      try {
        const info = await client.callTool('server_info', {});
        expect(info.structuredContent?.caller).toBe('dana');
        const refused = await client.callTool('list_targets', { namespace: 'staging' });
        expect(refused.structuredContent?.error?.code).toBe('NAMESPACE_NOT_ALLOWED');
      } finally {
        await client.close();
      }
    },
  );

  it.each([
    ['expired', () => issuer.sign({}, { expiresInS: -300 }), 'expired'],
    ['for another audience', () => issuer.sign({ aud: 'other-api' }), 'not meant for this server'],
    ['forged', () => issuer.forge(), 'signature does not verify'],
    ['from another issuer', () => issuer.sign({ iss: 'https://evil.example' }), 'not issued by'],
  ])('refuses a token %s with 401 invalid_token', async (_name, make, reason) => {
    const res = await get(`${server.url}/mcp`, await make());
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(res.headers.get('www-authenticate')).toContain(reason);
  });
});

describe('TokenReview and SubjectAccessReview', () => {
  let server: TestServer;
  const devToken = 'cluster-token-for-dev-0123456789';
  beforeAll(async () => {
    server = await startServer({
      env: { MIRRORD_MCP_AUTH_TOKEN_REVIEW_ENABLED: 'true', MIRRORD_MCP_AUTH_SUBJECT_ACCESS_REVIEW: 'true' },
    });
    server.kube!.acceptToken(devToken, { username: 'dev@example.com', groups: ['developers'] });
    server.kube!.grant({ group: 'developers', verb: 'get', resource: 'pods', namespace: 'default' });
    server.kube!.grant({
      group: 'developers',
      verb: 'create',
      resource: 'pods/portforward',
      namespace: 'default',
    });
    server.kube!.grant({ group: 'developers', verb: 'get', resource: 'pods', namespace: 'staging' });
  });
  afterAll(async () => {
    await server.cleanup();
  });

  it("accepts the cluster's tokens and lets its RBAC decide where a caller may mirror", async () => {
    const client = await connectClient('v2-http', server.url, { token: devToken });
    try {
      const ran = await client.callTool('run', { cmd_str: 'echo hi', deployment: 'api' });
      expect(ran.structuredContent?.exit_code).toBe(0);
      const before = (await server.calls()).length;
      const denied = await client.callTool('run', {
        cmd_str: 'echo hi',
        deployment: 'api',
        namespace: 'staging',
      });
      expect(denied.structuredContent?.error?.code).toBe('ACCESS_DENIED');
      expect(denied.structuredContent?.error?.message).toContain(
        'does not let dev@example.com create pods/portforward in namespace "staging"',
      );
      expect((await server.calls()).length).toBe(before);
    } finally {
      await client.close();
    }
    expect((await get(`${server.url}/mcp`, 'not-a-cluster-token-0123456')).status).toBe(401);
  });
});

describe('start-up without authentication', () => {
  it('refuses to listen beyond loopback and says why', async () => {
    const error = await startServer({ args: ['--host', '0.0.0.0'], kube: false }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain('not a loopback address, and no authentication is configured');
  });
});

describe('the sync client with a token', () => {
  let server: TestServer;
  let project: string;
  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'mms-auth-project-'));
    await writeFile(join(project, 'main.js'), 'console.log("hi")\n');
    server = await startServer({
      env: {
        MIRRORD_MCP_AUTH_TOKENS_FILE: await tokensFile(),
        MIRRORD_MCP_WORKSPACES_DATA_DIR: join(dir, 'data'),
      },
    });
  });
  afterAll(async () => {
    await server.cleanup();
    await rm(project, { recursive: true, force: true });
  });

  const sync = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cliPath, 'sync', project, '--url', server.url, ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: server.home, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 30_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });

  it('authenticates from --token-file or MIRRORD_MCP_TOKEN; workspaces belong to the identity', async () => {
    const file = join(dir, 'alice.token');
    await writeFile(file, `${aliceToken}\n`);
    const viaFile = await sync(['--workspace', 'shop', '--token-file', file]);
    expect(viaFile.stderr).toBe('');
    expect(viaFile.code).toBe(0);
    const viaEnv = await sync(['--workspace', 'shop'], { MIRRORD_MCP_TOKEN: aliceToken });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stdout).toContain('up to date');

    const none = await sync(['--workspace', 'shop']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('authentication required');

    // Bob's "shop" is another workspace: alice's files are not his.
    const bob = await connectClient('v2-http', server.url, { token: bobToken });
    try {
      const listed = await bob.callTool('workspace_list', { workspace: 'shop' });
      expect(listed.structuredContent?.error?.code).toBe('WORKSPACE_NOT_FOUND');
    } finally {
      await bob.close();
    }
    const alice = await connectClient('v2-http', server.url, { token: aliceToken });
    try {
      const listed = await alice.callTool('workspace_list', { workspace: 'shop' });
      expect(JSON.stringify(listed.structuredContent)).toContain('main.js');
    } finally {
      await alice.close();
    }
  });

  it('refuses unusable token options before contacting the server', async () => {
    const both = await sync(['--workspace', 'w', '--token', aliceToken, '--token-file', '/nonexistent']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
    const missing = await sync(['--workspace', 'w', '--token-file', join(dir, 'absent.token')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read --token-file');
    await writeFile(join(dir, 'empty.token'), '\n');
    const empty = await sync(['--workspace', 'w', '--token-file', join(dir, 'empty.token')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('is empty');
  });
});
