import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, httpClientKinds, type TestClient } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({
    env: {
      MIRRORD_MCP_RUN_KILL_GRACE_MS: '500',
      MIRRORD_MCP_RUN_HEARTBEAT_MS: '300',
      MIRRORD_MCP_RUN_MAX_OUTPUT_BYTES: '65536',
      // Things that must never reach mirrord or the program.
      MIRRORD_CI_API_KEY: 'ci-key-must-not-leak',
      MIRRORD_RESOLVED_CONFIG: 'nested',
      SERVER_SECRET_TOKEN: 'server-secret-must-not-leak',
    },
  });
});

afterAll(async () => {
  await server.stop();
  await server.cleanup();
});

describe.each(httpClientKinds)('run over %s', (kind) => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connectClient(kind, server.url);
  });
  afterAll(async () => {
    await client.close();
  });

  it('advertises run with an output schema, annotations and instructions', async () => {
    const tools = await client.listTools();
    const run = tools.find((tool) => tool.name === 'run');
    expect(run).toBeDefined();
    expect(run!.inputSchema.required).toEqual(['cmd_str']);
    expect(Object.keys(run!.inputSchema.properties)).toEqual(
      expect.arrayContaining([
        'cmd_str',
        'deployment',
        'mirrord_config',
        'namespace',
        'target',
        'cwd',
        'env',
        'timeout_s',
        'setup_cmd',
      ]),
    );
    expect(run!.outputSchema.properties.phase).toBeDefined();
    expect(run!.annotations).toMatchObject({ readOnlyHint: false, openWorldHint: true });
    expect(client.instructions()).toMatch(/phase/);
  });

  it('runs a command under mirrord exec and returns its exit code and output', async () => {
    const result = await client.callTool('run', {
      cmd_str: 'echo "hello from $POD_NAME"; echo oops >&2; exit 3',
      deployment: 'api',
    });
    expect(result.isError).toBeFalsy();
    const out = result.structuredContent!;
    expect(out).toMatchObject({
      phase: 'program',
      exit_code: 3,
      signal: null,
      timed_out: false,
      cancelled: false,
      stdout: 'hello from api-7d9f-abc12\n',
      stdout_truncated: false,
      target: 'deployment/api',
      namespace: 'default',
    });
    expect(out.stderr).toContain('oops');
    expect(out.session_id).toMatch(/^[0-9a-f-]{16,36}$/);
    expect(out.startup_ms).toBeGreaterThanOrEqual(0);
    // Text-only clients get the output too.
    expect(result.content[0]!.text).toContain('hello from api-7d9f-abc12');
    expect(result.content[0]!.text).toContain('exit code 3');
  });
});

