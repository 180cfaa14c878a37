import { ExpiringCache } from '../expiring-cache.js';
import type { KubeClient } from '../kube/client.js';
import { AuthError } from './auth-error.js';
import { tokenDigest } from './bearer.js';
import type { Identity } from './identity.js';

/** Rejections are remembered briefly, so a client retrying a bad token does not hammer the API server. */
const rejectionCacheMs = 5000;
const maxCached = 10_000;

export interface TokenReviewer {
  verify(token: string, signal?: AbortSignal): Promise<Identity>;
}

/**
 * Accepts tokens the cluster accepts (TokenReview), e.g. a developer's service-account token. The
 * answer is cached by the token's digest for `cacheS` (never past the token's own expiry as the API
 * reports it); the server's service account needs `create tokenreviews`.
 */
export function createTokenReviewer(options: {
  kube: KubeClient;
  audiences: readonly string[];
  cacheS: number;
}): TokenReviewer {
  const { kube, audiences } = options;
  const cache = new ExpiringCache<{ identity?: Identity; reason?: string }>(maxCached);

  return {
    async verify(token, signal) {
      const digest = tokenDigest(token);
      const cached = cache.get(digest);
      if (cached) {
        if (cached.identity) return cached.identity;
        throw new AuthError('invalid_token', cached.reason ?? 'the cluster does not accept this token');
      }
      let review;
      try {
        review = await kube.request(
          { verb: 'create', resource: 'tokenreviews', group: 'authentication.k8s.io' },
          (requestOptions) =>
            kube.authentication.createTokenReview(
              {
                body: {
                  apiVersion: 'authentication.k8s.io/v1',
                  kind: 'TokenReview',
                  spec: { token, ...(audiences.length > 0 ? { audiences: [...audiences] } : {}) },
                },
              },
              requestOptions,
            ),
          signal,
        );
      } catch (error) {
        throw new AuthError(
          'invalid_token',
          `the cluster could not review the token: ${(error as Error).message}`,
          true,
        );
      }
      const status = review.status;
      const user = status?.user;
      if (status?.authenticated !== true || !user?.username) {
        const reason = 'the cluster does not accept this token (TokenReview)';
        cache.set(digest, { reason }, rejectionCacheMs);
        throw new AuthError('invalid_token', reason);
      }
      if (
        audiences.length > 0 &&
        !(status.audiences ?? []).some((audience) => audiences.includes(audience))
      ) {
        const reason = `the token is not meant for this server (audience must be one of ${audiences.join(', ')})`;
        cache.set(digest, { reason }, rejectionCacheMs);
        throw new AuthError('invalid_token', reason);
      }
      const identity: Identity = {
        subject: user.username,
        groups: user.groups ?? [],
        method: 'token-review',
      };
      cache.set(digest, { identity }, options.cacheS * 1000);
      return identity;
    },
  };
}
