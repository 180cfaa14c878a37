import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Property-based fuzzing through a real MCP client: arbitrary (mostly ill-typed) arguments to every
 * tool. Each call ends in a tool result or a JSON-RPC error with a message; the server never crashes,
 * never logs an unhandled rejection, and nothing it starts outlives the test.
 */
let server: TestServer;
let client: TestClient;
beforeAll(async () => {
  server = await startServer({ env: { MIRRORD_MCP_RUN_DEFAULT_TIMEOUT_S: '5' } });
  client = await connectClient('v2-http', server.url);
});
afterAll(async () => {
  await client.close();
  await server.cleanup();
});

const tools = [
  'run',
  'run_start',
  'run_status',
  'run_logs',
  'run_stop',
  'run_list',
  'list_targets',
  'server_info',
  'workspace_list',
  'workspace_read_file',
  'workspace_write_files',
];
const names = fc.constantFrom(
  'cmd_str',
  'deployment',
  'target',
  'namespace',
  'mirrord_config',
  'env',
  'timeout_s',
  'cwd',
  'workspace',
  'run_id',
  'stream',
  'path',
  'files',
  'kind',
  'name',
  'limit',
  'offset',
  'all_namespaces',
  '__proto__',
);
const values = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    'api',
    'default',
    'staging',
    'deployment/api',
    'targetless',
    '{{x}}',
    '../../etc/passwd',
    '\u0000',
  ),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

describe('fuzzing tool calls', () => {
  it('every call ends in a result or a clear error, and the server stays up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...tools),
        fc.dictionary(names, values, { maxKeys: 5 }),
        async (tool, args) => {
          try {
            const result = await client.callTool(tool, args, { timeout: 20_000 });
            expect(Array.isArray(result.content)).toBe(true);
            if (result.isError) expect(JSON.stringify(result.content).length).toBeGreaterThan(10);
          } catch (error) {
            // Schema violations come back as JSON-RPC errors with a code and a message.
            expect((error as { code?: unknown }).code).toEqual(expect.any(Number));
            expect((error as Error).message.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 150 },
    );
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.proc.exitCode).toBeNull();
    expect(server.logs()).not.toMatch(/unhandled|uncaught|"level":60/i);
  });
});
