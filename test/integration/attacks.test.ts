import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startFakeIssuer, type FakeIssuer } from '../fixtures/oidc-issuer.js';

/**
 * A table of attacks on a server set up as a team would (tokens and OIDC, a caller limited to one
 * namespace, Host names configured): each is refused with a clear error, and nothing is spawned.
 */
const token = 'attacker-0123456789abcdef012345';
let dir: string;
let issuer: FakeIssuer;
let server: TestServer;
let client: TestClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mms-attacks-'));
  issuer = await startFakeIssuer();
  const tokensFile = join(dir, 'tokens.yaml');
  await writeFile(tokensFile, `tokens:\n  - { identity: mallory, token: ${token}, namespaces: [default] }\n`);
  server = await startServer({
    env: {
      MIRRORD_MCP_AUTH_TOKENS_FILE: tokensFile,
      MIRRORD_MCP_AUTH_OIDC_ISSUER: issuer.issuer,
      MIRRORD_MCP_AUTH_OIDC_AUDIENCE: 'mirrord-mcp',
      MIRRORD_MCP_ALLOWED_HOSTS: 'localhost,127.0.0.1,mcp.example.com',
      MIRRORD_MCP_MAX_REQUEST_BYTES: '65536',
    },
  });
  client = await connectClient('v2-http', server.url, { token });
});
afterAll(async () => {
  await client.close();
  await server.cleanup();
  await issuer.close();
  await rm(dir, { recursive: true, force: true });
});

const serverOnly: [string, Record<string, unknown>][] = [
  ['agent', { agent: { privileged: true } }],
  ['agent', { agent: { image: 'evil.example/agent:latest' } }],
  ['agent', { agent: { namespace: 'kube-system' } }],
  ['agent', { agent: { service_account: 'cluster-admin' } }],
  ['agent', { agent: { tolerations: [{ operator: 'Exists' }] } }],
  ['agent', { agent: { node_selector: { 'kubernetes.io/hostname': 'control-plane' } } }],
  ['kubeconfig', { kubeconfig: '/etc/kubernetes/admin.conf' }],
  ['kube_context', { kube_context: 'production' }],
  ['accept_invalid_certificates', { accept_invalid_certificates: true }],
  ['internal_proxy', { internal_proxy: { log_destination: '/etc/cron.d/pwn' } }],
  ['experimental', { experimental: { readlink: true } }],
  ['profile', { profile: 'admin' }],
  ['operator', { operator: true }],
  ['telemetry', { telemetry: true }],
  ['target', { target: 'deployment/api' }],
  [
    'feature.env.env_file',
    { feature: { env: { env_file: '/var/run/secrets/kubernetes.io/serviceaccount/token' } } },
  ],
  ['feature.fs.mapping', { feature: { fs: { mapping: { '/etc': '/' } } } }],
];

type Attack = { name: string; args: Record<string, unknown>; code: string; says: string };
const runAttacks: Attack[] = [
  ...serverOnly.map(([key, config]) => ({
    name: `server-only key ${key}: ${JSON.stringify(config)}`,
    args: { mirrord_config: config },
    code: 'FORBIDDEN_CONFIG_KEY',
    says: `"${key}"`,
  })),
  ...['{{ get_env(name="KUBECONFIG") }}', '{% include "/etc/passwd" %}', '{# #}'].map((value) => ({
    name: `template delimiter in a config value: ${value}`,
    args: { mirrord_config: { feature: { env: { override: { A: value } } } } },
    code: 'TEMPLATE_DELIMITER',
    says: 'template delimiter',
  })),
  {
    name: 'template delimiter in a config key',
    args: { mirrord_config: { feature: { env: { override: { '{{x}}': '1' } } } } },
    code: 'TEMPLATE_DELIMITER',
    says: 'template delimiter',
  },
  {
    name: 'template delimiter in env',
    args: { env: { TOKEN: '{{ get_env(name="HOME") }}' } },
    code: 'TEMPLATE_DELIMITER',
    says: 'template delimiter',
  },
  {
    name: 'namespace escape through the config target',
    args: { mirrord_config: { target: { path: 'deployment/api', namespace: 'kube-system' } } },
    code: 'FORBIDDEN_CONFIG_KEY',
    says: '"target"',
  },
  {
    name: 'namespace escape through the agent namespace',
    args: { mirrord_config: { agent: { namespace: 'default' } } },
    code: 'FORBIDDEN_CONFIG_KEY',
    says: '"agent"',
  },
  {
    name: 'a namespace outside the credential',
    args: { namespace: 'staging' },
    code: 'NAMESPACE_NOT_ALLOWED',
    says: 'limits mallory to: default',
  },
  {
    name: 'a path as namespace',
    args: { namespace: '../kube-system' },
    code: 'INVALID_NAMESPACE',
    says: 'not a valid namespace',
  },
  {
    name: 'a target that climbs out',
    args: { deployment: undefined, target: 'deployment/../../secrets/x' },
    code: 'INVALID_TARGET',
    says: 'target',
  },
  {
    name: 'a target kind that needs the operator',
    args: { deployment: undefined, target: 'job/migrate' },
    code: 'OPERATOR_REQUIRED',
    says: 'job',
  },
  {
    name: 'steal without the policy allowing it',
    args: { mirrord_config: { feature: { network: { incoming: { mode: 'steal' } } } } },
    code: 'POLICY_DENIED',
    says: 'steal',
  },
  {
    name: 'fs write without the policy allowing it',
    args: { mirrord_config: { feature: { fs: 'write' } } },
    code: 'POLICY_DENIED',
    says: 'fs',
  },
  {
    name: 'prototype keys to slip past the allow-list',
    args: { mirrord_config: '{"__proto__": {"agent": {"privileged": true}}}' },
    code: 'INVALID_MIRRORD_CONFIG',
    says: '__proto__',
  },
  {
    name: 'constructor key',
    args: { mirrord_config: { constructor: { prototype: { agent: 1 } } } },
    code: 'FORBIDDEN_CONFIG_KEY',
    says: '"constructor"',
  },
];

