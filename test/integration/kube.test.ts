import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKubeApi, type FakeKubeApi } from '../fixtures/kube/fake-api-server.js';
import { deploymentWithPods, namespace } from '../fixtures/kube/objects.js';
import { seedCluster } from '../fixtures/kube/seed.js';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { cliPath, fixturesBin } from '../helpers/paths.js';
import { waitFor } from '../helpers/processes.js';
import { startServer, type TestServer } from '../helpers/server.js';

const listRequests = (api: FakeKubeApi): number =>
  api.requests.filter((r) => r.verb === 'list' || r.verb === 'get').length;

describe('list_targets', () => {
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    server = await startServer();
    client = await connectClient('v2-http', server.url);
  });
  afterAll(async () => {
    await client.close();
    await server.stop();
    await server.cleanup();
  });

  it('is advertised read-only with an output schema', async () => {
    const tool = (await client.listTools()).find((t) => t.name === 'list_targets');
    expect(tool).toBeDefined();
    expect(tool!.annotations).toMatchObject({
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
    });
    expect(Object.keys(tool!.inputSchema.properties)).toEqual(
      expect.arrayContaining(['namespace', 'all_namespaces', 'kind', 'name', 'limit']),
    );
    expect(tool!.outputSchema.properties.targets).toBeDefined();
  });

  it('lists deployments, statefulsets and pods with replicas, containers, ports and exact targets', async () => {
    const result = await client.callTool('list_targets', { namespace: 'staging' });
    expect(result.isError).toBeFalsy();
    const out = result.structuredContent!;
    expect(out.namespaces).toEqual(['staging']);
    const byTarget = Object.fromEntries(out.targets.map((t: any) => [t.target, t]));
    expect(byTarget['deployment/user-service']).toMatchObject({
      kind: 'deployment',
      namespace: 'staging',
      ready: 2,
      desired: 2,
      requires_operator: false,
      containers: [
        {
          name: 'app',
          ports: [
            { port: 8080, protocol: 'TCP', name: 'http-8080' },
            { port: 9090, protocol: 'TCP', name: 'http-9090' },
          ],
        },
        { name: 'istio-proxy', ports: [{ port: 15090, protocol: 'TCP', name: 'http-15090' }] },
      ],
    });
    expect(byTarget['deployment/checkout']).toMatchObject({
      ready: 0,
      desired: 2,
      not_ready: expect.stringMatching(/CrashLoopBackOff/),
    });
    expect(byTarget['statefulset/postgres']).toMatchObject({ requires_operator: true, ready: 1, desired: 1 });
    expect(byTarget['pod/postgres-0']).toMatchObject({
      kind: 'pod',
      phase: 'Running',
      ready: 1,
      owner: 'statefulset/postgres',
    });
    const pod = out.targets.find((t: any) => t.kind === 'pod' && t.owner === 'deployment/user-service');
    expect(pod).toMatchObject({ ready: 1, desired: 1, target: expect.stringMatching(/^pod\/user-service-/) });
    // Workloads come before pods; the text names targets as `run` takes them.
    expect(out.targets[0].kind).toBe('deployment');
    expect(result.content[0]!.text).toMatch(/^\d+ targets in staging:/);
    expect(result.content[0]!.text).toContain(
      'deployment/user-service  2/2 ready  [app(8080,9090) istio-proxy(15090)]',
    );
    expect(result.content[0]!.text).toMatch(/statefulset\/postgres .*needs operator/);
  });

  it('has no rollouts and no error when the Argo Rollouts CRD is absent', async () => {
    const result = await client.callTool('list_targets', { kind: 'rollout' });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent!).toMatchObject({ total: 0, targets: [], errors: [], warnings: [] });
  });

  it('filters by kind and name substring, and pages', async () => {
    const deployments = await client.callTool('list_targets', { kind: 'deployment', name: 'API' });
    expect(deployments.structuredContent!.targets.map((t: any) => t.target)).toEqual([
      'deployment/api',
      'deployment/broken-api',
      'deployment/hang-api',
      'deployment/stubborn-api',
    ]);
    const page = await client.callTool('list_targets', {
      kind: 'deployment',
      name: 'api',
      limit: 2,
      offset: 1,
    });
    expect(page.structuredContent!).toMatchObject({ total: 4, returned: 2, truncated: true });
    expect(page.structuredContent!.targets.map((t: any) => t.name)).toEqual(['broken-api', 'hang-api']);
    expect(page.content[0]!.text).toMatch(/showing 2; narrow with kind\/name or page with offset/);
  });

  it('lists every allowed namespace', async () => {
    const result = await client.callTool('list_targets', {
      all_namespaces: true,
      name: 'user-service',
      kind: 'deployment',
    });
    expect(result.structuredContent!.namespaces).toEqual([
      'default',
      'kube-system',
      'mirrord-agents',
      'restricted-ns',
      'staging',
    ]);
    expect(result.structuredContent!.targets.map((t: any) => `${t.namespace}/${t.target}`)).toEqual([
      'staging/deployment/user-service',
    ]);
    expect(result.content[0]!.text).toContain('deployment/user-service -n staging');
  });

  it('answers from the watch cache without an API round trip, and follows changes', async () => {
    await waitFor(
      async () => (await client.callTool('list_targets', {})).structuredContent!.from_cache,
      (fromCache) => fromCache === true,
    );
    const before = listRequests(server.kube!);
    const cached = await client.callTool('list_targets', {});
    expect(cached.structuredContent!.from_cache).toBe(true);
    expect(listRequests(server.kube!)).toBe(before);

    server.kube!.apply(...deploymentWithPods('orders', 'default', { replicas: 3 }));
    const seen = await waitFor(
      async () =>
        (await client.callTool('list_targets', { name: 'orders', kind: 'deployment' })).structuredContent!
          .targets,
      (targets) => targets.length === 1,
    );
    expect(seen[0]).toMatchObject({ target: 'deployment/orders', ready: 3, desired: 3 });
    server.kube!.remove('deployments', 'default', 'orders');
    const gone = await waitFor(
      async () =>
        (await client.callTool('list_targets', { name: 'orders', kind: 'deployment' })).structuredContent!
          .targets,
      (targets) => targets.length === 0,
    );
    expect(gone).toEqual([]);
  });

  it('recovers when a watch breaks', async () => {
    await waitFor(
      () => server.kube!.openWatches(),
      (n) => n > 0,
    );
    expect(server.kube!.breakWatches()).toBeGreaterThan(0);
    server.kube!.apply(...deploymentWithPods('after-break', 'default'));
    const seen = await waitFor(
      async () =>
        (await client.callTool('list_targets', { name: 'after-break', kind: 'deployment' }))
          .structuredContent!,
      (out) => out.targets.length === 1 && out.from_cache === true,
    );
    expect(seen.targets[0].target).toBe('deployment/after-break');
    expect(server.kube!.openWatches()).toBeGreaterThan(0);
  });
});

