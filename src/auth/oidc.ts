import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import * as z from 'zod';
import { namespaceGlob, type AuthConfig } from '../config.js';
import { AuthError } from './auth-error.js';
import type { Identity } from './identity.js';

type OidcConfig = NonNullable<AuthConfig['oidc']>;

/** Asymmetric algorithms only: an HMAC key would have to be shared with us, and "none" is no signature. */
const algorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const fetchTimeoutMs = 5000;
/** After a failed discovery, how long to wait before asking the issuer again. */
const discoveryRetryMs = 5000;

export interface OidcVerifier {
  readonly issuer: string;
  verify(token: string): Promise<Identity>;
}

/**
 * Verifies OIDC/JWT bearer tokens: signature against the issuer's JWKS (from `jwksUri`, else from
 * the issuer's discovery document), `iss`, `aud` (one of the configured audiences) and `exp`/`nbf`
 * with the configured clock tolerance. Keys are cached by jose and refetched when a token names a
 * key id it does not know (key rotation).
 */
export function createOidcVerifier(config: OidcConfig): OidcVerifier {
  let keys: JWTVerifyGetKey | undefined = config.jwksUri
    ? createRemoteJWKSet(new URL(config.jwksUri), { timeoutDuration: fetchTimeoutMs })
    : undefined;
  let discovering: Promise<JWTVerifyGetKey> | undefined;
  let failedAt = 0;

  const keySet = async (): Promise<JWTVerifyGetKey> => {
    if (keys) return keys;
    if (Date.now() - failedAt < discoveryRetryMs) {
      throw new AuthError(
        'invalid_token',
        `the issuer ${config.issuer} could not be reached; retry shortly`,
        true,
      );
    }
    discovering ??= discoverJwks(config.issuer)
      .then((uri) => {
        keys = createRemoteJWKSet(new URL(uri), { timeoutDuration: fetchTimeoutMs });
        return keys;
      })
      .catch((error: unknown) => {
        failedAt = Date.now();
        throw error;
      })
      .finally(() => {
        discovering = undefined;
      });
    return discovering;
  };

  return {
    issuer: config.issuer,
    async verify(token) {
      const getKey = await keySet();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: config.issuer,
          audience: [...config.audience],
          clockTolerance: config.clockToleranceS,
          algorithms,
          requiredClaims: ['exp'],
        }));
      } catch (error) {
        throw describeJoseError(error, config);
      }
      return identityFromClaims(payload, config);
    },
  };
}

async function discoverJwks(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(fetchTimeoutMs), redirect: 'error' });
  } catch (error) {
    throw new AuthError(
      'invalid_token',
      `cannot reach the OIDC issuer's discovery document ${url}: ${(error as Error).message}`,
      true,
    );
  }
  if (!response.ok) {
    throw new AuthError(
      'invalid_token',
      `the OIDC issuer's discovery document ${url} answered ${response.status}`,
      true,
    );
  }
  const document = z
    .object({ issuer: z.string(), jwks_uri: z.url() })
    .safeParse(await response.json().catch(() => undefined));
  if (!document.success) {
    throw new AuthError(
      'invalid_token',
      `the OIDC discovery document ${url} has no valid issuer and jwks_uri`,
      true,
    );
  }
  if (document.data.issuer !== issuer) {
    throw new AuthError(
      'invalid_token',
      `the OIDC discovery document names issuer ${document.data.issuer}, not ${issuer}; fix auth.oidc.issuer`,
      true,
    );
  }
  return document.data.jwks_uri;
}

function describeJoseError(error: unknown, config: OidcConfig): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired)
    return new AuthError('invalid_token', 'the token has expired; get a new one');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') {
      return new AuthError(
        'invalid_token',
        `the token is not meant for this server (audience must be one of ${config.audience.join(', ')})`,
      );
    }
    if (error.claim === 'iss')
      return new AuthError('invalid_token', `the token was not issued by ${config.issuer}`);
    if (error.claim === 'nbf') return new AuthError('invalid_token', 'the token is not valid yet');
    return new AuthError('invalid_token', `the token's "${error.claim}" claim is ${error.reason}`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new AuthError(
      'invalid_token',
      'the token is signed with an algorithm this server does not accept',
    );
  if (error instanceof errors.JWKSNoMatchingKey)
    return new AuthError('invalid_token', "the token's signing key is not one of the issuer's keys");
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new AuthError('invalid_token', "the token's signature does not verify");
  if (error instanceof errors.JWKSTimeout)
    return new AuthError('invalid_token', `the issuer's keys could not be fetched in time; retry`, true);
  if (error instanceof errors.JOSEError) return new AuthError('invalid_token', 'the token is malformed');
  // A failed fetch of the key set (network) is ours, not the caller's.
  return new AuthError(
    'invalid_token',
    `the issuer's keys could not be fetched: ${(error as Error).message}`,
    true,
  );
}

function identityFromClaims(payload: JWTPayload, config: OidcConfig): Identity {
  const name = payload[config.identityClaim];
  if (typeof name !== 'string' || name === '') {
    throw new AuthError(
      'invalid_token',
      `the token has no "${config.identityClaim}" claim naming the caller`,
    );
  }
  const groupsClaim = payload[config.groupsClaim];
  const groups =
    typeof groupsClaim === 'string'
      ? [groupsClaim]
      : Array.isArray(groupsClaim)
        ? groupsClaim.filter((group): group is string => typeof group === 'string')
        : [];
  let namespaces: string[] | undefined;
  if (config.namespacesClaim) {
    const claim = payload[config.namespacesClaim];
    const list = typeof claim === 'string' ? [claim] : Array.isArray(claim) ? claim : [];
    // A token without the claim may use no namespace: the operator asked for the claim to decide.
    namespaces = list.filter((item): item is string => namespaceGlob.safeParse(item).success);
  }
  return {
    subject: `${config.identityPrefix}${name}`,
    groups,
    namespaces,
    method: 'oidc',
    ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp } : {}),
  };
}