describe('attacks through run', () => {
  it.each(runAttacks)('$name → $code', async ({ args, code, says }) => {
    const before = (await server.calls()).length;
    const result = await client.callTool('run', { cmd_str: 'id', deployment: 'api', ...args });
    expect(result.isError).toBe(true);
    expect(result.structuredContent?.error?.code).toBe(code);
    expect(result.structuredContent?.error?.message).toContain(says);
    expect(result.structuredContent?.error?.hint?.length).toBeGreaterThan(0);
    expect((await server.calls()).length).toBe(before);
  });
});

const fetchMcp = (headers: Record<string, string>, body = '{"jsonrpc":"2.0","id":1,"method":"ping"}') =>
  fetch(`${server.url}/mcp`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
  });

describe('attacks on authentication and the HTTP surface', () => {
  const tokens: [string, () => Promise<string>, string][] = [
    [
      'a forged JWT (key not the issuer’s)',
      () => issuer.forge({ sub: 'admin' }),
      'signature does not verify',
    ],
    ['an expired JWT', () => issuer.sign({ sub: 'admin' }, { expiresInS: -3600 }), 'expired'],
    [
      'a JWT for another audience',
      () => issuer.sign({ sub: 'admin', aud: 'kubernetes' }),
      'not meant for this server',
    ],
    [
      'an unsigned JWT (alg none)',
      () =>
        Promise.resolve(
          new UnsecuredJWT({ sub: 'admin' })
            .setIssuer(issuer.issuer)
            .setAudience('mirrord-mcp')
            .setExpirationTime('1h')
            .encode(),
        ),
      'invalid_token',
    ],
    [
      'a JWT from another issuer',
      () => issuer.sign({ sub: 'admin', iss: 'https://evil.example' }),
      'not issued by',
    ],
    [
      'a guessed static token',
      () => Promise.resolve('attacker-0123456789abcdef012346'),
      'not valid for this server',
    ],
  ];

  it.each(tokens)('%s → 401', async (_name, make, says) => {
    const res = await fetchMcp({ authorization: `Bearer ${await make()}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain(says);
  });

  it('a token in the query string is not a credential → 401', async () => {
    const res = await fetch(`${server.url}/mcp?access_token=${token}`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
  });

  it('DNS rebinding: a foreign Host → 403, even with a valid token', async () => {
    // fetch() sets Host itself; a rebinding browser sends the attacker's name, as node:http can.
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}/mcp`, {
          method: 'POST',
          headers: { host, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end('{"jsonrpc":"2.0","id":1,"method":"ping"}');
      });
    expect(await status('evil.example')).toBe(403);
    expect(await status(`evil.example:${server.port}`)).toBe(403);
    expect(await status(`mcp.example.com:${server.port}`)).not.toBe(403);
  });

  it('a foreign Origin → 403, even with a valid token', async () => {
    const res = await fetchMcp({ authorization: `Bearer ${token}`, origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    const allowed = await fetchMcp({ authorization: `Bearer ${token}`, origin: 'https://mcp.example.com' });
    expect(allowed.status).not.toBe(403);
  });

  it('an oversized body → 413', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'ping',
      params: { pad: 'x'.repeat(100_000) },
    });
    const res = await fetchMcp({ authorization: `Bearer ${token}` }, big);
    expect(res.status).toBe(413);
  });

  it('the server is still healthy and never logged a token', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.logs()).not.toContain(token);
  });
});