describe('watch caches where watching is forbidden, and rollouts when the CRD exists', () => {
  let api: FakeKubeApi;
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    api = await startFakeKubeApi();
    seedCluster(api);
    api.setRolloutsCrd(true);
    api.deny({ verb: 'watch', resource: 'deployments', namespace: 'default' });
    server = await startServer({ kube: api });
    client = await connectClient('v1-http', server.url);
  });
  afterAll(async () => {
    await client.close();
    await server.stop();
    await server.cleanup();
    await api.close();
  });

  it('falls back to direct reads and still answers', async () => {
    await waitFor(
      async () => (await client.callTool('server_info', { namespace: 'default' })).structuredContent!.caches,
      (caches) => caches.some((c: any) => c.namespace === 'default' && c.kinds.deployments === 'forbidden'),
    );
    const before = listRequests(api);
    const result = await client.callTool('list_targets', { kind: 'deployment', name: 'api' });
    expect(result.structuredContent!).toMatchObject({ from_cache: false, total: 4 });
    expect(listRequests(api)).toBeGreaterThan(before);
  });

  it('lists rollouts and lets run target them', async () => {
    const result = await client.callTool('list_targets', { kind: 'rollout' });
    expect(result.structuredContent!.targets).toEqual([
      expect.objectContaining({ target: 'rollout/canary', ready: 1, desired: 1, requires_operator: false }),
    ]);
    const run = await client.callTool('run', { cmd_str: 'echo rolled', target: 'rollout/canary' });
    expect(run.structuredContent!).toMatchObject({
      exit_code: 0,
      stdout: 'rolled\n',
      target: 'rollout/canary',
    });
  });
});

