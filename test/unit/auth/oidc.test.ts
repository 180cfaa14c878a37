import { SignJWT, UnsecuredJWT, generateSecret } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../src/auth/auth-error.js';
import { createOidcVerifier } from '../../../src/auth/oidc.js';
import { startFakeIssuer, type FakeIssuer } from '../../fixtures/oidc-issuer.js';
import { catchRejection } from '../../helpers/app-error.js';

let issuer: FakeIssuer;
beforeAll(async () => {
  issuer = await startFakeIssuer();
});
afterAll(async () => {
  await issuer.close();
});

const config = (over: Record<string, unknown> = {}) => ({
  issuer: issuer.issuer,
  audience: ['mirrord-mcp'],
  identityClaim: 'sub',
  identityPrefix: '',
  groupsClaim: 'groups',
  clockToleranceS: 30,
  ...over,
});

const refusal = (promise: Promise<unknown>): Promise<AuthError> => catchRejection(promise, AuthError);

describe('OIDC verifier', () => {
  it('accepts a valid token, finding the JWKS through discovery', async () => {
    const verifier = createOidcVerifier(config());
    const identity = await verifier.verify(await issuer.sign({ groups: ['dev', 'ops'] }));
    expect(identity).toMatchObject({ subject: 'alice@example.com', groups: ['dev', 'ops'], method: 'oidc' });
    expect(identity.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(identity.namespaces).toBeUndefined();
    expect(issuer.hits.get('/.well-known/openid-configuration')).toBeGreaterThanOrEqual(1);
  });

  it('uses the configured claim, prefix and namespaces claim', async () => {
    const verifier = createOidcVerifier(
      config({
        jwksUri: issuer.jwksUri,
        identityClaim: 'email',
        identityPrefix: 'oidc:',
        namespacesClaim: 'ns',
      }),
    );
    const identity = await verifier.verify(
      await issuer.sign({ email: 'bob@example.com', ns: ['staging', 'team-*', 'Bad NS', 7] }),
    );
    expect(identity.subject).toBe('oidc:bob@example.com');
    expect(identity.namespaces).toEqual(['staging', 'team-*']);
    // The claim is configured but absent: no namespace at all, not every namespace.
    const none = await verifier.verify(await issuer.sign({ email: 'eve@example.com' }));
    expect(none.namespaces).toEqual([]);
  });

  it.each([
    ['expired', () => issuer.sign({}, { expiresInS: -120 }), 'expired'],
    ['for another audience', () => issuer.sign({ aud: 'someone-else' }), 'not meant for this server'],
    ['from another issuer', () => issuer.sign({ iss: 'https://evil.example' }), 'not issued by'],
    ['signed with a key the issuer does not publish', () => issuer.forge(), 'signature does not verify'],
    ['without a subject', () => issuer.sign({ sub: '' }), 'no "sub" claim'],
    ['not yet valid', () => issuer.sign({ nbf: Math.floor(Date.now() / 1000) + 3600 }), 'not valid yet'],
  ])('refuses a token %s', async (_name, make, message) => {
    const verifier = createOidcVerifier(config());
    const error = await refusal(verifier.verify(await make()));
    expect(error.reason).toBe('invalid_token');
    expect(error.transient).toBe(false);
    expect(error.message).toContain(message);
  });

  it('refuses unsigned ("alg: none") and HMAC-signed tokens', async () => {
    const verifier = createOidcVerifier(config());
    const unsigned = new UnsecuredJWT({ sub: 'root' })
      .setIssuer(issuer.issuer)
      .setAudience('mirrord-mcp')
      .setExpirationTime('10m')
      .encode();
    expect((await refusal(verifier.verify(unsigned))).transient).toBe(false);
    const hmac = await new SignJWT({ sub: 'root' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer.issuer)
      .setAudience('mirrord-mcp')
      .setExpirationTime('10m')
      .sign(await generateSecret('HS256'));
    expect((await refusal(verifier.verify(hmac))).message).toContain('algorithm');
  });

  it('refuses a token without an expiry', async () => {
    const verifier = createOidcVerifier(config());
    const error = await refusal(verifier.verify(await issuer.sign({}, { expiresInS: null })));
    expect(error.message).toContain('"exp" claim is missing');
  });

  it('follows a key rotation (a new key id refetches the JWKS)', async () => {
    const verifier = createOidcVerifier(config({ jwksUri: issuer.jwksUri }));
    await verifier.verify(await issuer.sign());
    await issuer.rotate();
    // jose refetches on an unknown key id once its 30 s cooldown after the last fetch is over.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 31_000);
      const identity = await verifier.verify(await issuer.sign());
      expect(identity.subject).toBe('alice@example.com');
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports an unreachable issuer as transient (503, retry), not as a bad token', async () => {
    const down = await startFakeIssuer();
    const token = await down.sign();
    down.failWith(500);
    const verifier = createOidcVerifier(config({ issuer: down.issuer }));
    const error = await refusal(verifier.verify(token));
    expect(error.transient).toBe(true);
    expect(error.message).toContain('answered 500');
    // Within the retry pause the issuer is not asked again.
    const before = down.hits.get('/.well-known/openid-configuration');
    expect((await refusal(verifier.verify(token))).transient).toBe(true);
    expect(down.hits.get('/.well-known/openid-configuration')).toBe(before);
    await down.close();
  });
});
