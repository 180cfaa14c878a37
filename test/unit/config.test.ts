import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  configFromEnv,
  configFromFile,
  configKeys,
  envPrefix,
  isLoopbackHost,
  loadConfig,
  parseConfig,
} from '../../src/config.js';
import { catchAppError } from '../helpers/app-error.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'config-test-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tempFile(name: string, contents: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, contents);
  return path;
}

describe('loadConfig defaults', () => {
  it('gives every default when no source is given', () => {
    const config = loadConfig();
    expect(config).toEqual({
      host: '127.0.0.1',
      port: 3000,
      basePath: '',
      allowedHosts: [],
      allowedOrigins: [],
      stdio: false,
      mirrordBin: 'mirrord',
      defaultNamespace: 'default',
      logLevel: 'info',
      maxRequestBytes: 4 * 1024 * 1024,
      drainTimeoutS: 30,
      shutdownTimeoutMs: 10_000,
      run: {
        defaultTimeoutS: 600,
        maxTimeoutS: 3600,
        setupTimeoutS: 600,
        killGraceMs: 5000,
        maxOutputBytes: 1024 * 1024,
        heartbeatMs: 5000,
        waitS: 50,
        retainS: 3600,
        maxLogBytes: 16 * 1024 * 1024,
        maxConcurrent: 64,
        maxPerIdentity: 8,
        queueTimeoutS: 300,
        maxQueued: 256,
      },
      policy: {
        steal: 'never',
        fsWrite: false,
        envImport: 'non-secret',
        hidePodSecrets: true,
        namespaces: {},
      },
      kube: { requestTimeoutMs: 5000, checkTargets: true, watch: true },
      namespaces: { allowed: ['*'] },
      sessions: { keepAliveMs: 15_000, idleTimeoutS: 1800, maxSessions: 2000 },
      auth: {
        tokens: [],
        tokenReview: { enabled: false, audiences: [], cacheS: 60 },
        subjectAccessReview: false,
        publicMetrics: false,
      },
      rateLimit: { requestsPerMinute: 600, burst: 120 },
      workspaces: {
        maxFiles: 50_000,
        maxBytes: 2 * 1024 ** 3,
        maxTotalBytes: 20 * 1024 ** 3,
        idleTtlS: 7 * 24 * 3600,
        syncIdleTimeoutS: 60,
        maxManifestBytes: 32 * 1024 * 1024,
        maxBatchBytes: 32 * 1024 * 1024,
        maxBatchFiles: 2000,
        maxReadBytes: 1024 * 1024,
      },
    });
    expect(config.agentNamespace).toBeUndefined();
    expect(config.workspaces.dataDir).toBeUndefined();
    expect(config.kube.context).toBeUndefined();
  });

  it('does not read process.env when no env is passed', () => {
    const saved = process.env.MIRRORD_MCP_PORT;
    process.env.MIRRORD_MCP_PORT = '4321';
    try {
      expect(loadConfig().port).toBe(3000);
      expect(loadConfig({ env: process.env }).port).toBe(4321);
    } finally {
      if (saved === undefined) delete process.env.MIRRORD_MCP_PORT;
      else process.env.MIRRORD_MCP_PORT = saved;
    }
  });

  it('parseConfig({}) equals loadConfig()', () => {
    expect(parseConfig({})).toEqual(loadConfig());
  });
});

