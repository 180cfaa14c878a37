import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/auth/auth-error.js';
import { createAuthenticator } from '../../../src/auth/authenticator.js';
import { createTokenReviewer } from '../../../src/auth/token-review.js';
import { parseConfig } from '../../../src/config.js';
import { createKubeClient, type KubeClient } from '../../../src/kube/client.js';
import { createLogger } from '../../../src/logger.js';
import { startFakeKubeApi, type FakeKubeApi } from '../../fixtures/kube/fake-api-server.js';
import { startFakeIssuer, type FakeIssuer } from '../../fixtures/oidc-issuer.js';
import { catchRejection } from '../../helpers/app-error.js';

const logger = createLogger('silent');
const staticToken = 'static-token-0123456789abcdef';
const saToken = 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2ln';

let api: FakeKubeApi;
let kube: KubeClient;
let issuer: FakeIssuer;
let dir: string;

beforeAll(async () => {
  api = await startFakeKubeApi();
  issuer = await startFakeIssuer();
  dir = await mkdtemp(join(tmpdir(), 'mms-authn-'));
  kube = createKubeClient({
    env: { KUBECONFIG: await api.writeKubeconfig(join(dir, 'kubeconfig')) },
    requestTimeoutMs: 2000,
  });
  api.acceptToken(saToken, {
    username: 'system:serviceaccount:dev:ci',
    groups: ['system:serviceaccounts'],
  });
  api.acceptToken('audience-bound-token-0123456789', { username: 'carol', audiences: ['other'] });
});
afterAll(async () => {
  await api.close();
  await issuer.close();
  await rm(dir, { recursive: true, force: true });
});

const authConfig = (auth: Record<string, unknown>) => parseConfig({ auth }).auth;

const refused = (promise: Promise<unknown>): Promise<AuthError> => catchRejection(promise, AuthError);

describe('authenticator', () => {
  it('is off without a method: everyone is anonymous', async () => {
    const authn = createAuthenticator(authConfig({}), { kube, logger });
    expect(authn.enabled).toBe(false);
    expect((await authn.authenticate(undefined)).subject).toBe('anonymous');
  });

  it('needs a bearer header once a method is configured', async () => {
    const authn = createAuthenticator(authConfig({ tokens: [{ identity: 'ci', token: staticToken }] }), {
      kube,
      logger,
    });
    expect((await refused(authn.authenticate(undefined))).reason).toBe('invalid_request');
    expect((await refused(authn.authenticate(`Basic ${staticToken}`))).reason).toBe('invalid_request');
    expect((await refused(authn.authenticate('Bearer nope-0123456789abcdef'))).reason).toBe('invalid_token');
    expect((await authn.authenticate(`Bearer ${staticToken}`)).subject).toBe('ci');
    expect(authn.oauth).toBe(false);
  });

  it('routes JWTs from the issuer to OIDC and other tokens to TokenReview', async () => {
    const authn = createAuthenticator(
      authConfig({
        tokens: [{ identity: 'ci', token: staticToken }],
        oidc: { issuer: issuer.issuer, audience: ['mirrord-mcp'] },
        tokenReview: { enabled: true },
      }),
      { kube, logger },
    );
    expect(authn.oauth).toBe(true);
    expect(authn.issuer).toBe(issuer.issuer);
    expect(await authn.authenticate(`Bearer ${await issuer.sign()}`)).toMatchObject({
      subject: 'alice@example.com',
      method: 'oidc',
    });
    expect(await authn.authenticate(`Bearer ${saToken}`)).toMatchObject({
      subject: 'system:serviceaccount:dev:ci',
      groups: ['system:serviceaccounts'],
      method: 'token-review',
    });
    // A token claiming our issuer but forged never falls through to another method.
    expect((await refused(authn.authenticate(`Bearer ${await issuer.forge()}`))).message).toContain(
      'signature',
    );
  });

  it('without TokenReview, a JWT from another issuer is refused naming the expected issuer', async () => {
    const authn = createAuthenticator(
      authConfig({ oidc: { issuer: issuer.issuer, audience: ['mirrord-mcp'] } }),
      {
        kube,
        logger,
      },
    );
    const error = await refused(
      authn.authenticate(`Bearer ${await issuer.sign({ iss: 'https://evil.example' })}`),
    );
    expect(error.message).toContain(`not issued by ${issuer.issuer}`);
  });
});

describe('TokenReview', () => {
  it('accepts what the cluster accepts, caches it, and refuses the rest', async () => {
    const reviewer = createTokenReviewer({ kube, audiences: [], cacheS: 60 });
    const reviews = () => api.requests.filter((r) => r.path.endsWith('/tokenreviews')).length;
    const before = reviews();
    expect((await reviewer.verify(saToken)).subject).toBe('system:serviceaccount:dev:ci');
    expect((await reviewer.verify(saToken)).subject).toBe('system:serviceaccount:dev:ci');
    expect(reviews()).toBe(before + 1);
    const error = await refused(reviewer.verify('not-a-cluster-token-0123'));
    expect(error.message).toContain('does not accept this token');
    // The rejection is remembered briefly too.
    await refused(reviewer.verify('not-a-cluster-token-0123'));
    expect(reviews()).toBe(before + 2);
  });

  it('checks the audiences', async () => {
    const reviewer = createTokenReviewer({ kube, audiences: ['mirrord-mcp'], cacheS: 0 });
    const error = await refused(reviewer.verify('audience-bound-token-0123456789'));
    expect(error.transient).toBe(false);
  });

  it('reports an API failure as transient', async () => {
    const reviewer = createTokenReviewer({ kube, audiences: [], cacheS: 0 });
    const heal = api.fault({ resource: 'tokenreviews', status: 500 });
    try {
      const error = await refused(reviewer.verify('some-other-token-0123456789'));
      expect(error.transient).toBe(true);
    } finally {
      heal();
    }
  });
});