describe('namespace policy', () => {
  let api: FakeKubeApi;
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    api = await startFakeKubeApi();
    seedCluster(api);
    api.apply(namespace('team-a'), ...deploymentWithPods('svc', 'team-a'));
    server = await startServer({
      kube: api,
      env: { MIRRORD_MCP_NAMESPACES_ALLOWED: 'staging,team-*', MIRRORD_MCP_DEFAULT_NAMESPACE: 'staging' },
    });
    client = await connectClient('v2-sse', server.url);
  });
  afterAll(async () => {
    await client.close();
    await server.stop();
    await server.cleanup();
    await api.close();
  });

  it.each([
    ['run', { cmd_str: 'true', deployment: 'api', namespace: 'default' }],
    ['run', { cmd_str: 'true', target: 'targetless', namespace: 'kube-system' }],
    ['list_targets', { namespace: 'default' }],
    ['server_info', { namespace: 'kube-system' }],
  ] as const)('%s refuses a namespace outside namespaces.allowed', async (tool, args) => {
    const before = (await server.calls()).length;
    const result = await client.callTool(tool, args);
    expect(result.isError).toBe(true);
    expect(result.structuredContent!.error).toMatchObject({
      code: 'NAMESPACE_NOT_ALLOWED',
      message: expect.stringMatching(
        /namespace "(default|kube-system)" is not allowed on this server \(allowed: staging, team-\*\)/,
      ),
    });
    expect((await server.calls()).length).toBe(before);
  });

  it('uses the default namespace and lists only allowed namespaces', async () => {
    const run = await client.callTool('run', { cmd_str: 'true', deployment: 'api' });
    expect(run.structuredContent!).toMatchObject({ exit_code: 0, namespace: 'staging' });
    const all = await client.callTool('list_targets', { all_namespaces: true, kind: 'deployment' });
    expect(all.structuredContent!.namespaces).toEqual(['staging', 'team-a']);
    expect(all.structuredContent!.targets.map((t: any) => t.namespace)).not.toContain('default');
    const glob = await client.callTool('run', { cmd_str: 'true', deployment: 'svc', namespace: 'team-a' });
    expect(glob.structuredContent!).toMatchObject({ exit_code: 0, namespace: 'team-a' });
  });

  it('refuses to start when the default namespace is not allowed', () => {
    const bad = spawnSync(process.execPath, [cliPath], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, MIRRORD_MCP_NAMESPACES_ALLOWED: 'staging' },
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /defaultNamespace \(env MIRRORD_MCP_DEFAULT_NAMESPACE\): "default" is not in namespaces.allowed/,
    );
  });
});

