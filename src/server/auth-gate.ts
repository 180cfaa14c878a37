import type { Context, Hono, MiddlewareHandler } from 'hono';
import { AuthError } from '../auth/auth-error.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { RateLimiter } from '../auth/rate-limit.js';
import type { Logger } from '../logger.js';
import type { AppEnv } from './app-env.js';
import { jsonRpcCodes, jsonRpcError } from './json-rpc.js';

const realm = 'mirrord-mcp-server';

export interface AuthGateDeps {
  basePath: string;
  authenticator: Authenticator;
  /** Requests per identity. */
  limiter: RateLimiter;
  /** Failed authentications per client address (slows token guessing). */
  failures: RateLimiter;
  /** `auth.resourceUrl`: the public URL of this server, when configured. */
  resourceUrl: string | undefined;
  logger: Logger;
}

/**
 * The public URL of this server (the RFC 9728 `resource`): configured, or the URL the client used
 * (Host has passed the allowed-hosts check; an Ingress terminating TLS says so in X-Forwarded-Proto).
 */
export function resourceOf(c: Context<AppEnv>, deps: Pick<AuthGateDeps, 'basePath' | 'resourceUrl'>): string {
  if (deps.resourceUrl) return deps.resourceUrl;
  const url = new URL(c.req.url);
  const forwarded = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const proto = forwarded === 'https' || forwarded === 'http' ? forwarded : url.protocol.replace(':', '');
  const host = c.req.header('host') ?? url.host;
  return `${proto}://${host}${deps.basePath}`;
}

/** Where this server's protected-resource metadata lives (RFC 9728 §3.1: well-known before the path). */
export function metadataUrlOf(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/** RFC 6750 quoted-string: no quotes, backslashes or control characters. */
const quoted = (text: string): string => text.replace(/["\\\p{Cc}]/gu, ' ');

/**
 * RFC 9728 protected-resource metadata (only with OAuth-style tokens configured; otherwise 404, as
 * clients that probe `/.well-known/oauth-*` expect from a server without OAuth). We are a resource
 * server only: the authorization-server documents are always 404.
 */
export function mountProtectedResourceMetadata(app: Hono<AppEnv>, deps: AuthGateDeps): void {
  const { authenticator, basePath } = deps;
  const paths = [
    '/.well-known/oauth-protected-resource',
    '/.well-known/oauth-protected-resource/*',
    ...(basePath ? [`${basePath}/.well-known/oauth-protected-resource`] : []),
  ];
  for (const path of paths) {
    app.get(path, (c) => {
      if (!authenticator.oauth || !authenticator.issuer) {
        return jsonRpcError(404, jsonRpcCodes.invalidRequest, 'Not found: this server does not use OAuth');
      }
      return c.json(
        {
          resource: resourceOf(c, deps),
          authorization_servers: [authenticator.issuer],
          bearer_methods_supported: ['header'],
          resource_name: 'mirrord-mcp-server',
        },
        200,
        { 'cache-control': 'max-age=300' },
      );
    });
  }
  for (const prefix of new Set(['', basePath])) {
    app.get(`${prefix}/.well-known/*`, () =>
      jsonRpcError(
        404,
        jsonRpcCodes.invalidRequest,
        'Not found: this server is no OAuth authorization server',
      ),
    );
  }
}

/**
 * Authentication and per-identity rate limits in front of everything but the probes and the
 * metadata: 401 with a `WWW-Authenticate` challenge (naming the metadata when OAuth-style tokens
 * are configured), 429 with `Retry-After` past the rate, 503 when a verifier we depend on (the
 * issuer, the API server) is unreachable. The verified identity is `c.var.identity`.
 */
export function authGate(deps: AuthGateDeps): MiddlewareHandler<AppEnv> {
  const { authenticator, limiter, failures, logger } = deps;
  return async (c, next) => {
    let identity;
    try {
      identity = await authenticator.authenticate(c.req.header('authorization'));
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      if (error.transient) {
        logger.warn({ reason: error.message }, 'authentication unavailable');
        return jsonRpcError(503, jsonRpcCodes.serverError, `Service unavailable: ${error.message}`, {
          'retry-after': '5',
        });
      }
      const address = c.env.incoming.socket.remoteAddress ?? 'unknown';
      const wait = failures.take(address);
      if (wait > 0) {
        return jsonRpcError(
          429,
          jsonRpcCodes.serverError,
          `Too many failed authentications; retry in ${wait} s`,
          {
            'retry-after': String(wait),
          },
        );
      }
      logger.info({ address, reason: error.message, path: c.req.path }, 'authentication refused');
      const params = [`realm="${realm}"`];
      if (authenticator.oauth) params.push(`resource_metadata="${metadataUrlOf(resourceOf(c, deps))}"`);
      if (error.reason === 'invalid_token') {
        params.push('error="invalid_token"', `error_description="${quoted(error.message)}"`);
      }
      return jsonRpcError(401, jsonRpcCodes.serverError, `Unauthorized: ${error.message}`, {
        'www-authenticate': `Bearer ${params.join(', ')}`,
      });
    }
    const wait = limiter.take(identity.subject);
    if (wait > 0) {
      return jsonRpcError(
        429,
        jsonRpcCodes.serverError,
        `Too many requests for ${identity.subject}; retry in ${wait} s`,
        {
          'retry-after': String(wait),
        },
      );
    }
    c.set('identity', identity);
    await next();
  };
}
