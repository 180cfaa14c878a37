import { describe, expect, it } from 'vitest';
import { bearerToken, looksLikeJwt, tokenDigest } from '../../../src/auth/bearer.js';
import { anonymousIdentity, identityOf, toAuthInfo } from '../../../src/auth/identity.js';

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
  ])('reads %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([
    undefined,
    null,
    '',
    'Basic YWxhZGRpbjpvcGVuc2VzYW1l',
    'Bearer',
    'Bearer a b',
    'Bearerabc',
    'Token abc',
  ])('refuses %j', (header) => {
    expect(bearerToken(header)).toBeUndefined();
  });
});

describe('tokens', () => {
  it('digests as lowercase hex sha256', () => {
    expect(tokenDigest('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('recognizes the JWT shape only', () => {
    expect(looksLikeJwt('aGVhZA.cGF5bG9hZA.c2ln')).toBe(true);
    expect(looksLikeJwt('plain-token-0123456789')).toBe(false);
    expect(looksLikeJwt('a.b')).toBe(false);
    expect(looksLikeJwt('a.b.c.d')).toBe(false);
  });
});

describe('identity <-> AuthInfo', () => {
  it('round-trips through the SDK AuthInfo without carrying the token', () => {
    const identity = {
      subject: 'alice',
      groups: ['dev'],
      namespaces: ['staging'],
      method: 'oidc' as const,
      expiresAt: 1_900_000_000,
    };
    const info = toAuthInfo(identity);
    expect(info.token).toBe('');
    expect(info.clientId).toBe('alice');
    expect(identityOf(info)).toEqual({
      subject: 'alice',
      groups: ['dev'],
      namespaces: ['staging'],
      method: 'oidc',
    });
  });

  it('is anonymous without AuthInfo', () => {
    expect(identityOf(undefined)).toBe(anonymousIdentity);
    expect(identityOf({ extra: {} })).toBe(anonymousIdentity);
  });
});