describe('Kubernetes failures become clear errors', () => {
  let api: FakeKubeApi;
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    api = await startFakeKubeApi();
    seedCluster(api);
    // No watch caches: every call reads the API, so every fault shows.
    server = await startServer({
      kube: api,
      env: { MIRRORD_MCP_KUBE_WATCH: 'false', MIRRORD_MCP_KUBE_REQUEST_TIMEOUT_MS: '700' },
    });
    client = await connectClient('v2-http', server.url);
  });
  afterEach(() => {
    api.clearFaults();
    api.token = 'fake-token-0123456789';
  });
  afterAll(async () => {
    await client.close();
    await server.stop();
    await server.cleanup();
    await api.close();
  });

  it('403 names the verb, resource and namespace', async () => {
    api.deny({ verb: 'list', resource: 'deployments', namespace: 'staging' });
    const before = (await server.calls()).length;
    for (const [tool, args] of [
      ['list_targets', { namespace: 'staging' }],
      ['run', { cmd_str: 'true', deployment: 'api', namespace: 'staging' }],
    ] as const) {
      const result = await client.callTool(tool, args);
      expect(result.isError).toBe(true);
      expect(result.structuredContent!.error).toMatchObject({
        code: 'KUBE_FORBIDDEN',
        message: expect.stringMatching(
          /may not list deployments\.apps in namespace "staging" \(403 Forbidden\): deployments\.apps is forbidden: User "system:serviceaccount:mirrord:mirrord-mcp-server"/,
        ),
        details: { verb: 'list', resource: 'deployments', group: 'apps', namespace: 'staging', status: 403 },
      });
      expect(result.content[0]!.text).toMatch(/doctor/);
    }
    expect((await server.calls()).length).toBe(before);
  });

  it('401 says the credentials were refused', async () => {
    api.token = 'rotated';
    const result = await client.callTool('run', { cmd_str: 'true', deployment: 'api' });
    expect(result.structuredContent!.error).toMatchObject({
      code: 'KUBE_UNAUTHORIZED',
      message: expect.stringMatching(/rejected the server's credentials \(401\)/),
    });
  });

  it('500 is an API error naming the request', async () => {
    api.fault({ verb: 'list', resource: 'pods', namespace: 'default', status: 500 });
    const result = await client.callTool('list_targets', {});
    expect(result.structuredContent!.error).toMatchObject({
      code: 'KUBE_API_ERROR',
      message: expect.stringMatching(
        /answered 500 to list pods in namespace "default": Internal error occurred/,
      ),
    });
  });

  it('a missing rollouts API (404) is no error, but a refused one is a warning', async () => {
    api.deny({ verb: 'list', resource: 'rollouts', namespace: 'default' });
    const result = await client.callTool('list_targets', { kind: 'deployment', name: 'web' });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent!.warnings).toEqual([
      expect.stringMatching(/rollouts are not shown: .*may not list rollouts\.argoproj\.io/),
    ]);
  });

  it('a slow API times out after kube.requestTimeoutMs and blocks no other call', async () => {
    api.fault({ verb: 'list', resource: 'pods', namespace: 'staging', delayMs: 5000 });
    const started = Date.now();
    const slow = client
      .callTool('list_targets', { namespace: 'staging' })
      .then((r) => ({ r, ms: Date.now() - started }));
    const fast = client
      .callTool('list_targets', { namespace: 'default', kind: 'deployment', name: 'web' })
      .then((r) => ({ r, ms: Date.now() - started }));
    const fastRun = client
      .callTool('run', { cmd_str: 'echo ok', target: 'targetless' })
      .then((r) => ({ r, ms: Date.now() - started }));
    const [s, f, run] = await Promise.all([slow, fast, fastRun]);
    expect(f.r.structuredContent!.targets.map((t: any) => t.target)).toEqual(['deployment/web']);
    expect(run.r.structuredContent!.stdout).toBe('ok\n');
    expect(f.ms).toBeLessThan(s.ms);
    expect(run.ms).toBeLessThan(s.ms);
    expect(s.r.structuredContent!.error).toMatchObject({
      code: 'KUBE_TIMEOUT',
      message: expect.stringMatching(
        /did not answer within 700 ms \(kube.requestTimeoutMs\) to list pods in namespace "staging"/,
      ),
    });
    expect(s.ms).toBeLessThan(3000);
  });

  it('a hanging API is cut by the timeout too, and run spawns nothing', async () => {
    api.fault({ verb: 'list', resource: 'deployments', hang: true });
    const before = (await server.calls()).length;
    const result = await client.callTool('run', { cmd_str: 'true', deployment: 'api' });
    expect(result.structuredContent!.error.code).toBe('KUBE_TIMEOUT');
    expect((await server.calls()).length).toBe(before);
  });
});

describe('without a reachable cluster', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers) {
      await server.stop();
      await server.cleanup();
    }
  });

  it('run fails fast with KUBE_UNREACHABLE when the API server is down', async () => {
    const api = await startFakeKubeApi();
    const dead = await startServer({ kube: api });
    servers.push(dead);
    await api.close();
    const client = await connectClient('v2-http', dead.url);
    const started = Date.now();
    const result = await client.callTool('run', { cmd_str: 'true', deployment: 'api' });
    expect(result.structuredContent!.error).toMatchObject({
      code: 'KUBE_UNREACHABLE',
      message: expect.stringMatching(
        /cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
      ),
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await dead.calls()).toEqual([]);
    const list = await client.callTool('list_targets', {});
    expect(list.structuredContent!.error.code).toBe('KUBE_UNREACHABLE');
    await client.close();
  });

  it('with no kubeconfig, run says how to configure one, or runs unchecked when told to', async () => {
    const none = await startServer({ kube: false });
    servers.push(none);
    const client = await connectClient('v1-sse', none.url);
    const refused = await client.callTool('run', { cmd_str: 'true', deployment: 'api' });
    expect(refused.structuredContent!.error).toMatchObject({
      code: 'KUBE_NOT_CONFIGURED',
      message: expect.stringMatching(/no Kubernetes cluster is configured: no kubeconfig/),
      hint: expect.stringMatching(/kube.checkTargets/),
    });
    const targetless = await client.callTool('run', { cmd_str: 'echo fine', target: 'targetless' });
    expect(targetless.structuredContent!.stdout).toBe('fine\n');
    await client.close();

    const unchecked = await startServer({ kube: false, env: { MIRRORD_MCP_KUBE_CHECK_TARGETS: 'false' } });
    servers.push(unchecked);
    const other = await connectClient('v2-http', unchecked.url);
    const ran = await other.callTool('run', { cmd_str: 'echo ran', deployment: 'api' });
    expect(ran.structuredContent!).toMatchObject({ exit_code: 0, stdout: 'ran\n', container: null });
    expect(ran.structuredContent!.notes).toEqual([
      expect.stringMatching(/not checked against the cluster \(kube.checkTargets is off\)/),
    ]);
    await other.close();
  });
});