describe('the run tool contract', () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connectClient('v1-sse', server.url);
  });
  afterAll(async () => {
    await client.close();
  });

  const lastCall = async () => (await server.calls()).at(-1)!;

  it('accepts mirrord_config as a JSON string (the original prototype) and writes the server decisions', async () => {
    const result = await client.callTool('run', {
      cmd_str: 'true',
      deployment: 'api',
      namespace: 'staging',
      mirrord_config: '{"feature":{"fs":"read","network":{"incoming":"mirror"}}}',
    });
    expect(result.structuredContent!.exit_code).toBe(0);
    const call = await lastCall();
    expect(call.config).toMatchObject({
      feature: {
        fs: { mode: 'read', not_found: ['^/var/run/secrets/.*', '^/run/secrets/.*'] },
        network: { incoming: 'mirror' },
      },
      operator: false,
      telemetry: false,
      target: { path: 'deployment/api', namespace: 'staging' },
    });
    const dashDash = call.argv.indexOf('--');
    expect(call.argv.slice(dashDash)).toEqual(['--', 'sh', '-c', 'true']);
    expect(call.argv).toEqual(
      expect.arrayContaining([
        'exec',
        '-f',
        '-t',
        'deployment/api',
        '-n',
        'staging',
        '--disable-version-check',
        '--no-telemetry',
      ]),
    );
  });

  it('accepts mirrord_config as an object and any operator-free target', async () => {
    const result = await client.callTool('run', {
      cmd_str: 'echo $POD_NAME',
      target: 'pod/multi-8f8f-qq11/container/app',
      mirrord_config: { feature: { env: { include: 'POD_NAME' } } },
    });
    expect(result.structuredContent!).toMatchObject({
      exit_code: 0,
      target: 'pod/multi-8f8f-qq11/container/app',
    });
    expect((await lastCall()).target).toBe('pod/multi-8f8f-qq11/container/app');
    const targetless = await client.callTool('run', {
      cmd_str: 'echo ${POD_NAME:-none}',
      target: 'targetless',
    });
    expect(targetless.structuredContent!.stdout).toBe('none\n');
    expect((await lastCall()).argv).not.toContain('-t');
  });

  it('writes a private config file and removes it after the run', async () => {
    await client.callTool('run', { cmd_str: 'true', deployment: 'api' });
    const call = await lastCall();
    expect(call.configMode).toBe('600');
    expect(call.configPath.startsWith(server.tmp)).toBe(true);
    expect(existsSync(call.configPath)).toBe(false);
  });

  it('puts env into feature.env.override so the pod cannot mask it', async () => {
    const result = await client.callTool('run', {
      cmd_str: 'echo "$GREETING $EXTRA"',
      deployment: 'api',
      env: { GREETING: 'from-caller', EXTRA: 'x y' },
    });
    expect(result.structuredContent!.stdout).toBe('from-caller x y\n');
    expect((await lastCall()).config.feature.env.override).toEqual({ GREETING: 'from-caller', EXTRA: 'x y' });
  });

  it('gives mirrord a minimal environment without MIRRORD_* controls or server secrets', async () => {
    const result = await client.callTool('run', { cmd_str: 'env', deployment: 'api' });
    expect(result.structuredContent!.exit_code).toBe(0);
    const { env } = await lastCall();
    expect(env.MIRRORD_PROGRESS_MODE).toBe('json');
    expect(
      Object.keys(env).filter((name) => name.startsWith('MIRRORD_') && name !== 'MIRRORD_PROGRESS_MODE'),
    ).toEqual([]);
    expect(JSON.stringify(env)).not.toContain('must-not-leak');
    expect(result.structuredContent!.stdout).not.toContain('must-not-leak');
    expect(env.HOME).toBe(server.home);
  });

  it('writes an audit line at the start and end of each run, without secret values', async () => {
    const result = await client.callTool('run', {
      cmd_str: 'echo audited-run',
      deployment: 'api',
      env: { MY_SECRET: 'super-secret-value-123' },
    });
    expect(result.structuredContent!.exit_code).toBe(0);
    const runId = result.structuredContent!.run_id as string;
    const lines = server
      .logs()
      .split('\n')
      .filter((line) => line.includes(runId))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const started = lines.find((line) => line.msg === 'run started')!;
    const ended = lines.find((line) => line.msg === 'run ended')!;
    expect(started).toMatchObject({
      audit: true,
      caller: 'anonymous',
      namespace: 'default',
      target: 'deployment/api',
      command: 'echo audited-run',
      envNames: ['MY_SECRET'],
      configDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(ended).toMatchObject({ audit: true, exitCode: 0, durationMs: expect.any(Number) });
    expect(server.logs()).not.toContain('super-secret-value-123');
    expect(server.logs()).not.toContain('pod-secret-token');
  });

  it('runs commands with shell and template syntax unchanged', async () => {
    const result = await client.callTool('run', {
      cmd_str: `printf '%s\\n' '{{.Id}}' '{%raw%}' "\${#HOME}"; echo -v`,
      deployment: 'api',
    });
    expect(result.structuredContent!.stdout).toBe(`{{.Id}}\n{%raw%}\n${server.home.length}\n-v\n`);
  });

  it('reports mirrord failing before Ready as an error quoting mirrord', async () => {
    const result = await client.callTool('run', { cmd_str: 'echo never', deployment: 'broken-api' });
    expect(result.isError).toBe(true);
    expect(result.structuredContent!).toMatchObject({
      phase: 'mirrord',
      exit_code: 1,
      startup_ms: null,
      stdout: '',
    });
    expect(result.structuredContent!.mirrord_error).toMatch(/^Error: .*ImagePullBackOff/);
    expect(result.content[0]!.text).toMatch(/mirrord failed before the program started/);
    expect(result.content[0]!.text).toMatch(/ImagePullBackOff/);

    // The deployment exists when the server checks it, but mirrord no longer finds it (a race).
    const missing = await client.callTool('run', { cmd_str: 'true', deployment: 'missing-race' });
    expect(missing.structuredContent!.mirrord_error).toMatch(
      /Failed to find deployment "missing-race" in namespace "default"/,
    );
  });

  it('tells a program exiting 1 from mirrord exiting 1', async () => {
    const result = await client.callTool('run', {
      cmd_str: 'echo "Error: my own"; exit 1',
      deployment: 'api',
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent!).toMatchObject({ phase: 'program', exit_code: 1, mirrord_error: null });
  });

  it('times out: SIGTERM to the process group, and says so', async () => {
    const result = await client.callTool('run', { cmd_str: 'sleep 30', deployment: 'api', timeout_s: 1 });
    expect(result.structuredContent!).toMatchObject({
      phase: 'program',
      timed_out: true,
      signal: 'SIGTERM',
      exit_code: null,
    });
    expect(result.structuredContent!.duration_ms).toBeLessThan(5000);
    expect(result.content[0]!.text).toMatch(/timed out/);
  });

  it('escalates to SIGKILL when the program ignores SIGTERM', async () => {
    const result = await client.callTool('run', {
      cmd_str: "trap '' TERM; sleep 30 & wait; sleep 30",
      deployment: 'api',
      timeout_s: 1,
    });
    expect(result.structuredContent!).toMatchObject({ timed_out: true, signal: 'SIGKILL' });
    expect(result.structuredContent!.duration_ms).toBeLessThan(6000);
  });

  it('times out while mirrord is still starting', async () => {
    const result = await client.callTool('run', {
      cmd_str: 'echo never',
      deployment: 'hang-api',
      timeout_s: 1,
    });
    expect(result.isError).toBe(true);
    expect(result.structuredContent!).toMatchObject({ phase: 'mirrord', timed_out: true });
    const stubborn = await client.callTool('run', {
      cmd_str: 'echo never',
      deployment: 'stubborn-api',
      timeout_s: 1,
    });
    expect(stubborn.structuredContent!).toMatchObject({
      phase: 'mirrord',
      timed_out: true,
      signal: 'SIGKILL',
    });
  });

  it('caps timeout_s at the server maximum and notes it', async () => {
    const result = await client.callTool('run', { cmd_str: 'true', deployment: 'api', timeout_s: 999_999 });
    expect(result.structuredContent!.notes).toEqual([
      expect.stringMatching(/capped to the server maximum of 3600/),
    ]);
  });

  it('keeps head and tail of huge output and counts the rest', async () => {
    const result = await client.callTool('run', {
      cmd_str: "head -c 3000000 /dev/zero | tr '\\0' a; echo; echo THE-END",
      deployment: 'api',
    });
    const out = result.structuredContent!;
    expect(out.stdout_bytes).toBe(3_000_000 + 1 + 8);
    expect(out.stdout_truncated).toBe(true);
    expect(out.stdout.length).toBeLessThan(65536 + 100);
    expect(out.stdout.startsWith('aaaa')).toBe(true);
    expect(out.stdout).toMatch(/\[\.\.\. \d+ bytes omitted \.\.\.\]/);
    expect(out.stdout.endsWith('THE-END\n')).toBe(true);
  });

  it('runs setup_cmd first, without mirrord, in the same directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mms-cwd-'));
    try {
      const before = (await server.calls()).length;
      const result = await client.callTool('run', {
        cmd_str: 'cat built.txt; pwd',
        deployment: 'api',
        cwd: dir,
        setup_cmd: 'echo "built with ${MIRRORD_FAKE_SESSION:-no-mirrord} $MODE" > built.txt; echo setup-done',
        env: { MODE: 'ci' },
      });
      const out = result.structuredContent!;
      expect(out).toMatchObject({
        phase: 'program',
        exit_code: 0,
        stdout: `built with no-mirrord ci\n${dir}\n`,
      });
      expect(out.setup).toMatchObject({ exit_code: 0, stdout: 'setup-done\n', timed_out: false });
      expect((await server.calls()).length).toBe(before + 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops at a failing setup_cmd and never starts mirrord', async () => {
    const before = (await server.calls()).length;
    const result = await client.callTool('run', {
      cmd_str: 'echo never',
      deployment: 'api',
      setup_cmd: 'echo compiling; echo "syntax error" >&2; exit 4',
    });
    expect(result.isError).toBe(true);
    expect(result.structuredContent!).toMatchObject({ phase: 'setup', exit_code: 4, stdout: '' });
    expect(result.structuredContent!.setup).toMatchObject({
      exit_code: 4,
      stdout: 'compiling\n',
      stderr: 'syntax error\n',
    });
    expect(result.content[0]!.text).toMatch(/setup_cmd failed/);
    expect((await server.calls()).length).toBe(before);

    const slow = await client.callTool('run', {
      cmd_str: 'echo never',
      deployment: 'api',
      setup_cmd: 'sleep 30',
      setup_timeout_s: 1,
    });
    expect(slow.structuredContent!).toMatchObject({ phase: 'setup', timed_out: true });
    expect(slow.structuredContent!.setup).toMatchObject({ timed_out: true, signal: 'SIGTERM' });
  });

  it('sends progress notifications with mirrord phases and heartbeats', async () => {
    const messages: string[] = [];
    const result = await client.callTool(
      'run',
      { cmd_str: 'sleep 1; echo done', deployment: 'slow-800' },
      { onprogress: (progress) => messages.push(progress.message ?? '') },
    );
    expect(result.structuredContent!.exit_code).toBe(0);
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/^mirrord: /)]));
    expect(messages.some((message) => /taking over 20s/.test(message))).toBe(true);
    expect(messages.some((message) => /still running/.test(message))).toBe(true);
    expect(result.structuredContent!.startup_ms).toBeGreaterThanOrEqual(700);
  });
});

