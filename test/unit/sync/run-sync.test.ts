import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncOnce } from '../../../src/sync/run-sync.js';
import { parseManifest } from '../../../src/workspace/wire-manifest.js';

const unlimited = { maxFiles: 1e9, maxBytes: 1e12 };

let dir: string;
let server: Server | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mms-run-sync-'));
});

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/**
 * A stand-in server that holds a digest, takes whole manifests (answering "unchanged" after
 * adopting their digest) and refuses every delta with 409 BASE_MISMATCH, as a server whose tree
 * moved on between the client's GET and its POST would.
 */
async function refusingDeltas(
  refusal = { status: 409, code: 'BASE_MISMATCH' },
): Promise<{ url: string; requests: string[] }> {
  let digest: string | null = null;
  const requests: string[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      const workspace = { name: 'w', files: 0, bytes: 0, digest, tree_id: 't' };
      if (req.method === 'GET') {
        requests.push('get');
        res.end(JSON.stringify(workspace));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
      if ('base' in body) {
        requests.push('delta');
        res.statusCode = refusal.status;
        res.end(JSON.stringify({ error: { code: refusal.code, message: 'not this delta' } }));
        return;
      }
      requests.push('full');
      digest = parseManifest(body, unlimited).digest;
      res.end(JSON.stringify({ unchanged: true, workspace: { ...workspace, digest } }));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

describe('syncOnce', () => {
  it.each([
    ['the tree moved on', 409, 'BASE_MISMATCH'],
    ['a server without deltas', 400, 'INVALID_MANIFEST'],
  ])(
    'sends a delta when the server holds the last synced tree, and the whole manifest when it is refused: %s',
    async (_label, status, code) => {
      const { url, requests } = await refusingDeltas({ status, code });
      const options = { dir: join(dir, 'p'), url, workspace: 'w', cacheFile: join(dir, 'sync.cache') };
      await mkdir(options.dir);
      await writeFile(join(options.dir, 'a.txt'), 'one');
      await writeFile(join(options.dir, 'b.txt'), 'bee');
      expect(await syncOnce(options)).toMatchObject({ unchanged: true, delta: false });
      expect(requests).toEqual(['get', 'full']);
      requests.length = 0;
      await writeFile(join(options.dir, 'a.txt'), 'two!');
      const report = await syncOnce(options);
      expect(requests).toEqual(['get', 'delta', 'full']);
      expect(report).toMatchObject({ unchanged: true, delta: false, hashedFiles: 1 });
    },
  );

  it('checks what changed since the last sync locally, naming the file', async () => {
    const { url, requests } = await refusingDeltas();
    const options = { dir: join(dir, 'p'), url, workspace: 'w', cacheFile: join(dir, 'sync.cache') };
    await mkdir(options.dir);
    await writeFile(join(options.dir, 'a.txt'), 'one');
    await syncOnce(options);
    requests.length = 0;
    await symlink('/etc/passwd', join(options.dir, 'passwd'));
    await expect(syncOnce(options)).rejects.toMatchObject({
      code: 'SYMLINK_ESCAPE',
      message: expect.stringContaining('"passwd"'),
    });
    // Only the question asked while walking (what the server holds); no sync was started.
    expect(requests).toEqual(['get']);
  });
});
