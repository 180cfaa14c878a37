import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSyncClient, SyncError } from '../../../src/sync/sync-client.js';

let server: Server | undefined;

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function* chunks(count: number, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    await new Promise(setImmediate);
    yield Buffer.alloc(size, i);
  }
}

describe('sync client transport', () => {
  it('sends the token, streams an upload body and reads JSON answers', async () => {
    let received = 0;
    let auth: string | undefined;
    const url = await serve((req, res) => {
      auth = req.headers.authorization;
      req.on('data', (c: Buffer) => (received += c.length));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(req.method === 'GET' ? '{"name":"w","digest":"d"}' : '{"received":1}');
      });
    });
    const client = createSyncClient({ url: `${url}/`, workspace: 'w', token: 't0k' });
    expect(await client.get()).toMatchObject({ name: 'w', digest: 'd' });
    expect(auth).toBe('Bearer t0k');
    await client.upload('s1', chunks(64, 64 * 1024));
    expect(received).toBe(64 * 64 * 1024);
  });

  it('turns an error answer into a SyncError with the server code and hint; 404 workspace is undefined', async () => {
    const url = await serve((req, res) => {
      res.statusCode = req.method === 'GET' ? 404 : 409;
      res.end(
        JSON.stringify({
          error:
            req.method === 'GET'
              ? { code: 'WORKSPACE_NOT_FOUND', message: 'none' }
              : { code: 'SYNC_IN_PROGRESS', message: 'busy', hint: 'wait' },
        }),
      );
    });
    const client = createSyncClient({ url, workspace: 'w' });
    expect(await client.get()).toBeUndefined();
    const error = await client.begin({ entries: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ code: 'SYNC_IN_PROGRESS', status: 409, message: 'busy', hint: 'wait' });
  });

  it('reports a non-JSON answer with its status and text', async () => {
    const url = await serve((_req, res) => {
      res.statusCode = 502;
      res.end('<html>bad gateway</html>');
    });
    const error = await createSyncClient({ url, workspace: 'w' })
      .commit('s1')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'HTTP_502',
      message: expect.stringMatching(/answered 502 <html>bad gateway/),
    });
  });

  it('takes an early refusal of an upload rather than hanging on a server that stopped reading', async () => {
    const url = await serve((req, res) => {
      req.pause();
      res.statusCode = 413;
      res.end(JSON.stringify({ error: { code: 'UPLOAD_TOO_LARGE', message: 'too much' } }));
    });
    const error = await createSyncClient({ url, workspace: 'w' })
      .upload('s1', chunks(1024, 1024 * 1024))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPLOAD_TOO_LARGE', status: 413 });
  });

  it('fails with the body error itself when the body fails, and UNREACHABLE when nobody listens', async () => {
    const url = await serve((req, res) => {
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('abc');
      await new Promise(setImmediate);
      throw Object.assign(new Error('f changed while it was being synced; run the sync again'), {
        code: 'ENOENT',
      });
    }
    await expect(createSyncClient({ url, workspace: 'w' }).upload('s1', failing())).rejects.toThrow(
      /changed while it was being synced/,
    );
    const down = await createSyncClient({ url: 'http://127.0.0.1:1', workspace: 'w' })
      .get()
      .catch((e: unknown) => e);
    expect(down).toMatchObject({
      code: 'UNREACHABLE',
      message: expect.stringMatching(/cannot reach http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/),
    });
  });
});