describe('the server policy on caller configs', () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connectClient('v1-http', server.url);
  });
  afterAll(async () => {
    await client.close();
  });

  it("keeps the pod's secret-looking variables out of the program by default", async () => {
    const result = await client.callTool('run', { cmd_str: 'env', deployment: 'api' });
    const env = result.structuredContent!.stdout as string;
    expect(env).toMatch(/^APP_ENV=production$/m);
    expect(env).toMatch(/^GREETING=hello-from-pod$/m);
    expect(env).not.toMatch(/API_TOKEN|DATABASE_URL|s3cr3t|pod-secret-token/);
    const call = (await server.calls()).at(-1)!;
    expect(call.config.feature.fs.not_found).toEqual(['^/var/run/secrets/.*', '^/run/secrets/.*']);
  });

  it.each([
    [{ feature: { network: { incoming: 'steal' } } }, 'POLICY_DENIED', /steal: never/],
    [{ feature: { fs: 'write' } }, 'POLICY_DENIED', /fsWrite: false/],
    [{ feature: { env: { include: 'API_*' } } }, 'POLICY_DENIED', /could import secrets/],
    [{ feature: { copy_target: { enabled: true } } }, 'FORBIDDEN_CONFIG_KEY', /may not come from a caller/],
  ])('refuses %j', async (mirrordConfig, code, message) => {
    const before = (await server.calls()).length;
    const result = await client.callTool('run', {
      cmd_str: 'true',
      deployment: 'api',
      mirrord_config: mirrordConfig,
    });
    expect(result.isError).toBe(true);
    expect(result.structuredContent!.error).toMatchObject({ code, message: expect.stringMatching(message) });
    expect((await server.calls()).length).toBe(before);
  });
});

