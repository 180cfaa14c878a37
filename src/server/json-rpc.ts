/** JSON-RPC error bodies for HTTP-level refusals (the MCP transports' convention). */
export const jsonRpcCodes = {
  parseError: -32700,
  invalidRequest: -32600,
  sessionNotFound: -32001,
  serverError: -32000,
  internalError: -32603,
} as const;

export function jsonRpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** A JSON-RPC 2.0 message or batch, as far as the shape goes. */
export function looksLikeJsonRpc(body: unknown): boolean {
  const one = (item: unknown): boolean =>
    typeof item === 'object' &&
    item !== null &&
    (item as { jsonrpc?: unknown }).jsonrpc === '2.0' &&
    (typeof (item as { method?: unknown }).method === 'string' || 'result' in item || 'error' in item);
  return Array.isArray(body) ? body.length > 0 && body.every(one) : one(body);
}

/** Reads a JSON body with a byte limit; a Response when it is too large or not JSON. */
export async function readJsonBody(
  request: Request,
  maxBytes: number,
): Promise<{ body: unknown } | Response> {
  // Node's web streams are async iterable; leaving the loop early cancels the stream.
  return readJsonChunks(
    request.body as AsyncIterable<Uint8Array> | null,
    request.headers.get('content-length'),
    maxBytes,
  );
}

/**
 * `readJsonBody` over any source of chunks, e.g. Node's `IncomingMessage` itself: reading it there
 * spares @hono/node-server building a full web `Request` (and us cloning it) on every POST.
 */
export async function readJsonChunks(
  body: AsyncIterable<Uint8Array> | null,
  contentLength: string | null | undefined,
  maxBytes: number,
): Promise<{ body: unknown } | Response> {
  const declared = Number(contentLength ?? '0');
  if (declared > maxBytes) {
    return jsonRpcError(413, jsonRpcCodes.invalidRequest, `request body over the limit of ${maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (body) {
    for await (const value of body) {
      size += value.byteLength;
      if (size > maxBytes) {
        return jsonRpcError(
          413,
          jsonRpcCodes.invalidRequest,
          `request body over the limit of ${maxBytes} bytes`,
        );
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '')
    return jsonRpcError(400, jsonRpcCodes.parseError, 'Parse error: empty request body');
  try {
    return { body: JSON.parse(text) as unknown };
  } catch (error) {
    return jsonRpcError(400, jsonRpcCodes.parseError, `Parse error: ${(error as Error).message}`);
  }
}
