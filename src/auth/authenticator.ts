import { decodeJwt } from 'jose';
import { authConfigured, type AuthConfig } from '../config.js';
import type { KubeClient } from '../kube/client.js';
import type { Logger } from '../logger.js';
import { AuthError } from './auth-error.js';
import { bearerToken, looksLikeJwt } from './bearer.js';
import { anonymousIdentity, type Identity } from './identity.js';
import { createOidcVerifier, type OidcVerifier } from './oidc.js';
import { createStaticTokens, type StaticTokens } from './static-tokens.js';
import { createTokenReviewer, type TokenReviewer } from './token-review.js';

export interface Authenticator {
  /** False when no method is configured (loopback only): every caller is anonymous. */
  readonly enabled: boolean;
  /** True when OAuth-style (OIDC) tokens are accepted: the server then serves RFC 9728 metadata. */
  readonly oauth: boolean;
  /** The OIDC issuer, for the metadata's `authorization_servers`. */
  readonly issuer: string | undefined;
  /** Who sent this `Authorization` header; throws AuthError when nobody we know did. */
  authenticate(authorization: string | undefined | null, signal?: AbortSignal): Promise<Identity>;
}

/**
 * Every configured way of proving identity, tried cheapest first: a static token (a map lookup),
 * then a JWT from the OIDC issuer (routed by its unverified `iss`, then fully verified), then the
 * cluster's TokenReview for any other token.
 */
export function createAuthenticator(
  auth: AuthConfig,
  deps: { kube: KubeClient; logger: Logger },
): Authenticator {
  const enabled = authConfigured(auth);
  const staticTokens: StaticTokens | undefined =
    auth.tokensFile !== undefined || auth.tokens.length > 0
      ? createStaticTokens({ tokens: auth.tokens, tokensFile: auth.tokensFile, logger: deps.logger })
      : undefined;
  const oidc: OidcVerifier | undefined = auth.oidc ? createOidcVerifier(auth.oidc) : undefined;
  const reviewer: TokenReviewer | undefined = auth.tokenReview.enabled
    ? createTokenReviewer({
        kube: deps.kube,
        audiences: auth.tokenReview.audiences,
        cacheS: auth.tokenReview.cacheS,
      })
    : undefined;

  return {
    enabled,
    oauth: oidc !== undefined,
    issuer: oidc?.issuer,
    async authenticate(authorization, signal) {
      if (!enabled) return anonymousIdentity;
      if (!authorization)
        throw new AuthError('invalid_request', 'authentication required: send Authorization: Bearer TOKEN');
      const token = bearerToken(authorization);
      if (!token) throw new AuthError('invalid_request', 'the Authorization header must be "Bearer TOKEN"');
      const known = staticTokens?.verify(token);
      if (known) return known;
      if (oidc && looksLikeJwt(token) && issuerOf(token) === oidc.issuer) return oidc.verify(token);
      if (reviewer) return reviewer.verify(token, signal);
      if (oidc && looksLikeJwt(token)) {
        throw new AuthError('invalid_token', `the token was not issued by ${oidc.issuer}`);
      }
      throw new AuthError('invalid_token', 'the token is not valid for this server');
    },
  };
}

function issuerOf(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}
