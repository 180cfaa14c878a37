import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { createDiscovery } from '../../../src/kube/discovery.js';
import { createLogger } from '../../../src/logger.js';
import { createNamespacePolicy } from '../../../src/policy/namespaces.js';
import { startFakeKubeApi, type FakeKubeApi } from '../../fixtures/kube/fake-api-server.js';
import { deploymentWithPods } from '../../fixtures/kube/objects.js';
import { seedCluster } from '../../fixtures/kube/seed.js';
import { waitFor } from '../../helpers/processes.js';

let api: FakeKubeApi;
let dir: string;
let kubeconfig: string;
beforeAll(async () => {
  api = await startFakeKubeApi();
  seedCluster(api);
  dir = await mkdtemp(join(tmpdir(), 'mms-kube-unit-'));
  kubeconfig = await api.writeKubeconfig(join(dir, 'config'), { namespace: 'staging' });
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('the kube client', () => {
  it('reads the kubeconfig: server, context and its namespace', () => {
    const kube = createKubeClient({ env: { KUBECONFIG: kubeconfig }, requestTimeoutMs: 1000 });
    expect(kube).toMatchObject({
      source: 'kubeconfig',
      server: api.url,
      context: 'fake',
      contextNamespace: 'staging',
    });
  });

  it('a 404 from a real read is KUBE_NOT_FOUND naming the object', async () => {
    const kube = createKubeClient({ env: { KUBECONFIG: kubeconfig }, requestTimeoutMs: 1000 });
    const error = await failure(
      kube.request(
        { verb: 'get', resource: 'deployments', group: 'apps', namespace: 'staging', name: 'nope' },
        (o) => kube.apps.readNamespacedDeployment({ name: 'nope', namespace: 'staging' }, o),
      ),
    );
    expect(error.code).toBe('KUBE_NOT_FOUND');
    expect(error.message).toMatch(
      /not found: get deployments\.apps "nope" in namespace "staging": deployments\.apps "nope" not found/,
    );
  });

  it('the caller can abort a request', async () => {
    const kube = createKubeClient({ env: { KUBECONFIG: kubeconfig }, requestTimeoutMs: 10_000 });
    const stop = api.fault({ verb: 'list', resource: 'pods', hang: true });
    try {
      const abort = new AbortController();
      const pending = failure(
        kube.request(
          { verb: 'list', resource: 'pods', namespace: 'x' },
          (o) => kube.core.listNamespacedPod({ namespace: 'x' }, o),
          abort.signal,
        ),
      );
      abort.abort();
      const error = await pending;
      expect(error.code).toBe('KUBE_API_ERROR');
      expect(error.message).toMatch(/cancelled before the API answered \(list pods in namespace "x"\)/);
    } finally {
      stop();
      api.clearFaults();
    }
  });

  it('without a kubeconfig, or with an unknown context, every request is KUBE_NOT_CONFIGURED', async () => {
    const none = createKubeClient({ env: { HOME: dir }, requestTimeoutMs: 1000 });
    expect(none.source).toBe('none');
    const error = await failure(
      none.request({ verb: 'get', resource: 'version' }, (o) => none.versionApi.getCode({}, o)),
    );
    expect(error.code).toBe('KUBE_NOT_CONFIGURED');
    expect(error.message).toMatch(/KUBECONFIG is unset and ~\/\.kube\/config does not exist/);
    const context = createKubeClient({
      env: { KUBECONFIG: kubeconfig },
      context: 'prod',
      requestTimeoutMs: 1000,
    });
    expect(context.problem).toBe('kube.context "prod" is not in the kubeconfig (contexts: fake)');
    const broken = join(dir, 'broken');
    await writeFile(broken, 'clusters: [unclosed');
    expect(createKubeClient({ env: { KUBECONFIG: broken }, requestTimeoutMs: 1000 }).problem).toMatch(
      /cannot read kubeconfig/,
    );
  });
});

describe('discovery caches', () => {
  it('sync, follow events, mark a missing CRD absent and a forbidden watch forbidden', async () => {
    const kube = createKubeClient({ env: { KUBECONFIG: kubeconfig }, requestTimeoutMs: 1000 });
    const undo = api.deny({ verb: 'watch', resource: 'statefulsets', namespace: 'staging' });
    const discovery = createDiscovery({
      kube,
      policy: createNamespacePolicy({ defaultNamespace: 'staging', namespaces: { allowed: ['staging'] } }),
      logger: createLogger('silent'),
      watch: true,
    });
    try {
      const status = await waitFor(
        () => discovery.cacheStatus()[0]?.kinds,
        (kinds) =>
          kinds?.deployments === 'synced' &&
          kinds.pods === 'synced' &&
          kinds.rollouts === 'absent' &&
          kinds.statefulsets === 'forbidden',
      );
      expect(status).toEqual({
        deployments: 'synced',
        pods: 'synced',
        rollouts: 'absent',
        statefulsets: 'forbidden',
      });
      const first = await discovery.targets('staging');
      expect(first.fromCache).toBe(false); // statefulsets are read directly
      expect(first.targets.some((t) => t.target === 'statefulset/postgres')).toBe(true);
      api.apply(...deploymentWithPods('late', 'staging'));
      const later = await waitFor(
        async () => (await discovery.targets('staging')).targets,
        (targets) => targets.some((t) => t.target === 'deployment/late'),
      );
      expect(later.find((t) => t.target === 'deployment/late')).toMatchObject({ ready: 1, desired: 1 });
    } finally {
      undo();
      api.remove('deployments', 'staging', 'late');
      await discovery.close();
    }
    expect(discovery.cacheStatus()).toEqual([]);
  });
});
