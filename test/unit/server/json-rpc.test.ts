import { describe, expect, it } from 'vitest';
import { jsonRpcCodes, jsonRpcError, looksLikeJsonRpc, readJsonBody } from '../../../src/server/json-rpc.js';

function post(body: RequestInit['body'], headers: Record<string, string> = {}): Request {
  return new Request('http://127.0.0.1/mcp', { method: 'POST', body, headers });
}

/** A streamed body without a content-length; counts how much of it was read. */
function streamingRequest(
  chunkSize: number,
  chunks: number,
): { request: Request; pulled: () => number; cancelled: () => boolean } {
  let pulled = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= chunks) {
        controller.close();
        return;
      }
      pulled++;
      controller.enqueue(new Uint8Array(chunkSize).fill(0x20));
    },
    cancel() {
      cancelled = true;
    },
  });
  const init: RequestInit & { duplex: 'half' } = { method: 'POST', body: stream, duplex: 'half' };
  return {
    request: new Request('http://127.0.0.1/mcp', init),
    pulled: () => pulled,
    cancelled: () => cancelled,
  };
}

async function expectErrorResponse(
  result: { body: unknown } | Response,
  status: number,
  code: number,
): Promise<string> {
  expect(result).toBeInstanceOf(Response);
  const response = result as Response;
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  const body = (await response.json()) as {
    jsonrpc: string;
    id: unknown;
    error: { code: number; message: string };
  };
  expect(body.jsonrpc).toBe('2.0');
  expect(body.id).toBeNull();
  expect(body.error.code).toBe(code);
  return body.error.message;
}

describe('jsonRpcCodes', () => {
  it('holds the JSON-RPC and MCP transport codes', () => {
    expect(jsonRpcCodes).toEqual({
      parseError: -32700,
      invalidRequest: -32600,
      sessionNotFound: -32001,
      serverError: -32000,
      internalError: -32603,
    });
  });
});

describe('jsonRpcError', () => {
  it('builds a JSON-RPC error response with id null', async () => {
    const response = jsonRpcError(404, jsonRpcCodes.sessionNotFound, 'Session not found');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32001, message: 'Session not found' },
      id: null,
    });
  });

  it('adds extra headers', () => {
    const response = jsonRpcError(503, jsonRpcCodes.serverError, 'busy', { 'retry-after': '5' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.headers.get('content-type')).toBe('application/json');
  });

  it('escapes the message as JSON', async () => {
    const message = 'quote " backslash \\ newline \n';
    const body = (await jsonRpcError(400, -32600, message).json()) as { error: { message: string } };
    expect(body.error.message).toBe(message);
  });
});

describe('looksLikeJsonRpc', () => {
  it.each([
    { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 1, result: {} },
    { jsonrpc: '2.0', id: 1, result: null },
    { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'x' } },
    [
      { jsonrpc: '2.0', id: 1, method: 'a' },
      { jsonrpc: '2.0', method: 'b' },
    ],
  ])('accepts %j', (body) => {
    expect(looksLikeJsonRpc(body)).toBe(true);
  });

  it.each([
    null,
    undefined,
    42,
    'jsonrpc',
    [],
    {},
    { jsonrpc: '1.0', id: 1, method: 'x' },
    { jsonrpc: 2, id: 1, method: 'x' },
    { id: 1, method: 'x' },
    { jsonrpc: '2.0', id: 1 },
    { jsonrpc: '2.0', id: 1, method: 5 },
    [{ jsonrpc: '2.0', method: 'ok' }, { hello: 'world' }],
    [null],
  ])('refuses %j', (body) => {
    expect(looksLikeJsonRpc(body)).toBe(false);
  });
});

describe('readJsonBody', () => {
  it('parses a JSON body', async () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'ping' };
    expect(await readJsonBody(post(JSON.stringify(body)), 1024)).toEqual({ body });
  });

  it('parses UTF-8 text', async () => {
    expect(await readJsonBody(post('{"name":"grüße 🚀"}'), 1024)).toEqual({ body: { name: 'grüße 🚀' } });
  });

  it('accepts a body of exactly the limit', async () => {
    const text = `"${'a'.repeat(98)}"`;
    expect(text).toHaveLength(100);
    expect(await readJsonBody(post(text), 100)).toEqual({ body: 'a'.repeat(98) });
  });

  it('refuses a declared content-length over the limit with 413 before reading', async () => {
    const message = await expectErrorResponse(
      await readJsonBody(post('{}', { 'content-length': '5000' }), 1000),
      413,
      jsonRpcCodes.invalidRequest,
    );
    expect(message).toContain('1000 bytes');
  });

  it('refuses a body over the limit with 413', async () => {
    const text = `"${'a'.repeat(200)}"`;
    const message = await expectErrorResponse(
      await readJsonBody(post(text), 100),
      413,
      jsonRpcCodes.invalidRequest,
    );
    expect(message).toContain('over the limit of 100 bytes');
  });

  it('stops reading a streamed body as soon as it passes the limit', async () => {
    const stream = streamingRequest(1000, 10_000);
    await expectErrorResponse(await readJsonBody(stream.request, 5000), 413, jsonRpcCodes.invalidRequest);
    expect(stream.cancelled()).toBe(true);
    expect(stream.pulled()).toBeLessThan(100);
  });

  it('reads a streamed body within the limit', async () => {
    const stream = streamingRequest(10, 3); // 30 spaces
    const result = await readJsonBody(stream.request, 5000);
    // Only whitespace: an empty body.
    await expectErrorResponse(result, 400, jsonRpcCodes.parseError);
    expect(stream.pulled()).toBe(3);
  });

  it.each(['', '   ', '\n\t '])('refuses an empty body %j with a parse error', async (text) => {
    const message = await expectErrorResponse(
      await readJsonBody(post(text), 1024),
      400,
      jsonRpcCodes.parseError,
    );
    expect(message).toContain('empty request body');
  });

  it('refuses a request without a body with a parse error', async () => {
    const request = new Request('http://127.0.0.1/mcp', { method: 'GET' });
    const message = await expectErrorResponse(
      await readJsonBody(request, 1024),
      400,
      jsonRpcCodes.parseError,
    );
    expect(message).toContain('empty request body');
  });

  it.each(['{"jsonrpc":', 'not json', '{"a":1}}', "{'a':1}"])(
    'refuses invalid JSON %j with a parse error',
    async (text) => {
      const message = await expectErrorResponse(
        await readJsonBody(post(text), 1024),
        400,
        jsonRpcCodes.parseError,
      );
      expect(message).toMatch(/^Parse error: /);
    },
  );

  it('a content-length that is not a number does not block a small body', async () => {
    expect(await readJsonBody(post('{"a":1}', { 'content-length': 'abc' }), 1024)).toEqual({
      body: { a: 1 },
    });
  });
});
