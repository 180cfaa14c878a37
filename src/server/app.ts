import { hostHeaderValidation, originValidation } from '@modelcontextprotocol/hono';
import type { McpServer } from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import { isLoopbackHost, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { RunRegistry } from '../runs/registry.js';
import type { Authenticator } from '../auth/authenticator.js';
import { createRateLimiter } from '../auth/rate-limit.js';
import type { AppEnv } from './app-env.js';
import { authGate, mountProtectedResourceMetadata, type AuthGateDeps } from './auth-gate.js';
import type { WorkspaceStore } from '../workspace/workspace-store.js';
import { jsonRpcCodes, jsonRpcError } from './json-rpc.js';
import { SessionPool } from './session-pool.js';
import { mountSse } from './sse.js';
import { mountStreamableHttp } from './streamable-http.js';
import { mountSyncRoutes } from './sync-routes.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  registry: RunRegistry;
  createServer: () => McpServer;
  metrics: Metrics;
  /** Tells the metrics how many sessions the pool holds. */
  countSessions: { by: (transport: 'sse' | 'streamable-http') => number };
  /** A session ended (however): stop what it started. */
  onSessionClosed: (sessionId: string) => void;
  /** Why the server is not ready (draining, mirrord missing, ...), or an empty list. */
  notReady: () => Promise<string[]>;
  /** The workspace store; undefined when workspaces are off. */
  workspaces?: WorkspaceStore | undefined;
  /** Verifies callers; every caller is anonymous when no method is configured (loopback only). */
  authenticator: Authenticator;
}

export interface McpApp {
  readonly app: Hono<AppEnv>;
  readonly pool: SessionPool;
  /** Lets in-flight answers go out (bounded), then closes every session and the per-request handler. */
  close(drainMs?: number): Promise<void>;
}

const localhostNames = ['localhost', '127.0.0.1', '[::1]'];

/** Failed authentications a client address may make per minute (and at once) before it gets 429. */
const failedAuthPerMinute = 30;

/** Hostnames whose Host header is accepted: configuration, else localhost names on a loopback bind. */
export function allowedHostnames(config: Config): string[] | undefined {
  if (config.allowedHosts.length > 0) return [...config.allowedHosts];
  return isLoopbackHost(config.host) ? localhostNames : undefined;
}

/** The HTTP face of the server: MCP over SSE and Streamable HTTP, plus health. */
export function createApp(deps: AppDeps): McpApp {
  const { config, logger } = deps;
  const app = new Hono<AppEnv>();
  const base = config.basePath;
  const pool = new SessionPool({
    maxSessions: config.sessions.maxSessions,
    idleTimeoutMs: config.sessions.idleTimeoutS * 1000,
    logger,
    onSessionClosed: deps.onSessionClosed,
  });
  deps.countSessions.by = (transport) => pool.countByKind(transport);

  // Probes and scrapes come from the kubelet and Prometheus with the pod IP as Host: before the Host check.
  app.get(`${base}/healthz`, (c) => c.json({ status: 'ok' }));
  app.get(`${base}/readyz`, async (c) => {
    const reasons = await deps.notReady();
    return c.json({ ready: reasons.length === 0, reasons }, reasons.length === 0 ? 200 : 503);
  });
  const metricsRoute = (): void => {
    app.get(`${base}/metrics`, async (c) => {
      c.header('content-type', deps.metrics.registry.contentType);
      return c.body(await deps.metrics.registry.metrics());
    });
  };
  if (config.auth.publicMetrics) metricsRoute();

  // DNS-rebinding protection. A missing Origin is accepted (no MCP client sends one); a present one
  // must name an allowed host.
  const hosts = allowedHostnames(config);
  if (hosts) app.use('*', hostHeaderValidation(hosts));
  const origins = config.allowedOrigins.length > 0 ? [...config.allowedOrigins] : (hosts ?? localhostNames);
  app.use('*', originValidation(origins));

  // Clients probe `/.well-known/oauth-*` without a token: metadata or 404, never 401.
  const { requestsPerMinute, burst } = config.rateLimit;
  const gate: AuthGateDeps = {
    basePath: base,
    authenticator: deps.authenticator,
    limiter: createRateLimiter({ perMinute: requestsPerMinute, burst }),
    failures: createRateLimiter({
      perMinute: requestsPerMinute === 0 ? 0 : failedAuthPerMinute,
      burst: failedAuthPerMinute,
    }),
    resourceUrl: config.auth.resourceUrl,
    logger,
  };
  mountProtectedResourceMetadata(app, gate);
  app.use('*', authGate(gate));
  if (!config.auth.publicMetrics) metricsRoute();

  const shared = {
    basePath: base,
    keepAliveMs: config.sessions.keepAliveMs,
    maxRequestBytes: config.maxRequestBytes,
    pool,
    logger,
    createServer: deps.createServer,
  };
  mountSse(app, shared);
  const streamable = mountStreamableHttp(app, shared);
  mountSyncRoutes(app, {
    basePath: base,
    store: deps.workspaces,
    maxManifestBytes: config.workspaces.maxManifestBytes,
    logger,
    onBytes: (bytes) => {
      deps.metrics.syncBytes.inc(bytes);
    },
  });

  app.notFound((c) =>
    jsonRpcError(
      404,
      jsonRpcCodes.invalidRequest,
      `Not found: ${c.req.method} ${c.req.path}; MCP is at ${base}/sse (SSE) and ${base}/mcp (Streamable HTTP)`,
    ),
  );
  app.onError((error) => {
    logger.error({ err: error }, 'request failed');
    return jsonRpcError(500, jsonRpcCodes.internalError, 'Internal error');
  });

  return {
    app,
    pool,
    close: async (drainMs = 0) => {
      await pool.drain(drainMs);
      await pool.closeAll();
      await streamable.close();
    },
  };
}
