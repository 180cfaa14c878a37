import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { HttpBindings } from '@hono/node-server';
import type { Hono } from 'hono';
import { toAuthInfo } from '../auth/identity.js';
import type { AppEnv } from './app-env.js';
import { jsonRpcCodes, jsonRpcError, readJsonBody, readJsonChunks } from './json-rpc.js';
import type { TransportDeps } from './sse.js';

/**
 * Streamable HTTP at `/mcp`, for both protocol eras. 2026-era requests go to the SDK's per-request
 * handler (stateless; a client cancels by closing its stream). 2025-era clients get real sessions
 * (`Mcp-Session-Id`), because their cancellation (`notifications/cancelled`) arrives on a separate
 * POST and must reach the request it cancels; a client that does not initialize is served statelessly.
 */
export function mountStreamableHttp(app: Hono<AppEnv>, deps: TransportDeps): { close(): Promise<void> } {
  const { basePath, pool, logger } = deps;
  const onerror = (error: Error): void => {
    logger.debug({ err: error }, 'streamable HTTP error');
  };
  const modern = createMcpHandler(() => deps.createServer(), {
    legacy: 'reject',
    keepAliveMs: deps.keepAliveMs,
    maxRequestBodySize: deps.maxRequestBytes,
    onerror,
  });
  const stateless = legacyStatelessFallback(() => deps.createServer(), onerror, {
    maxRequestBodySize: deps.maxRequestBytes,
  });

  app.all(`${basePath}/mcp`, async (c) => {
    const request = c.req.raw;
    let parsedBody: unknown;
    if (request.method === 'POST') {
      // Every SDK entry point below gets `parsedBody` and never reads the body itself, so under
      // @hono/node-server we read the Node request directly: touching `request.body` (or cloning it)
      // would make node-server build a full undici Request per POST, which profiled at about 15% of
      // the server's CPU in `npm run bench -- list-targets`. Elsewhere (app.request in tests) we clone.
      const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
      const parsed = incoming
        ? await readJsonChunks(incoming, incoming.headers['content-length'], deps.maxRequestBytes)
        : await readJsonBody(request.clone(), deps.maxRequestBytes);
      if (parsed instanceof Response) return parsed;
      parsedBody = parsed.body;
    }

    const identity = c.var.identity;
    const authInfo = toAuthInfo(identity);
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      const session = pool.get<WebStandardStreamableHTTPServerTransport>(
        sessionId,
        'streamable-http',
        identity.subject,
      );
      if (!session) {
        return jsonRpcError(
          404,
          jsonRpcCodes.sessionNotFound,
          'Session not found: start a new session with initialize',
        );
      }
      session.activity.touch();
      cancelOnDisconnect(
        request,
        (c.env as Partial<HttpBindings> | undefined)?.outgoing,
        parsedBody,
        session.transport,
      );
      return session.transport.handleRequest(request, { parsedBody, authInfo });
    }

    if (!(await isLegacyRequest(request, parsedBody, { maxRequestBodySize: deps.maxRequestBytes }))) {
      return modern.fetch(request, { parsedBody, authInfo });
    }
    if (request.method === 'POST' && isInitialize(parsedBody)) {
      if (pool.isFull) {
        return jsonRpcError(503, jsonRpcCodes.serverError, 'too many sessions; retry later', {
          'retry-after': '5',
        });
      }
      const server = deps.createServer();
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        keepAliveMs: deps.keepAliveMs,
        maxRequestBodySize: deps.maxRequestBytes,
        onsessioninitialized: (id) => {
          pool.add(id, 'streamable-http', transport, server, identity.subject);
        },
      });
      await server.connect(transport);
      return transport.handleRequest(request, { parsedBody, authInfo });
    }
    return stateless(request, { parsedBody, authInfo });
  });

  return {
    close: () => modern.close(),
  };
}

/**
 * The 2025 transport keeps working on a request whose response stream the client dropped; we have
 * no event store to replay its answer, so a dropped stream cancels the calls it carried, exactly as
 * if the client had sent `notifications/cancelled` (their runs' process groups are killed).
 */
function cancelOnDisconnect(
  request: Request,
  outgoing: HttpBindings['outgoing'] | undefined,
  body: unknown,
  transport: WebStandardStreamableHTTPServerTransport,
): void {
  const ids = (Array.isArray(body) ? body : [body])
    .filter((message): message is { id: string | number; method: string } => {
      const candidate = message as { id?: unknown; method?: unknown } | null;
      return (
        typeof candidate?.method === 'string' &&
        (typeof candidate.id === 'string' || typeof candidate.id === 'number')
      );
    })
    .map((message) => message.id);
  if (ids.length === 0) return;
  const cancel = (): void => {
    for (const requestId of ids) {
      transport.onmessage?.({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId, reason: 'the client closed the request stream' },
      });
    }
  };
  // Under @hono/node-server, watch the Node response itself, as node-server does to abort
  // `request.signal`: reading `request.signal` makes node-server build an AbortController per POST,
  // which profiled at about 2% of the server's CPU in `npm run bench -- list-targets`.
  if (outgoing) {
    outgoing.once('close', () => {
      if (!outgoing.writableFinished) cancel();
    });
    return;
  }
  request.signal.addEventListener('abort', cancel, { once: true });
}

function isInitialize(body: unknown): boolean {
  return Array.isArray(body) ? body.some((item) => isInitializeRequest(item)) : isInitializeRequest(body);
}