describe('bad input is refused before anything is spawned', () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connectClient('v2-http', server.url);
  });
  afterAll(async () => {
    await client.close();
  });

  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['empty cmd_str', { cmd_str: '  ', deployment: 'api' }, 'EMPTY_COMMAND', /cmd_str is empty/],
    ['no target', { cmd_str: 'true' }, 'INVALID_ARGUMENT', /deployment.*target/],
    [
      'invalid JSON config',
      { cmd_str: 'true', deployment: 'api', mirrord_config: '{"feature": {"fs": }' },
      'INVALID_MIRRORD_CONFIG',
      /line 1, column/,
    ],
    [
      'non-object config',
      { cmd_str: 'true', deployment: 'api', mirrord_config: '[1]' },
      'INVALID_MIRRORD_CONFIG',
      /JSON object/,
    ],
    [
      'server-only key',
      { cmd_str: 'true', deployment: 'api', mirrord_config: { agent: { privileged: true } } },
      'FORBIDDEN_CONFIG_KEY',
      /"agent"/,
    ],
    [
      'kubeconfig key',
      { cmd_str: 'true', deployment: 'api', mirrord_config: { kubeconfig: '/etc/other' } },
      'FORBIDDEN_CONFIG_KEY',
      /kubeconfig/,
    ],
    [
      'template in config',
      {
        cmd_str: 'true',
        deployment: 'api',
        mirrord_config: { feature: { env: { override: { A: '{{ get_env(name="HOME") }}' } } } },
      },
      'TEMPLATE_DELIMITER',
      /template delimiter/,
    ],
    [
      'template in env',
      { cmd_str: 'true', deployment: 'api', env: { A: '{% raw %}' } },
      'TEMPLATE_DELIMITER',
      /env\.A/,
    ],
    [
      'reserved env name',
      { cmd_str: 'true', deployment: 'api', env: { MIRRORD_AGENT_IMAGE: 'evil' } },
      'INVALID_ARGUMENT',
      /reserved/,
    ],
    ['operator-only kind', { cmd_str: 'true', target: 'statefulset/db' }, 'OPERATOR_REQUIRED', /operator/],
    ['unknown kind', { cmd_str: 'true', target: 'node/worker-1' }, 'INVALID_TARGET', /unknown target kind/],
    [
      'bad namespace',
      { cmd_str: 'true', deployment: 'api', namespace: 'Prod_1' },
      'INVALID_NAMESPACE',
      /Prod_1/,
    ],
    ['relative cwd', { cmd_str: 'true', deployment: 'api', cwd: 'src' }, 'INVALID_CWD', /absolute/],
    [
      'missing cwd',
      { cmd_str: 'true', deployment: 'api', cwd: '/nonexistent/dir' },
      'INVALID_CWD',
      /existing directory/,
    ],
  ];

  it.each(cases)('%s', async (_name, args, code, message) => {
    const before = (await server.calls()).length;
    const result = await client.callTool('run', args);
    expect(result.isError).toBe(true);
    expect(result.structuredContent?.error).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(result.content[0]!.text).toContain(code);
    expect((await server.calls()).length).toBe(before);
  });

  it('missing cmd_str is a validation error naming it', async () => {
    const result = await client.callTool('run', { deployment: 'api' });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toMatch(/cmd_str is required/);
  });
});