describe('run.defaultTimeoutS', () => {
  it('defaults to 600 when maxTimeoutS is larger', () => {
    expect(loadConfig({ flags: { run: { maxTimeoutS: 7200 } } }).run.defaultTimeoutS).toBe(600);
  });

  it('defaults to maxTimeoutS when maxTimeoutS is below 600', () => {
    const config = loadConfig({ env: { MIRRORD_MCP_RUN_MAX_TIMEOUT_S: '120' } });
    expect(config.run.maxTimeoutS).toBe(120);
    expect(config.run.defaultTimeoutS).toBe(120);
  });

  it('defaults to 600 when maxTimeoutS is exactly 600', () => {
    expect(loadConfig({ flags: { run: { maxTimeoutS: 600 } } }).run.defaultTimeoutS).toBe(600);
  });

  it('keeps an explicit value', () => {
    expect(loadConfig({ env: { MIRRORD_MCP_RUN_DEFAULT_TIMEOUT_S: '30' } }).run.defaultTimeoutS).toBe(30);
    expect(loadConfig({ flags: { run: { defaultTimeoutS: 3600 } } }).run.defaultTimeoutS).toBe(3600);
  });

  it('refuses an explicit value above maxTimeoutS, naming the key and env var', () => {
    const error = catchAppError(() =>
      loadConfig({ env: { MIRRORD_MCP_RUN_DEFAULT_TIMEOUT_S: '700', MIRRORD_MCP_RUN_MAX_TIMEOUT_S: '650' } }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('run.defaultTimeoutS');
    expect(error.message).toContain('MIRRORD_MCP_RUN_DEFAULT_TIMEOUT_S');
    expect(error.message).toContain('must not exceed run.maxTimeoutS (650)');
  });
});

describe('precedence: defaults < file < env < flags', () => {
  it('each layer overrides the one below for the same key', async () => {
    const file = await tempFile('c.yaml', 'port: 1001\n');
    const env = { MIRRORD_MCP_PORT: '1002' };
    const flags = { port: 1003 };
    expect(loadConfig({}).port).toBe(3000);
    expect(loadConfig({ file }).port).toBe(1001);
    expect(loadConfig({ file, env }).port).toBe(1002);
    expect(loadConfig({ file, env, flags }).port).toBe(1003);
    expect(loadConfig({ file, flags }).port).toBe(1003);
    expect(loadConfig({ env, flags }).port).toBe(1003);
  });

  it('layers setting different keys combine', async () => {
    const file = await tempFile(
      'c.yaml',
      'host: 0.0.0.0\nlogLevel: debug\nauth:\n  tokensFile: /etc/t.yaml\n',
    );
    const config = loadConfig({ file, env: { MIRRORD_MCP_PORT: '8080' }, flags: { logLevel: 'warn' } });
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(8080);
    expect(config.logLevel).toBe('warn');
  });

  it('merges nested objects key by key across layers', async () => {
    const file = await tempFile(
      'c.yaml',
      'run:\n  maxTimeoutS: 900\n  killGraceMs: 100\nsessions:\n  maxSessions: 5\n',
    );
    const config = loadConfig({
      file,
      env: { MIRRORD_MCP_RUN_KILL_GRACE_MS: '200', MIRRORD_MCP_SESSIONS_IDLE_TIMEOUT_S: '60' },
      flags: { run: { maxConcurrent: 3 } },
    });
    expect(config.run).toEqual({
      defaultTimeoutS: 600,
      maxTimeoutS: 900,
      setupTimeoutS: 600,
      killGraceMs: 200,
      maxOutputBytes: 1024 * 1024,
      heartbeatMs: 5000,
      waitS: 50,
      retainS: 3600,
      maxLogBytes: 16 * 1024 * 1024,
      maxConcurrent: 3,
      maxPerIdentity: 8,
      queueTimeoutS: 300,
      maxQueued: 256,
    });
    expect(config.sessions).toEqual({ keepAliveMs: 15_000, idleTimeoutS: 60, maxSessions: 5 });
  });

  it('a list from a higher layer replaces the lower list instead of appending', async () => {
    const file = await tempFile('c.yaml', 'allowedHosts: [a.example, b.example]\n');
    expect(loadConfig({ file }).allowedHosts).toEqual(['a.example', 'b.example']);
    expect(loadConfig({ file, env: { MIRRORD_MCP_ALLOWED_HOSTS: 'c.example' } }).allowedHosts).toEqual([
      'c.example',
    ]);
  });

  it('reads a JSON config file', async () => {
    const file = await tempFile(
      'c.json',
      JSON.stringify({ port: 4000, allowedOrigins: ['app.example'], stdio: true, run: { maxTimeoutS: 60 } }),
    );
    const config = loadConfig({ file });
    expect(config.port).toBe(4000);
    expect(config.allowedOrigins).toEqual(['app.example']);
    expect(config.stdio).toBe(true);
    expect(config.run.maxTimeoutS).toBe(60);
    expect(config.run.defaultTimeoutS).toBe(60);
  });

  it('reads a YAML config file with comments and nesting', async () => {
    const file = await tempFile(
      'c.yaml',
      [
        '# server',
        'basePath: /mirrord/',
        'defaultNamespace: team-a',
        'agentNamespace: mirrord-agents',
        'allowedHosts:',
        '  - mcp.example.com',
        'run:',
        '  maxOutputBytes: 2048',
        '',
      ].join('\n'),
    );
    const config = loadConfig({ file });
    expect(config.basePath).toBe('/mirrord');
    expect(config.defaultNamespace).toBe('team-a');
    expect(config.agentNamespace).toBe('mirrord-agents');
    expect(config.allowedHosts).toEqual(['mcp.example.com']);
    expect(config.run.maxOutputBytes).toBe(2048);
  });

  it('takes the file from MIRRORD_MCP_CONFIG when no file is given', async () => {
    const file = await tempFile('c.yaml', 'port: 1234\n');
    expect(loadConfig({ env: { MIRRORD_MCP_CONFIG: file } }).port).toBe(1234);
  });

  it('an explicit file wins over MIRRORD_MCP_CONFIG', async () => {
    const explicit = await tempFile('a.yaml', 'port: 1111\n');
    const fromEnv = await tempFile('b.yaml', 'port: 2222\n');
    expect(loadConfig({ file: explicit, env: { MIRRORD_MCP_CONFIG: fromEnv } }).port).toBe(1111);
  });

  it('an empty or comment-only file gives the defaults', async () => {
    expect(loadConfig({ file: await tempFile('empty.yaml', '') })).toEqual(loadConfig());
    expect(loadConfig({ file: await tempFile('comments.yaml', '# nothing here\n') })).toEqual(loadConfig());
  });
});

describe('environment variables', () => {
  it('splits lists on commas, trims items and drops empty ones', () => {
    const config = loadConfig({
      env: {
        MIRRORD_MCP_ALLOWED_HOSTS: ' a.example , b.example,,',
        MIRRORD_MCP_ALLOWED_ORIGINS: 'https://x.example',
      },
    });
    expect(config.allowedHosts).toEqual(['a.example', 'b.example']);
    expect(config.allowedOrigins).toEqual(['https://x.example']);
  });

  it('an empty list variable gives an empty list, overriding the file', async () => {
    const file = await tempFile('c.yaml', 'allowedHosts: [a.example]\n');
    expect(loadConfig({ file, env: { MIRRORD_MCP_ALLOWED_HOSTS: '' } }).allowedHosts).toEqual([]);
  });

  it.each(['1', 'true', 'TRUE', 'yes', 'On'])('reads %j as true', (raw) => {
    expect(configFromEnv({ MIRRORD_MCP_STDIO: raw })).toEqual({ stdio: true });
    expect(loadConfig({ env: { MIRRORD_MCP_STDIO: raw } }).stdio).toBe(true);
  });

  it.each(['0', 'false', 'False', 'no', 'OFF', ''])('reads %j as false, overriding the file', async (raw) => {
    expect(configFromEnv({ MIRRORD_MCP_STDIO: raw })).toEqual({ stdio: false });
    const file = await tempFile('c.yaml', 'stdio: true\n');
    expect(loadConfig({ file }).stdio).toBe(true);
    expect(loadConfig({ file, env: { MIRRORD_MCP_STDIO: raw } }).stdio).toBe(false);
  });

  it('refuses a boolean it cannot read, naming the variable', () => {
    const error = catchAppError(() => loadConfig({ env: { MIRRORD_MCP_STDIO: 'maybe' } }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('MIRRORD_MCP_STDIO');
    expect(error.message).toContain('"maybe"');
  });

  it('coerces numbers and keeps strings', () => {
    const config = loadConfig({
      env: {
        MIRRORD_MCP_HOST: '0.0.0.0',
        MIRRORD_MCP_AUTH_TOKENS_FILE: '/etc/tokens.yaml',
        MIRRORD_MCP_PORT: '8080',
        MIRRORD_MCP_MIRRORD_BIN: '/opt/mirrord/bin/mirrord',
        MIRRORD_MCP_RUN_HEARTBEAT_MS: '250',
        MIRRORD_MCP_SESSIONS_KEEP_ALIVE_MS: '1000',
      },
    });
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(8080);
    expect(config.mirrordBin).toBe('/opt/mirrord/bin/mirrord');
    expect(config.run.heartbeatMs).toBe(250);
    expect(config.sessions.keepAliveMs).toBe(1000);
  });

  it('configFromEnv reads only MIRRORD_MCP_* leaves into a nested partial config', () => {
    expect(
      configFromEnv({
        MIRRORD_MCP_PORT: '1',
        MIRRORD_MCP_RUN_MAX_CONCURRENT: '2',
        MIRRORD_MCP_SESSIONS_MAX_SESSIONS: '3',
        MIRRORD_MCP_STDIO: 'yes',
        MIRRORD_MCP_ALLOWED_HOSTS: 'h',
        PORT: '9',
        HOME: '/root',
      }),
    ).toEqual({
      port: '1',
      stdio: true,
      allowedHosts: ['h'],
      run: { maxConcurrent: '2' },
      sessions: { maxSessions: '3' },
    });
    expect(configFromEnv({})).toEqual({});
  });
});

/** A value each leaf refuses, given as its environment variable (strings) or as a flag. */
const badValues: Record<string, { env?: string; flag?: unknown }[]> = {
  MIRRORD_MCP_HOST: [{ env: '' }],
  MIRRORD_MCP_PORT: [{ env: '70000' }, { env: '-1' }, { env: 'http' }, { env: '80.5' }],
  MIRRORD_MCP_BASE_PATH: [{ env: 'mirrord' }, { env: '/a b' }, { env: '/a?b' }],
  MIRRORD_MCP_ALLOWED_HOSTS: [{ flag: 'a.example' }],
  MIRRORD_MCP_ALLOWED_ORIGINS: [{ flag: 42 }],
  MIRRORD_MCP_STDIO: [{ flag: 'yes' }, { flag: 1 }],
  MIRRORD_MCP_MIRRORD_BIN: [{ env: '' }],
  MIRRORD_MCP_DEFAULT_NAMESPACE: [{ env: 'Team_A' }, { env: 'a'.repeat(64) }, { env: '-a' }, { env: '' }],
  MIRRORD_MCP_AGENT_NAMESPACE: [{ env: 'UPPER' }, { env: 'a.b' }],
  MIRRORD_MCP_LOG_LEVEL: [{ env: 'verbose' }, { env: 'INFO' }],
  MIRRORD_MCP_MAX_REQUEST_BYTES: [{ env: '1023' }, { env: 'lots' }],
  MIRRORD_MCP_DRAIN_TIMEOUT_S: [{ env: '-1' }, { env: 'soon' }],
  MIRRORD_MCP_SHUTDOWN_TIMEOUT_MS: [{ env: '99' }],
  MIRRORD_MCP_RUN_DEFAULT_TIMEOUT_S: [{ env: '0' }, { env: '1.5' }],
  MIRRORD_MCP_RUN_MAX_TIMEOUT_S: [{ env: '0' }, { env: 'x' }],
  MIRRORD_MCP_RUN_SETUP_TIMEOUT_S: [{ env: '0' }],
  MIRRORD_MCP_RUN_KILL_GRACE_MS: [{ env: '-1' }],
  MIRRORD_MCP_RUN_MAX_OUTPUT_BYTES: [{ env: '1000' }],
  MIRRORD_MCP_RUN_HEARTBEAT_MS: [{ env: '99' }, { env: '10001' }],
  MIRRORD_MCP_RUN_WAIT_S: [{ env: '0' }, { env: '3601' }],
  MIRRORD_MCP_RUN_RETAIN_S: [{ env: '0' }],
  MIRRORD_MCP_RUN_MAX_LOG_BYTES: [{ env: '1000' }],
  MIRRORD_MCP_RUN_MAX_CONCURRENT: [{ env: '0' }],
  MIRRORD_MCP_RUN_MAX_PER_IDENTITY: [{ env: '0' }],
  MIRRORD_MCP_RUN_QUEUE_TIMEOUT_S: [{ env: '0' }, { env: '3601' }],
  MIRRORD_MCP_RUN_MAX_QUEUED: [{ env: '-1' }],
  MIRRORD_MCP_POLICY_STEAL: [{ env: 'sometimes' }],
  MIRRORD_MCP_POLICY_FS_WRITE: [{ env: 'maybe' }],
  MIRRORD_MCP_POLICY_ENV_IMPORT: [{ env: 'some' }],
  MIRRORD_MCP_POLICY_HIDE_POD_SECRETS: [{ env: 'perhaps' }],
  MIRRORD_MCP_POLICY_NAMESPACES: [{ env: '[1]' }, { env: '"text"' }],
  MIRRORD_MCP_KUBE_CONTEXT: [{ env: '' }],
  MIRRORD_MCP_KUBE_REQUEST_TIMEOUT_MS: [{ env: '99' }, { env: '120001' }, { env: 'soon' }],
  MIRRORD_MCP_KUBE_CHECK_TARGETS: [{ env: 'maybe' }, { flag: 'true' }],
  MIRRORD_MCP_KUBE_WATCH: [{ env: 'sometimes' }],
  MIRRORD_MCP_NAMESPACES_ALLOWED: [{ env: 'Team_A' }, { flag: [] }, { flag: ['a/b'] }, { flag: 'staging' }],
  MIRRORD_MCP_SESSIONS_KEEP_ALIVE_MS: [{ env: '99' }, { env: '15001' }],
  MIRRORD_MCP_SESSIONS_IDLE_TIMEOUT_S: [{ env: '0' }],
  MIRRORD_MCP_SESSIONS_MAX_SESSIONS: [{ env: '0' }],
  MIRRORD_MCP_AUTH_TOKENS_FILE: [{ env: 'tokens.yaml' }],
  MIRRORD_MCP_AUTH_TOKENS: [
    { env: 'not json' },
    { env: '[{"identity":"a","token":"short"}]' },
    { env: '[{"identity":"a"}]' },
    { env: `[{"identity":"a","token":"${'t'.repeat(16)}","sha256":"${'a'.repeat(64)}"}]` },
    { env: '[{"identity":"a","sha256":"ABC"}]' },
    { env: `[{"identity":"","token":"${'t'.repeat(16)}"}]` },
    { env: `[{"identity":"a","token":"${'t'.repeat(16)}","namespaces":["Bad_NS"]}]` },
    { env: `[{"identity":"a","token":"${'t'.repeat(16)}","admin":true}]` },
  ],
  MIRRORD_MCP_AUTH_OIDC_ISSUER: [{ flag: 'not a url' }, { flag: 'http://issuer.example' }],
  MIRRORD_MCP_AUTH_OIDC_AUDIENCE: [{ flag: [] }],
  MIRRORD_MCP_AUTH_OIDC_JWKS_URI: [{ flag: 'ftp://x' }],
  MIRRORD_MCP_AUTH_OIDC_IDENTITY_CLAIM: [{ flag: '' }],
  MIRRORD_MCP_AUTH_OIDC_IDENTITY_PREFIX: [{ flag: 7 }],
  MIRRORD_MCP_AUTH_OIDC_GROUPS_CLAIM: [{ flag: '' }],
  MIRRORD_MCP_AUTH_OIDC_NAMESPACES_CLAIM: [{ flag: '' }],
  MIRRORD_MCP_AUTH_OIDC_CLOCK_TOLERANCE_S: [{ flag: 301 }],
  MIRRORD_MCP_AUTH_TOKEN_REVIEW_ENABLED: [{ env: 'sometimes' }],
  MIRRORD_MCP_AUTH_TOKEN_REVIEW_AUDIENCES: [{ flag: [''] }],
  MIRRORD_MCP_AUTH_TOKEN_REVIEW_CACHE_S: [{ env: '3601' }],
  MIRRORD_MCP_AUTH_SUBJECT_ACCESS_REVIEW: [{ env: 'perhaps' }],
  MIRRORD_MCP_AUTH_RESOURCE_URL: [{ env: 'mcp.example.com' }, { env: 'http://mcp.example.com/mcp' }],
  MIRRORD_MCP_AUTH_PUBLIC_METRICS: [{ env: 'maybe' }],
  MIRRORD_MCP_RATE_LIMIT_REQUESTS_PER_MINUTE: [{ env: '-1' }],
  MIRRORD_MCP_RATE_LIMIT_BURST: [{ env: '0' }],
  MIRRORD_MCP_WORKSPACES_DATA_DIR: [{ env: 'relative/dir' }, { flag: 7 }],
  MIRRORD_MCP_WORKSPACES_MAX_FILES: [{ env: '0' }, { env: 'many' }],
  MIRRORD_MCP_WORKSPACES_MAX_BYTES: [{ env: '0' }, { env: '99999999999999' }],
  MIRRORD_MCP_WORKSPACES_MAX_TOTAL_BYTES: [{ env: '0' }],
  MIRRORD_MCP_WORKSPACES_IDLE_TTL_S: [{ env: '0' }],
  MIRRORD_MCP_WORKSPACES_SYNC_IDLE_TIMEOUT_S: [{ env: '0' }],
  MIRRORD_MCP_WORKSPACES_MAX_MANIFEST_BYTES: [{ env: '1023' }],
  MIRRORD_MCP_WORKSPACES_MAX_BATCH_BYTES: [{ env: '1023' }],
  MIRRORD_MCP_WORKSPACES_MAX_BATCH_FILES: [{ env: '0' }],
  MIRRORD_MCP_WORKSPACES_MAX_READ_BYTES: [{ env: '0' }],
};

function flagsFor(path: readonly string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

describe('namespaces', () => {
  it('refuses a default namespace outside namespaces.allowed, and names a bad list item', () => {
    const outside = catchAppError(() =>
      loadConfig({ env: { MIRRORD_MCP_NAMESPACES_ALLOWED: 'staging,team-*' } }),
    );
    expect(outside.message).toContain(
      'defaultNamespace (env MIRRORD_MCP_DEFAULT_NAMESPACE): "default" is not in namespaces.allowed (staging, team-*)',
    );
    const item = catchAppError(() =>
      loadConfig({ env: { MIRRORD_MCP_NAMESPACES_ALLOWED: 'default,Team_A' } }),
    );
    expect(item.message).toContain(
      'namespaces.allowed (env MIRRORD_MCP_NAMESPACES_ALLOWED): item 1: must be a namespace name or a glob',
    );
    expect(
      loadConfig({
        env: { MIRRORD_MCP_NAMESPACES_ALLOWED: 'team-*', MIRRORD_MCP_DEFAULT_NAMESPACE: 'team-a' },
      }).namespaces.allowed,
    ).toEqual(['team-*']);
  });
});

describe('bad values', () => {
  it('the table below covers every config leaf', () => {
    expect(Object.keys(badValues).sort()).toEqual(configKeys.map((key) => key.env).sort());
  });

  const cases = configKeys.flatMap(({ path, env }) =>
    (badValues[env] ?? []).map((bad) => ({ key: path.join('.'), path, env, bad })),
  );

  it.each(cases)(
    '$key = $bad stops with CONFIG_INVALID naming the key and $env',
    ({ key, path, env, bad }) => {
      const sources =
        bad.env !== undefined ? { env: { [env]: bad.env } } : { flags: flagsFor(path, bad.flag) };
      const error = catchAppError(() => loadConfig(sources));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain(`${key} (env ${env})`);
    },
  );

  it('the same bad value from a file is refused too', async () => {
    const file = await tempFile('c.yaml', 'run:\n  heartbeatMs: 5\n');
    const error = catchAppError(() => loadConfig({ file }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('run.heartbeatMs (env MIRRORD_MCP_RUN_HEARTBEAT_MS)');
  });

  it('lists every bad key in one message', () => {
    const error = catchAppError(() =>
      loadConfig({ env: { MIRRORD_MCP_PORT: 'x', MIRRORD_MCP_LOG_LEVEL: 'loud' } }),
    );
    expect(error.message).toContain('port (env MIRRORD_MCP_PORT)');
    expect(error.message).toContain('logLevel (env MIRRORD_MCP_LOG_LEVEL)');
  });

  it('a non-object section is refused, naming the section', () => {
    for (const run of [5, null, 'fast', []]) {
      const error = catchAppError(() => parseConfig({ run }));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(/^\s+run: /m);
    }
  });

  it('a non-object root is refused', () => {
    for (const raw of [null, 42, 'text', []]) {
      const error = catchAppError(() => parseConfig(raw));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain('(root)');
    }
  });
});

describe('unknown keys', () => {
  it('refuses unknown top-level keys, naming each', () => {
    const error = catchAppError(() => loadConfig({ flags: { bogus: 1, prot: 2 } }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('(root): unknown key(s) "bogus", "prot"');
  });

  it('refuses unknown keys inside run and sessions', () => {
    const run = catchAppError(() => parseConfig({ run: { timeoutS: 5 } }));
    expect(run.message).toContain('run: unknown key(s) "timeoutS"');
    const sessions = catchAppError(() => parseConfig({ sessions: { max: 5 } }));
    expect(sessions.message).toContain('sessions: unknown key(s) "max"');
  });

  it('refuses unknown keys in a config file', async () => {
    const file = await tempFile('c.yaml', 'port: 3000\nlisten: 0.0.0.0\n');
    const error = catchAppError(() => loadConfig({ file }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('"listen"');
  });
});

describe('config file errors', () => {
  it('a missing file is CONFIG_INVALID naming the path', () => {
    const path = join(dir, 'missing.yaml');
    const error = catchAppError(() => loadConfig({ file: path }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(`cannot read config file ${path}`);
    expect(error.message).toContain('ENOENT');
  });

  it('a directory is CONFIG_INVALID (unreadable as a file)', () => {
    const error = catchAppError(() => configFromFile(dir));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(`cannot read config file ${dir}`);
  });

  it.each([
    ['unclosed flow sequence', 'a: [unclosed\n'],
    ['unterminated quote', 'host: "127.0.0.1\n'],
    ['duplicate key', 'port: 1\nport: 2\n'],
    ['broken JSON', '{"port": 3000, "host": [1, 2}'],
  ])('invalid syntax (%s) is CONFIG_INVALID naming the path', async (_name, text) => {
    const path = await tempFile('bad.yaml', text);
    const error = catchAppError(() => loadConfig({ file: path }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(`config file ${path} is not valid YAML or JSON`);
  });

  it.each([
    ['a list', '- port\n- host\n'],
    ['a scalar', 'just some text\n'],
    ['a JSON array', '[1, 2]'],
  ])('a file holding %s is CONFIG_INVALID', async (_name, text) => {
    const path = await tempFile('c.yaml', text);
    const error = catchAppError(() => loadConfig({ file: path }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(`config file ${path} must hold a mapping of keys`);
  });
});

describe('the result', () => {
  it('is deeply frozen', () => {
    const config = loadConfig({ env: { MIRRORD_MCP_ALLOWED_HOSTS: 'a.example' } });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.run)).toBe(true);
    expect(Object.isFrozen(config.sessions)).toBe(true);
    expect(Object.isFrozen(config.allowedHosts)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.run as { maxConcurrent: number }).maxConcurrent = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.allowedHosts as string[]).push('evil.example');
    }).toThrow(TypeError);
    expect(config.port).toBe(3000);
    expect(config.allowedHosts).toEqual(['a.example']);
  });

  it('does not share or freeze the caller-supplied flags', () => {
    const flags = { run: { maxConcurrent: 2 }, allowedHosts: ['x.example'] };
    const config = loadConfig({ flags });
    expect(Object.isFrozen(flags)).toBe(false);
    expect(Object.isFrozen(flags.run)).toBe(false);
    flags.run.maxConcurrent = 99;
    flags.allowedHosts.push('y.example');
    expect(config.run.maxConcurrent).toBe(2);
    expect(config.allowedHosts).toEqual(['x.example']);
  });
});

describe('configKeys', () => {
  it('lists every leaf with its MIRRORD_MCP_ variable', () => {
    expect(configKeys.map(({ path, env }) => [path.join('.'), env])).toEqual([
      ['host', 'MIRRORD_MCP_HOST'],
      ['port', 'MIRRORD_MCP_PORT'],
      ['basePath', 'MIRRORD_MCP_BASE_PATH'],
      ['allowedHosts', 'MIRRORD_MCP_ALLOWED_HOSTS'],
      ['allowedOrigins', 'MIRRORD_MCP_ALLOWED_ORIGINS'],
      ['stdio', 'MIRRORD_MCP_STDIO'],
      ['mirrordBin', 'MIRRORD_MCP_MIRRORD_BIN'],
      ['defaultNamespace', 'MIRRORD_MCP_DEFAULT_NAMESPACE'],
      ['agentNamespace', 'MIRRORD_MCP_AGENT_NAMESPACE'],
      ['logLevel', 'MIRRORD_MCP_LOG_LEVEL'],
      ['maxRequestBytes', 'MIRRORD_MCP_MAX_REQUEST_BYTES'],
      ['drainTimeoutS', 'MIRRORD_MCP_DRAIN_TIMEOUT_S'],
      ['shutdownTimeoutMs', 'MIRRORD_MCP_SHUTDOWN_TIMEOUT_MS'],
      ['run.defaultTimeoutS', 'MIRRORD_MCP_RUN_DEFAULT_TIMEOUT_S'],
      ['run.maxTimeoutS', 'MIRRORD_MCP_RUN_MAX_TIMEOUT_S'],
      ['run.setupTimeoutS', 'MIRRORD_MCP_RUN_SETUP_TIMEOUT_S'],
      ['run.killGraceMs', 'MIRRORD_MCP_RUN_KILL_GRACE_MS'],
      ['run.maxOutputBytes', 'MIRRORD_MCP_RUN_MAX_OUTPUT_BYTES'],
      ['run.heartbeatMs', 'MIRRORD_MCP_RUN_HEARTBEAT_MS'],
      ['run.waitS', 'MIRRORD_MCP_RUN_WAIT_S'],
      ['run.retainS', 'MIRRORD_MCP_RUN_RETAIN_S'],
      ['run.maxLogBytes', 'MIRRORD_MCP_RUN_MAX_LOG_BYTES'],
      ['run.maxConcurrent', 'MIRRORD_MCP_RUN_MAX_CONCURRENT'],
      ['run.maxPerIdentity', 'MIRRORD_MCP_RUN_MAX_PER_IDENTITY'],
      ['run.queueTimeoutS', 'MIRRORD_MCP_RUN_QUEUE_TIMEOUT_S'],
      ['run.maxQueued', 'MIRRORD_MCP_RUN_MAX_QUEUED'],
      ['policy.steal', 'MIRRORD_MCP_POLICY_STEAL'],
      ['policy.fsWrite', 'MIRRORD_MCP_POLICY_FS_WRITE'],
      ['policy.envImport', 'MIRRORD_MCP_POLICY_ENV_IMPORT'],
      ['policy.hidePodSecrets', 'MIRRORD_MCP_POLICY_HIDE_POD_SECRETS'],
      ['policy.namespaces', 'MIRRORD_MCP_POLICY_NAMESPACES'],
      ['kube.context', 'MIRRORD_MCP_KUBE_CONTEXT'],
      ['kube.requestTimeoutMs', 'MIRRORD_MCP_KUBE_REQUEST_TIMEOUT_MS'],
      ['kube.checkTargets', 'MIRRORD_MCP_KUBE_CHECK_TARGETS'],
      ['kube.watch', 'MIRRORD_MCP_KUBE_WATCH'],
      ['namespaces.allowed', 'MIRRORD_MCP_NAMESPACES_ALLOWED'],
      ['sessions.keepAliveMs', 'MIRRORD_MCP_SESSIONS_KEEP_ALIVE_MS'],
      ['sessions.idleTimeoutS', 'MIRRORD_MCP_SESSIONS_IDLE_TIMEOUT_S'],
      ['sessions.maxSessions', 'MIRRORD_MCP_SESSIONS_MAX_SESSIONS'],
      ['auth.tokensFile', 'MIRRORD_MCP_AUTH_TOKENS_FILE'],
      ['auth.tokens', 'MIRRORD_MCP_AUTH_TOKENS'],
      ['auth.oidc.issuer', 'MIRRORD_MCP_AUTH_OIDC_ISSUER'],
      ['auth.oidc.audience', 'MIRRORD_MCP_AUTH_OIDC_AUDIENCE'],
      ['auth.oidc.jwksUri', 'MIRRORD_MCP_AUTH_OIDC_JWKS_URI'],
      ['auth.oidc.identityClaim', 'MIRRORD_MCP_AUTH_OIDC_IDENTITY_CLAIM'],
      ['auth.oidc.identityPrefix', 'MIRRORD_MCP_AUTH_OIDC_IDENTITY_PREFIX'],
      ['auth.oidc.groupsClaim', 'MIRRORD_MCP_AUTH_OIDC_GROUPS_CLAIM'],
      ['auth.oidc.namespacesClaim', 'MIRRORD_MCP_AUTH_OIDC_NAMESPACES_CLAIM'],
      ['auth.oidc.clockToleranceS', 'MIRRORD_MCP_AUTH_OIDC_CLOCK_TOLERANCE_S'],
      ['auth.tokenReview.enabled', 'MIRRORD_MCP_AUTH_TOKEN_REVIEW_ENABLED'],
      ['auth.tokenReview.audiences', 'MIRRORD_MCP_AUTH_TOKEN_REVIEW_AUDIENCES'],
      ['auth.tokenReview.cacheS', 'MIRRORD_MCP_AUTH_TOKEN_REVIEW_CACHE_S'],
      ['auth.subjectAccessReview', 'MIRRORD_MCP_AUTH_SUBJECT_ACCESS_REVIEW'],
      ['auth.resourceUrl', 'MIRRORD_MCP_AUTH_RESOURCE_URL'],
      ['auth.publicMetrics', 'MIRRORD_MCP_AUTH_PUBLIC_METRICS'],
      ['rateLimit.requestsPerMinute', 'MIRRORD_MCP_RATE_LIMIT_REQUESTS_PER_MINUTE'],
      ['rateLimit.burst', 'MIRRORD_MCP_RATE_LIMIT_BURST'],
      ['workspaces.dataDir', 'MIRRORD_MCP_WORKSPACES_DATA_DIR'],
      ['workspaces.maxFiles', 'MIRRORD_MCP_WORKSPACES_MAX_FILES'],
      ['workspaces.maxBytes', 'MIRRORD_MCP_WORKSPACES_MAX_BYTES'],
      ['workspaces.maxTotalBytes', 'MIRRORD_MCP_WORKSPACES_MAX_TOTAL_BYTES'],
      ['workspaces.idleTtlS', 'MIRRORD_MCP_WORKSPACES_IDLE_TTL_S'],
      ['workspaces.syncIdleTimeoutS', 'MIRRORD_MCP_WORKSPACES_SYNC_IDLE_TIMEOUT_S'],
      ['workspaces.maxManifestBytes', 'MIRRORD_MCP_WORKSPACES_MAX_MANIFEST_BYTES'],
      ['workspaces.maxBatchBytes', 'MIRRORD_MCP_WORKSPACES_MAX_BATCH_BYTES'],
      ['workspaces.maxBatchFiles', 'MIRRORD_MCP_WORKSPACES_MAX_BATCH_FILES'],
      ['workspaces.maxReadBytes', 'MIRRORD_MCP_WORKSPACES_MAX_READ_BYTES'],
    ]);
  });

  it('every variable starts with the prefix and is unique', () => {
    expect(envPrefix).toBe('MIRRORD_MCP_');
    const names = configKeys.map((key) => key.env);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^MIRRORD_MCP_[A-Z0-9_]+$/);
  });

  it('every listed variable is read by the loader', () => {
    // A value that each leaf accepts, so the round trip shows the variable reached its key.
    const good: Record<string, string> = {
      MIRRORD_MCP_HOST: '0.0.0.0',
      MIRRORD_MCP_PORT: '1',
      MIRRORD_MCP_BASE_PATH: '/p',
      MIRRORD_MCP_ALLOWED_HOSTS: 'h',
      MIRRORD_MCP_ALLOWED_ORIGINS: 'o',
      MIRRORD_MCP_STDIO: 'true',
      MIRRORD_MCP_MIRRORD_BIN: 'm',
      MIRRORD_MCP_DEFAULT_NAMESPACE: 'ns',
      MIRRORD_MCP_AGENT_NAMESPACE: 'agents',
      MIRRORD_MCP_LOG_LEVEL: 'trace',
      MIRRORD_MCP_MAX_REQUEST_BYTES: '2048',
      MIRRORD_MCP_DRAIN_TIMEOUT_S: '3',
      MIRRORD_MCP_SHUTDOWN_TIMEOUT_MS: '200',
      MIRRORD_MCP_RUN_DEFAULT_TIMEOUT_S: '7',
      MIRRORD_MCP_RUN_MAX_TIMEOUT_S: '8',
      MIRRORD_MCP_RUN_SETUP_TIMEOUT_S: '9',
      MIRRORD_MCP_RUN_KILL_GRACE_MS: '10',
      MIRRORD_MCP_RUN_MAX_OUTPUT_BYTES: '4096',
      MIRRORD_MCP_RUN_HEARTBEAT_MS: '300',
      MIRRORD_MCP_RUN_WAIT_S: '5',
      MIRRORD_MCP_RUN_RETAIN_S: '6',
      MIRRORD_MCP_RUN_MAX_LOG_BYTES: '8192',
      MIRRORD_MCP_RUN_MAX_CONCURRENT: '11',
      MIRRORD_MCP_RUN_MAX_PER_IDENTITY: '3',
      MIRRORD_MCP_RUN_QUEUE_TIMEOUT_S: '21',
      MIRRORD_MCP_RUN_MAX_QUEUED: '22',
      MIRRORD_MCP_POLICY_STEAL: 'always',
      MIRRORD_MCP_POLICY_FS_WRITE: 'true',
      MIRRORD_MCP_POLICY_ENV_IMPORT: 'all',
      MIRRORD_MCP_POLICY_HIDE_POD_SECRETS: 'false',
      MIRRORD_MCP_POLICY_NAMESPACES: '{"dev":{"steal":"with-filter"}}',
      MIRRORD_MCP_KUBE_CONTEXT: 'ctx',
      MIRRORD_MCP_KUBE_REQUEST_TIMEOUT_MS: '1500',
      MIRRORD_MCP_KUBE_CHECK_TARGETS: 'false',
      MIRRORD_MCP_KUBE_WATCH: 'off',
      MIRRORD_MCP_NAMESPACES_ALLOWED: 'ns, team-*',
      MIRRORD_MCP_SESSIONS_KEEP_ALIVE_MS: '400',
      MIRRORD_MCP_SESSIONS_IDLE_TIMEOUT_S: '12',
      MIRRORD_MCP_SESSIONS_MAX_SESSIONS: '13',
      MIRRORD_MCP_AUTH_TOKENS_FILE: '/etc/tokens.yaml',
      MIRRORD_MCP_AUTH_TOKENS: `[{"identity":"alice","token":"${'a'.repeat(32)}","namespaces":["dev"]}]`,
      MIRRORD_MCP_AUTH_OIDC_ISSUER: 'https://issuer.example',
      MIRRORD_MCP_AUTH_OIDC_AUDIENCE: 'mcp, other',
      MIRRORD_MCP_AUTH_OIDC_JWKS_URI: 'https://issuer.example/keys',
      MIRRORD_MCP_AUTH_OIDC_IDENTITY_CLAIM: 'email',
      MIRRORD_MCP_AUTH_OIDC_IDENTITY_PREFIX: 'oidc:',
      MIRRORD_MCP_AUTH_OIDC_GROUPS_CLAIM: 'roles',
      MIRRORD_MCP_AUTH_OIDC_NAMESPACES_CLAIM: 'namespaces',
      MIRRORD_MCP_AUTH_OIDC_CLOCK_TOLERANCE_S: '5',
      MIRRORD_MCP_AUTH_TOKEN_REVIEW_ENABLED: 'true',
      MIRRORD_MCP_AUTH_TOKEN_REVIEW_AUDIENCES: 'mirrord-mcp',
      MIRRORD_MCP_AUTH_TOKEN_REVIEW_CACHE_S: '30',
      MIRRORD_MCP_AUTH_SUBJECT_ACCESS_REVIEW: 'yes',
      MIRRORD_MCP_AUTH_RESOURCE_URL: 'https://mcp.example.com/mcp',
      MIRRORD_MCP_AUTH_PUBLIC_METRICS: 'true',
      MIRRORD_MCP_RATE_LIMIT_REQUESTS_PER_MINUTE: '60',
      MIRRORD_MCP_RATE_LIMIT_BURST: '10',
      MIRRORD_MCP_WORKSPACES_DATA_DIR: '/data',
      MIRRORD_MCP_WORKSPACES_MAX_FILES: '14',
      MIRRORD_MCP_WORKSPACES_MAX_BYTES: '15',
      MIRRORD_MCP_WORKSPACES_MAX_TOTAL_BYTES: '16',
      MIRRORD_MCP_WORKSPACES_IDLE_TTL_S: '17',
      MIRRORD_MCP_WORKSPACES_SYNC_IDLE_TIMEOUT_S: '18',
      MIRRORD_MCP_WORKSPACES_MAX_MANIFEST_BYTES: '2049',
      MIRRORD_MCP_WORKSPACES_MAX_BATCH_BYTES: '2050',
      MIRRORD_MCP_WORKSPACES_MAX_BATCH_FILES: '19',
      MIRRORD_MCP_WORKSPACES_MAX_READ_BYTES: '20',
    };
    const config = loadConfig({ env: good }) as unknown as Record<string, unknown>;
    const defaults = loadConfig() as unknown as Record<string, unknown>;
    for (const { path, env } of configKeys) {
      const read = (root: Record<string, unknown>): unknown =>
        path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);
      expect(good[env], env).toBeDefined();
      expect(read(config), env).not.toEqual(read(defaults));
    }
  });
});

describe('isLoopbackHost', () => {
  it.each(['localhost', '127.0.0.1', '127.1.2.3', '127.255.255.255', '::1', '[::1]'])(
    '%s is loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(true);
    },
  );

  it.each([
    '0.0.0.0',
    '::',
    '',
    '10.0.0.1',
    '128.0.0.1',
    '1.127.0.0.1',
    '127.0.0',
    '127.0.0.1.nip.io',
    'localhost.example.com',
    'example.com',
  ])('%j is not loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('strict values (regressions)', () => {
  it.each([
    ['MIRRORD_MCP_PORT', ''],
    ['MIRRORD_MCP_PORT', '0x1F90'],
    ['MIRRORD_MCP_PORT', '1e3'],
    ['MIRRORD_MCP_RUN_KILL_GRACE_MS', ''],
    ['MIRRORD_MCP_RUN_KILL_GRACE_MS', '  '],
  ])('refuses %s=%j instead of reading it as a number', (name, raw) => {
    const error = catchAppError(() => loadConfig({ env: { [name]: raw } }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(name);
  });

  it('refuses a YAML key with no value instead of reading it as 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mms-cfg-'));
    try {
      const file = join(dir, 'c.yaml');
      await writeFile(file, 'run:\n  killGraceMs:\n');
      const error = catchAppError(() => loadConfig({ file }));
      expect(error.message).toMatch(/run\.killGraceMs \(env MIRRORD_MCP_RUN_KILL_GRACE_MS\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the env var of a list whose element is bad', () => {
    const error = catchAppError(() => loadConfig({ flags: { allowedHosts: [''] } }));
    expect(error.message).toMatch(/allowedHosts \(env MIRRORD_MCP_ALLOWED_HOSTS\): item 0: /);
  });

  it('refuses unknown MIRRORD_MCP_* variables (typos)', () => {
    const error = catchAppError(() => loadConfig({ env: { MIRRORD_MCP_PROT: '8080' } }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('MIRRORD_MCP_PROT');
    expect(loadConfig({ env: { MIRRORD_MCP_CONFIG: '' } }).port).toBe(3000);
  });

  it('reports a bad boolean in the common format naming the key', () => {
    const error = catchAppError(() => loadConfig({ env: { MIRRORD_MCP_STDIO: 'maybe' } }));
    expect(error.message).toMatch(/^invalid configuration:\n {2}stdio \(env MIRRORD_MCP_STDIO\): .*"maybe"/);
  });
});

describe('authentication is required off loopback', () => {
  it('refuses a non-loopback host with no authentication, saying why and what to do', () => {
    const error = catchAppError(() => loadConfig({ env: { MIRRORD_MCP_HOST: '0.0.0.0' } }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('host (env MIRRORD_MCP_HOST)');
    expect(error.message).toContain('not a loopback address');
    expect(error.message).toContain('auth.tokensFile');
  });

  it.each([
    ['a tokens file', { MIRRORD_MCP_AUTH_TOKENS_FILE: '/etc/tokens.yaml' }],
    ['inline tokens', { MIRRORD_MCP_AUTH_TOKENS: `[{"identity":"ci","sha256":"${'0'.repeat(64)}"}]` }],
    [
      'OIDC',
      { MIRRORD_MCP_AUTH_OIDC_ISSUER: 'https://issuer.example', MIRRORD_MCP_AUTH_OIDC_AUDIENCE: 'mcp' },
    ],
    ['TokenReview', { MIRRORD_MCP_AUTH_TOKEN_REVIEW_ENABLED: 'true' }],
  ])('accepts a non-loopback host with %s', (_name, env) => {
    expect(loadConfig({ env: { MIRRORD_MCP_HOST: '0.0.0.0', ...env } }).host).toBe('0.0.0.0');
  });

  it('accepts no authentication on loopback and in stdio mode', () => {
    expect(loadConfig({ env: { MIRRORD_MCP_HOST: '127.0.0.2' } }).host).toBe('127.0.0.2');
    expect(loadConfig({ env: { MIRRORD_MCP_HOST: '0.0.0.0', MIRRORD_MCP_STDIO: 'true' } }).stdio).toBe(true);
  });

  it('reads inline tokens from JSON and names a bad token entry', () => {
    const config = loadConfig({
      env: {
        MIRRORD_MCP_AUTH_TOKENS: `[{"identity":"alice","token":"${'x'.repeat(20)}","namespaces":["dev-*"]}]`,
      },
    });
    expect(config.auth.tokens).toEqual([
      { identity: 'alice', token: 'x'.repeat(20), groups: [], namespaces: ['dev-*'] },
    ]);
    const error = catchAppError(() =>
      loadConfig({ env: { MIRRORD_MCP_AUTH_TOKENS: '[{"identity":"a","token":"short"}]' } }),
    );
    expect(error.message).toContain(
      'auth.tokens (env MIRRORD_MCP_AUTH_TOKENS): item 0: token: must be at least 16',
    );
    // The message never repeats the secret itself.
    expect(error.message).not.toContain('"short"');
  });
});
