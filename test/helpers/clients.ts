import {
  Client as V2Client,
  SSEClientTransport as V2Sse,
  StreamableHTTPClientTransport as V2Http,
} from '@modelcontextprotocol/client';
import { StdioClientTransport as V2Stdio } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1Sse } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export type ClientKind = 'v2-sse' | 'v2-http' | 'v2-http-modern' | 'v1-sse' | 'v1-http';
export const httpClientKinds: ClientKind[] = ['v1-sse', 'v2-sse', 'v1-http', 'v2-http', 'v2-http-modern'];

export interface ToolResult {
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, any>;
  isError?: boolean;
}

export interface CallOptions {
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
  signal?: AbortSignal;
  timeout?: number;
}

/** One interface over the two SDK generations, so every test runs against both. */
export interface TestClient {
  readonly kind: ClientKind | 'v2-stdio';
  callTool(name: string, args: Record<string, unknown>, options?: CallOptions): Promise<ToolResult>;
  listTools(): Promise<
    { name: string; inputSchema: any; outputSchema?: any; annotations?: any; title?: string }[]
  >;
  instructions(): string | undefined;
  listResources(): Promise<{ uri: string; name: string }[]>;
  readResource(uri: string): Promise<{ uri: string; text?: string }[]>;
  close(): Promise<void>;
}

const info = { name: 'mirrord-mcp-tests', version: '1.0.0' };

/** Connects a real SDK client of the given kind to a running server (with a bearer token, if given). */
export async function connectClient(
  kind: ClientKind,
  baseUrl: string,
  options: { token?: string } = {},
): Promise<TestClient> {
  const requestInit: RequestInit | undefined = options.token
    ? { headers: { authorization: `Bearer ${options.token}` } }
    : undefined;
  const transportOptions = requestInit ? { requestInit } : undefined;
  if (kind.startsWith('v1')) {
    const client = new V1Client(info);
    const transport =
      kind === 'v1-sse'
        ? new V1Sse(new URL(`${baseUrl}/sse`), transportOptions)
        : new V1Http(new URL(`${baseUrl}/mcp`), transportOptions);
    await client.connect(transport);
    return wrapV1(kind, client);
  }
  const client = new V2Client(
    info,
    kind === 'v2-http-modern' ? { versionNegotiation: { mode: 'auto' } } : {},
  );
  const transport =
    kind === 'v2-sse'
      ? new V2Sse(new URL(`${baseUrl}/sse`), transportOptions)
      : new V2Http(new URL(`${baseUrl}/mcp`), transportOptions);
  await client.connect(transport);
  return wrapV2(kind, client);
}

/** Spawns the server with --stdio through the v2 client's stdio transport. */
export async function connectStdio(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<TestClient> {
  const client = new V2Client(info);
  await client.connect(new V2Stdio({ command, args, env, stderr: 'pipe' }));
  return wrapV2('v2-stdio', client);
}

function wrapV2(kind: TestClient['kind'], client: V2Client): TestClient {
  return {
    kind,
    callTool: async (name, args, options = {}) =>
      (await client.callTool(
        { name, arguments: args },
        { ...options, resetTimeoutOnProgress: false },
      )) as ToolResult,
    listTools: async () => (await client.listTools()).tools as any,
    instructions: () => client.getInstructions(),
    listResources: async () => (await client.listResources()).resources as any,
    readResource: async (uri) => (await client.readResource({ uri })).contents as any,
    close: () => client.close(),
  };
}

function wrapV1(kind: ClientKind, client: V1Client): TestClient {
  return {
    kind,
    callTool: async (name, args, options = {}) =>
      (await client.callTool({ name, arguments: args }, undefined, options)) as ToolResult,
    listTools: async () => (await client.listTools()).tools as any,
    instructions: () => client.getInstructions(),
    listResources: async () => (await client.listResources()).resources as any,
    readResource: async (uri) => (await client.readResource({ uri })).contents as any,
    close: () => client.close(),
  };
}