describe('the target is checked against the cluster before mirrord starts', () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connectClient('v2-http', server.url);
  });
  afterAll(async () => {
    await client.close();
  });

  const refusals: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'a deployment that does not exist, with a near miss',
      { cmd_str: 'true', deployment: 'user-svc', namespace: 'staging' },
      'TARGET_NOT_FOUND',
      /no deployment 'user-svc' in 'staging'; did you mean 'user-service'\?/,
    ],
    [
      'a pod that does not exist',
      { cmd_str: 'true', target: 'pod/multi-8f8f-qq12' },
      'TARGET_NOT_FOUND',
      /no pod 'multi-8f8f-qq12' in 'default'; did you mean 'multi-8f8f-qq11'\?/,
    ],
    [
      'a deployment asked for as a rollout',
      { cmd_str: 'true', target: 'rollout/api' },
      'TARGET_NOT_FOUND',
      /there is a deployment 'api': use target 'deployment\/api'/,
    ],
    [
      'a deployment without a ready pod',
      { cmd_str: 'true', deployment: 'checkout', namespace: 'staging' },
      'TARGET_NOT_READY',
      /deployment 'checkout' in 'staging' has no ready pod \(0\/2 ready; checkout-\S+: CrashLoopBackOff/,
    ],
    [
      'a pod that is not running',
      { cmd_str: 'true', target: 'pod/pending-pod' },
      'TARGET_NOT_READY',
      /pod 'pending-pod' in 'default' is not running \(ContainerCreating\)/,
    ],
    [
      'a container that does not exist',
      { cmd_str: 'true', target: 'deployment/user-service/container/ap', namespace: 'staging' },
      'CONTAINER_NOT_FOUND',
      /has no container 'ap' \(containers: app, istio-proxy\); did you mean 'app'\?/,
    ],
  ];

  it.each(refusals)('refuses %s, and spawns nothing', async (_name, args, code, message) => {
    const before = (await server.calls()).length;
    const result = await client.callTool('run', args);
    expect(result.isError).toBe(true);
    expect(result.structuredContent?.error).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(result.content[0]!.text).toContain(code);
    expect((await server.calls()).length).toBe(before);
  });

  it('pins and names the container of a multi-container pod when none is given', async () => {
    const result = await client.callTool('run', { cmd_str: 'true', target: 'pod/multi-8f8f-qq11' });
    expect(result.structuredContent!).toMatchObject({
      exit_code: 0,
      target: 'pod/multi-8f8f-qq11/container/app',
      container: 'app',
    });
    expect(result.structuredContent!.notes.join('\n')).toMatch(
      /2 containers \(app, sidecar\); mirrord targets 'app'/,
    );
    expect((await server.calls()).at(-1)!.target).toBe('pod/multi-8f8f-qq11/container/app');
    // Mesh sidecars are skipped, as mirrord does.
    const mesh = await client.callTool('run', {
      cmd_str: 'true',
      deployment: 'user-service',
      namespace: 'staging',
    });
    expect(mesh.structuredContent!).toMatchObject({
      target: 'deployment/user-service/container/app',
      container: 'app',
    });
  });

  it('notices a deployment created after start-up (the watch cache follows the cluster)', async () => {
    const { deploymentWithPods } = await import('../fixtures/kube/objects.js');
    server.kube!.apply(...deploymentWithPods('fresh-svc', 'default'));
    const result = await waitForResult(() =>
      client.callTool('run', { cmd_str: 'echo hi', deployment: 'fresh-svc' }),
    );
    expect(result.structuredContent!).toMatchObject({ exit_code: 0, stdout: 'hi\n', container: 'app' });
    server.kube!.remove('deployments', 'default', 'fresh-svc');
    const gone = await waitForResult(
      () => client.callTool('run', { cmd_str: 'echo hi', deployment: 'fresh-svc' }),
      (r) => r.isError === true,
    );
    expect(gone.structuredContent!.error.code).toBe('TARGET_NOT_FOUND');
  });
});

/** Calls until the result satisfies `done` (watch events take a moment to arrive). */
async function waitForResult(
  call: () => Promise<any>,
  done: (result: any) => boolean = (result) => result.isError !== true,
): Promise<any> {
  const deadline = Date.now() + 5000;
  let result = await call();
  while (!done(result) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    result = await call();
  }
  return result;
}
