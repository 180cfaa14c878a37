import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { McpServer } from '@modelcontextprotocol/server';
import { SSEServerTransport } from '@modelcontextprotocol/server-legacy/sse';
import type { Hono } from 'hono';
import { toAuthInfo } from '../auth/identity.js';
import type { Logger } from '../logger.js';
import { jsonRpcCodes, jsonRpcError, looksLikeJsonRpc, readJsonBody } from './json-rpc.js';
import type { AppEnv } from './app-env.js';
import type { SessionPool } from './session-pool.js';

/** What a session-holding transport needs from the app (shared by SSE and Streamable HTTP). */
export interface TransportDeps {
  basePath: string;
  keepAliveMs: number;
  maxRequestBytes: number;
  pool: SessionPool;
  logger: Logger;
  createServer: () => McpServer;
}

type Env = AppEnv;

/**
 * The legacy HTTP+SSE transport (the original prototype's endpoint): `GET /sse` opens the stream and
 * names `POST /messages?sessionId=...` in its `endpoint` event. The frozen v1 transport writes the
 * stream; we parse POST bodies ourselves so that bad ones get JSON-RPC error bodies.
 */
export function mountSse(app: Hono<Env>, deps: TransportDeps): void {
  const { basePath, pool, logger } = deps;

  app.get(`${basePath}/sse`, async (c) => {
    if (pool.isFull) {
      return jsonRpcError(503, jsonRpcCodes.serverError, 'too many sessions; retry later', {
        'retry-after': '5',
      });
    }
    const res = c.env.outgoing;
    // Proxies (nginx, ingress-nginx) must neither buffer the stream nor cut it for silence.
    res.setHeader('X-Accel-Buffering', 'no');
    // The SDK deprecates HTTP+SSE, but our users' clients and ingresses still speak it.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const transport = new SSEServerTransport(`${basePath}/messages`, res);
    const server = deps.createServer();
    const session = pool.add(transport.sessionId, 'sse', transport, server, c.var.identity.subject);
    const keepAlive = setInterval(() => {
      if (!res.writableEnded) res.write(': keep-alive\n\n');
    }, deps.keepAliveMs);
    res.on('close', () => {
      clearInterval(keepAlive);
    });
    try {
      await server.connect(transport);
      session.activity.touch();
    } catch (error) {
      clearInterval(keepAlive);
      logger.error({ err: error }, 'could not open SSE session');
      if (!res.headersSent) res.writeHead(500).end();
      else res.end();
    }
    return RESPONSE_ALREADY_SENT;
  });

  // mcp-remote and other clients probe Streamable HTTP first: a POST here must say "not this way".
  app.on(['POST', 'PUT', 'DELETE', 'PATCH'], `${basePath}/sse`, () =>
    jsonRpcError(
      405,
      jsonRpcCodes.invalidRequest,
      'Method not allowed: GET /sse opens an SSE stream; Streamable HTTP is at /mcp',
      {
        allow: 'GET',
      },
    ),
  );

  app.post(`${basePath}/messages`, async (c) => {
    const sessionId = c.req.query('sessionId');
    if (!sessionId)
      return jsonRpcError(400, jsonRpcCodes.invalidRequest, 'Bad Request: missing sessionId query parameter');
    const identity = c.var.identity;
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const session = pool.get<SSEServerTransport>(sessionId, 'sse', identity.subject);
    if (!session) {
      return jsonRpcError(
        404,
        jsonRpcCodes.sessionNotFound,
        'Session not found: open a new one with GET /sse',
      );
    }
    const contentType = c.req.header('content-type') ?? '';
    if (!/^application\/json\b/i.test(contentType)) {
      return jsonRpcError(415, jsonRpcCodes.invalidRequest, 'Unsupported Media Type: send application/json');
    }
    const parsed = await readJsonBody(c.req.raw, deps.maxRequestBytes);
    if (parsed instanceof Response) return parsed;
    if (!looksLikeJsonRpc(parsed.body)) {
      return jsonRpcError(400, jsonRpcCodes.invalidRequest, 'Invalid Request: not a JSON-RPC 2.0 message');
    }
    const messages = Array.isArray(parsed.body) ? (parsed.body as unknown[]) : [parsed.body];
    try {
      const authInfo = toAuthInfo(identity);
      for (const message of messages) {
        await session.transport.handleMessage(message, { request: c.req.raw, authInfo });
      }
    } catch (error) {
      return jsonRpcError(400, jsonRpcCodes.invalidRequest, `Invalid Request: ${(error as Error).message}`);
    }
    return c.text('Accepted', 202);
  });
}
