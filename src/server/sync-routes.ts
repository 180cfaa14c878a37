import type { Context, Hono } from 'hono';
import type { AppEnv } from './app-env.js';
import { AppError, toAppError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { frameHeader } from '../workspace/upload-frames.js';
import type { WorkspaceStore, WorkspaceSummary } from '../workspace/workspace-store.js';

export interface SyncRouteDeps {
  basePath: string;
  /** Undefined when workspaces are off: every route then says so. */
  store: WorkspaceStore | undefined;
  maxManifestBytes: number;
  logger: Logger;
  /** Counts uploaded bytes (the sync_bytes metric). */
  onBytes?: ((bytes: number) => void) | undefined;
}

async function* counted(
  body: AsyncIterable<Uint8Array>,
  onBytes: ((bytes: number) => void) | undefined,
): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    onBytes?.(chunk.byteLength);
    yield chunk;
  }
}

// eslint-disable-next-line @typescript-eslint/require-await -- an async iterable of one chunk
async function* single(chunk: Buffer): AsyncIterable<Uint8Array> {
  yield chunk;
}

const statusOf: Partial<Record<ErrorCode, number>> = {
  WORKSPACES_DISABLED: 404,
  WORKSPACE_NOT_FOUND: 404,
  SYNC_NOT_FOUND: 404,
  SYNC_IN_PROGRESS: 409,
  BASE_MISMATCH: 409,
  TOO_MANY_FILES: 413,
  WORKSPACE_TOO_LARGE: 413,
  UPLOAD_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 507,
  INTERNAL: 500,
};

/** A refusal as JSON: `{error: {code, message, hint}}` with a fitting status (400 by default). */
export function syncError(error: unknown): Response {
  const appError = toAppError(error);
  return Response.json({ error: appError.toJSON() }, { status: statusOf[appError.code] ?? 400 });
}

function shapeSummary(summary: WorkspaceSummary): Record<string, unknown> {
  return {
    name: summary.name,
    files: summary.files,
    bytes: summary.bytes,
    digest: summary.digest,
    tree_id: summary.treeId,
    committed_at: summary.committedAt === null ? null : new Date(summary.committedAt).toISOString(),
    last_used_at: new Date(summary.lastUsedAt).toISOString(),
    syncing: summary.syncing,
  };
}

