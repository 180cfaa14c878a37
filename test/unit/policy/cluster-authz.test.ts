import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { createKubeClient, type KubeClient } from '../../../src/kube/client.js';
import { createClusterAuthorizer } from '../../../src/policy/cluster-authz.js';
import { startFakeKubeApi, type FakeKubeApi } from '../../fixtures/kube/fake-api-server.js';
import { catchRejection } from '../../helpers/app-error.js';

let api: FakeKubeApi;
let kube: KubeClient;
let dir: string;
beforeAll(async () => {
  api = await startFakeKubeApi();
  dir = await mkdtemp(join(tmpdir(), 'mms-sar-'));
  kube = createKubeClient({
    env: { KUBECONFIG: await api.writeKubeconfig(join(dir, 'kubeconfig')) },
    requestTimeoutMs: 2000,
  });
  api.grant({ user: 'alice', verb: 'get', resource: 'pods', namespace: 'staging' });
  api.grant({ user: 'alice', verb: 'create', resource: 'pods/portforward', namespace: 'staging' });
  api.grant({ user: 'bob', verb: 'get', resource: 'pods', namespace: 'staging' });
  api.grant({ group: 'sre', verb: '*', resource: '*', namespace: '*' });
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

const who = (subject: string, groups: string[] = []) => ({ subject, groups, method: 'oidc' as const });

const denial = (promise: Promise<unknown>): Promise<AppError> => catchRejection(promise, AppError);

describe('cluster authorizer (SubjectAccessReview)', () => {
  it('allows a caller the cluster lets get pods and create pods/portforward', async () => {
    const authz = createClusterAuthorizer(kube);
    await authz.check(who('alice'), 'staging');
    await authz.check(who('anyone', ['sre']), 'prod');
  });

  it('names the missing permission and the namespace', async () => {
    const authz = createClusterAuthorizer(kube);
    const bob = await denial(authz.check(who('bob'), 'staging'));
    expect(bob.code).toBe('ACCESS_DENIED');
    expect(bob.message).toBe(
      `the cluster's RBAC does not let bob create pods/portforward in namespace "staging"`,
    );
    const elsewhere = await denial(authz.check(who('alice'), 'prod'));
    expect(elsewhere.message).toContain('get pods in namespace "prod"');
  });

  it('caches answers per identity and namespace', async () => {
    const authz = createClusterAuthorizer(kube);
    const reviews = () => api.requests.filter((r) => r.path.endsWith('/subjectaccessreviews')).length;
    await authz.check(who('alice'), 'staging');
    const after = reviews();
    await authz.check(who('alice'), 'staging');
    expect(reviews()).toBe(after);
    // Other groups are another question.
    await authz.check(who('alice', ['other']), 'staging');
    expect(reviews()).toBe(after + 2);
  });

  it('fails closed when the API cannot answer', async () => {
    const authz = createClusterAuthorizer(kube);
    const heal = api.fault({ resource: 'subjectaccessreviews', status: 500 });
    try {
      const error = await denial(authz.check(who('alice'), 'staging'));
      expect(error.code).toBe('KUBE_API_ERROR');
    } finally {
      heal();
    }
  });
});
