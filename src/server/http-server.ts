import { createAdaptorServer, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Runtime } from '../runtime.js';
import { createApp, type McpApp } from './app.js';

export interface RunningHttpServer {
  readonly url: string;
  readonly port: number;
  readonly mcp: McpApp;
  /** Stops accepting, cancels runs, closes sessions, removes temp files. Bounded by shutdownTimeoutMs. */
  shutdown(reason: string): Promise<void>;
}

/** Starts the HTTP server for a runtime and resolves once it listens. */
export async function startHttpServer(runtime: Runtime): Promise<RunningHttpServer> {
  const { config, logger } = runtime;
  let draining = false;
  const mcp = createApp({
    config,
    logger,
    registry: runtime.registry,
    createServer: runtime.createServer,
    metrics: runtime.metrics,
    countSessions: runtime.countSessions,
    onSessionClosed: (sessionId) => {
      runtime.store.stopSession(sessionId);
    },
    notReady: async () => {
      const reasons = draining ? ['draining: the server is shutting down'] : [];
      return [...reasons, ...(await runtime.notReady())];
    },
    workspaces: runtime.workspaces,
    authenticator: runtime.authenticator,
  });
  const server: ServerType = createAdaptorServer({ fetch: mcp.app.fetch });
  const http = server as import('node:http').Server;
  // SSE streams and long tool calls must not be cut by Node's own timeouts.
  http.requestTimeout = 0;
  http.headersTimeout = 60_000;
  http.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}${config.basePath}`;
  logger.info({ url, sse: `${url}/sse`, mcp: `${url}/mcp` }, 'listening');

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    shuttingDown ??= (async () => {
      logger.info({ reason, runs: runtime.registry.size, sessions: mcp.pool.size }, 'shutting down');
      draining = true;
      const closed = new Promise<void>((resolve) =>
        http.close(() => {
          resolve();
        }),
      );
      // Drain: no new runs from now on; running ones get drainTimeoutS to finish on their own.
      const drained = await runtime.registry.drain(config.drainTimeoutS * 1000);
      if (!drained) logger.info({ runs: runtime.registry.size }, 'drain time is up; stopping the runs left');
      const orderly = (async () => {
        await runtime.registry.shutdown();
        await runtime.reaper.idle();
        // The cancelled runs' results are on their way to the clients: let them out first.
        await mcp.close(1000);
        http.closeAllConnections();
        await closed;
      })();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => {
          resolve('timeout');
        }, config.shutdownTimeoutMs);
      });
      const outcome = await Promise.race([orderly.then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.warn(
          { timeoutMs: config.shutdownTimeoutMs },
          'shutdown took too long; closing connections anyway',
        );
        http.closeAllConnections();
      }
      await runtime.dispose();
      logger.info('shut down');
    })();
    return shuttingDown;
  };

  return { url, port: address.port, mcp, shutdown };
}