async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  if (Number(request.headers.get('content-length') ?? '0') > maxBytes) {
    throw new AppError('UPLOAD_TOO_LARGE', `the manifest is over the limit of ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of (request.body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes)
      throw new AppError('UPLOAD_TOO_LARGE', `the manifest is over the limit of ${maxBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new AppError('INVALID_MANIFEST', 'the manifest is not valid JSON');
  }
}

/**
 * The sync protocol, beside MCP on the same port and behind the same checks:
 *   GET    /workspaces                          the caller's workspaces
 *   GET    /workspaces/:name                    one workspace (digest of its current tree)
 *   DELETE /workspaces/:name                    delete it
 *   POST   /workspaces/:name/syncs              manifest, or delta against a base digest
 *                                               -> {unchanged} or {sync_id, missing}
 *   PUT    /workspaces/:name/syncs/:id/blobs    framed blobs (`<sha256> <size>\n` + bytes), streamed
 *   POST   /workspaces/:name/syncs/:id/commit   switch to the new tree atomically
 *   DELETE /workspaces/:name/syncs/:id          give up; the previous tree stays
 */
/** Mounted behind the auth gate: the caller (`c.var.identity`) owns the workspaces it sees. */
export function mountSyncRoutes(app: Hono<AppEnv>, deps: SyncRouteDeps): void {
  const base = `${deps.basePath}/workspaces`;
  const handle =
    (fn: (c: Context<AppEnv>, store: WorkspaceStore, owner: string) => Response | Promise<Response>) =>
    async (c: Context<AppEnv>): Promise<Response> => {
      try {
        if (!deps.store) {
          throw new AppError(
            'WORKSPACES_DISABLED',
            'this server has no workspaces (workspaces.dataDir is unset)',
          );
        }
        return await fn(c, deps.store, c.var.identity.subject);
      } catch (error) {
        const appError = toAppError(error);
        if (appError.code === 'INTERNAL') deps.logger.error({ err: error }, 'sync request failed');
        return syncError(appError);
      }
    };

  app.get(
    base,
    handle((c, store, owner) => c.json({ workspaces: store.list(owner).map(shapeSummary) })),
  );
  app.get(
    `${base}/:name`,
    handle((c, store, owner) => c.json(shapeSummary(store.summary(owner, c.req.param('name') ?? '')))),
  );
  app.delete(
    `${base}/:name`,
    handle(async (c, store, owner) => {
      await store.remove(owner, c.req.param('name') ?? '');
      return c.body(null, 204);
    }),
  );
  app.post(
    `${base}/:name/syncs`,
    handle(async (c, store, owner) => {
      const manifest = await readJson(c.req.raw, deps.maxManifestBytes);
      const name = c.req.param('name') ?? '';
      const result = await store.beginSync(owner, name, manifest);
      if (result.unchanged) return c.json({ unchanged: true, workspace: shapeSummary(result.summary) });
      // A small delta may carry its contents: stored as an upload of them would be (same checks),
      // then, when asked and nothing is missing, committed in the same request.
      let missing = result.missing;
      if (result.inline.length > 0) {
        const frames = result.inline.flatMap((blob) => [
          frameHeader(blob.sha256, blob.data.length),
          blob.data,
        ]);
        deps.onBytes?.(result.inline.reduce((n, blob) => n + blob.data.length, 0));
        await store.upload(owner, name, result.syncId, single(Buffer.concat(frames)));
        const sent = new Set(result.inline.map((blob) => blob.sha256));
        missing = missing.filter((blob) => !sent.has(blob.sha256));
      }
      if (result.commit && missing.length === 0) {
        const committed = await store.commit(owner, name, result.syncId);
        return c.json({
          unchanged: false,
          committed: true,
          received: result.inline.length,
          workspace: shapeSummary(committed.summary),
          changed: committed.changed,
        });
      }
      let missingBytes = 0;
      for (const blob of missing) missingBytes += blob.size;
      return c.json(
        {
          unchanged: false,
          sync_id: result.syncId,
          missing,
          missing_bytes: missingBytes,
          limits: {
            max_batch_bytes: store.limits.maxBatchBytes,
            max_batch_files: store.limits.maxBatchFiles,
          },
        },
        201,
      );
    }),
  );
  app.put(
    `${base}/:name/syncs/:id/blobs`,
    handle(async (c, store, owner) => {
      // Node's request stream itself when served by @hono/node-server: the web stream wrapped
      // around it costs a promise and a copy per chunk, the main cost of a large upload after
      // the file system.
      const incoming = (c.env as Partial<AppEnv['Bindings']> | undefined)?.incoming;
      const source = (incoming ?? c.req.raw.body ?? []) as AsyncIterable<Uint8Array>;
      const body = counted(source, deps.onBytes);
      const result = await store.upload(owner, c.req.param('name') ?? '', c.req.param('id') ?? '', body);
      return c.json(result);
    }),
  );
  app.post(
    `${base}/:name/syncs/:id/commit`,
    handle(async (c, store, owner) => {
      const result = await store.commit(owner, c.req.param('name') ?? '', c.req.param('id') ?? '');
      return c.json({ workspace: shapeSummary(result.summary), changed: result.changed });
    }),
  );
  app.delete(
    `${base}/:name/syncs/:id`,
    handle(async (c, store, owner) => {
      await store.abort(owner, c.req.param('name') ?? '', c.req.param('id') ?? '');
      return c.body(null, 204);
    }),
  );
}