describe('server_info and doctor', () => {
  let api: FakeKubeApi;
  let dir: string;
  let kubeconfig: string;
  beforeAll(async () => {
    api = await startFakeKubeApi();
    seedCluster(api);
    dir = await mkdtemp(join(tmpdir(), 'mms-doctor-'));
    kubeconfig = await api.writeKubeconfig(join(dir, 'kubeconfig'));
  });
  afterEach(() => api.clearFaults());
  afterAll(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  // Asynchronous on purpose: the fake API answers from this very process.
  const doctor = (
    env: Record<string, string>,
    args: string[] = [],
  ): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [cliPath, 'doctor', ...args], {
        env: { PATH: `${fixturesBin}:${process.env.PATH ?? ''}`, HOME: dir, KUBECONFIG: kubeconfig, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  it('doctor passes on a healthy setup and reports mirrord, the cluster and the identity', async () => {
    const result = await doctor({
      MIRRORD_MCP_AGENT_NAMESPACE: 'mirrord-agents',
      MIRRORD_MCP_NAMESPACES_ALLOWED: 'default,staging',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\[ok {2}\] mirrord: mirrord 3\.250\.0 at \//);
    expect(result.stdout).toMatch(
      /\[ok {2}\] cluster: http:\/\/127\.0\.0\.1:\d+ \(Kubernetes v1\.31\.4, context fake\)/,
    );
    expect(result.stdout).toMatch(/\[ok {2}\] identity: system:serviceaccount:mirrord:mirrord-mcp-server/);
    expect(result.stdout).toMatch(/\[ok {2}\] pods\/portforward in mirrord-agents: create: granted/);
    expect(result.stdout).toMatch(/\[ok {2}\] deployments\.apps in staging: get, list: granted/);
    expect(result.stdout).toMatch(/\[ok {2}\] PodSecurity of mirrord-agents: enforce=privileged/);
    expect(result.stdout).toMatch(/All required checks passed\.$/m);
  });

  it('doctor fails with a concrete fix per missing permission and for a restricted agent namespace', async () => {
    api.deny({ verb: 'create', resource: 'pods/portforward', namespace: 'restricted-ns' });
    api.deny({ verb: 'list', resource: 'deployments', namespace: 'staging' });
    const result = await doctor({
      MIRRORD_MCP_AGENT_NAMESPACE: 'restricted-ns',
      MIRRORD_MCP_NAMESPACES_ALLOWED: 'default,staging',
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/\[FAIL\] pods\/portforward in restricted-ns: missing create/);
    expect(result.stdout).toContain(
      'fix: kubectl -n restricted-ns create role mirrord-mcp-pods-portforward --verb=create --resource=pods/portforward && kubectl -n restricted-ns create rolebinding mirrord-mcp-pods-portforward --role=mirrord-mcp-pods-portforward --serviceaccount=mirrord:mirrord-mcp-server',
    );
    expect(result.stdout).toMatch(
      /\[FAIL\] deployments\.apps in staging: missing list: mirrord resolves deployment targets/,
    );
    expect(result.stdout).toContain(
      'fix: kubectl -n staging create role mirrord-mcp-deployments --verb=list --resource=deployments.apps',
    );
    expect(result.stdout).toMatch(/\[FAIL\] PodSecurity of restricted-ns: enforce=restricted/);
    expect(result.stdout).toContain(
      'fix: kubectl label namespace restricted-ns pod-security.kubernetes.io/enforce=privileged --overwrite',
    );
    expect(result.stdout).toMatch(/3 checks failed/);
  });

  it('doctor checks what the configured authentication needs of the cluster', async () => {
    api.deny({ verb: 'create', resource: 'subjectaccessreviews' });
    const result = await doctor({
      MIRRORD_MCP_AGENT_NAMESPACE: 'mirrord-agents',
      MIRRORD_MCP_NAMESPACES_ALLOWED: 'default',
      MIRRORD_MCP_AUTH_TOKEN_REVIEW_ENABLED: 'true',
      MIRRORD_MCP_AUTH_SUBJECT_ACCESS_REVIEW: 'true',
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(
      /\[ok {2}\] tokenreviews\.authentication\.k8s\.io \(cluster-wide\): create: granted/,
    );
    expect(result.stdout).toMatch(
      /\[FAIL\] subjectaccessreviews\.authorization\.k8s\.io \(cluster-wide\): missing create: auth\.subjectAccessReview/,
    );
    expect(result.stdout).toContain(
      'fix: kubectl create clusterrole mirrord-mcp-subjectaccessreviews --verb=create --resource=subjectaccessreviews.authorization.k8s.io',
    );
    // Without those options, doctor does not ask about them.
    const plain = await doctor({
      MIRRORD_MCP_AGENT_NAMESPACE: 'mirrord-agents',
      MIRRORD_MCP_NAMESPACES_ALLOWED: 'default',
    });
    expect(plain.stdout).not.toMatch(/tokenreviews|subjectaccessreviews/);
  });

  it('doctor fails when mirrord or the cluster is missing, and prints JSON on request', async () => {
    const result = await doctor(
      { KUBECONFIG: join(dir, 'nope'), MIRRORD_MCP_MIRRORD_BIN: '/opt/none/mirrord' },
      ['--json'],
    );
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.checks).toEqual([
      expect.objectContaining({
        level: 'fail',
        check: 'mirrord',
        detail: expect.stringContaining('/opt/none/mirrord'),
      }),
      expect.objectContaining({ level: 'fail', check: 'cluster', fix: expect.stringMatching(/KUBECONFIG/) }),
    ]);
    const usage = await doctor({}, ['--bogus']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/bogus/);
    const help = await doctor({}, ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mirrord-mcp-server doctor /);
    expect(help.stderr).toBe('');
  });

  it('server_info reports the same over MCP, with the caches and the policy', async () => {
    const server = await startServer({ kube: api, env: { MIRRORD_MCP_AGENT_NAMESPACE: 'mirrord-agents' } });
    try {
      const client = await connectClient('v2-http-modern', server.url);
      const tool = (await client.listTools()).find((t) => t.name === 'server_info');
      expect(tool!.annotations).toMatchObject({ readOnlyHint: true });
      api.deny({ verb: 'create', resource: 'jobs', namespace: 'mirrord-agents' });
      const result = await client.callTool('server_info', { namespace: 'staging' });
      expect(result.isError).toBeFalsy();
      const out = result.structuredContent!;
      expect(out).toMatchObject({
        ok: false,
        mirrord: { version: '3.250.0' },
        cluster: { source: 'kubeconfig', reachable: true, version: 'v1.31.4', context: 'fake' },
        identity: { username: 'system:serviceaccount:mirrord:mirrord-mcp-server' },
        default_namespace: 'default',
        allowed_namespaces: ['*'],
        namespaces: ['staging'],
        agent_namespace: 'mirrord-agents',
      });
      expect(out.checks).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            level: 'fail',
            check: 'jobs.batch in mirrord-agents',
            fix: expect.stringContaining(
              'kubectl -n mirrord-agents create role mirrord-mcp-jobs --verb=create --resource=jobs.batch',
            ),
          }),
        ]),
      );
      expect(out.caches).toEqual(expect.arrayContaining([expect.objectContaining({ namespace: 'default' })]));
      expect(result.content[0]!.text).toMatch(/\[FAIL\] jobs\.batch in mirrord-agents: missing create/);
      await client.close();
    } finally {
      await server.stop();
      await server.cleanup();
    }
  });
});
