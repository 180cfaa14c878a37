import type { WireDelta, WireManifest } from '../workspace/manifest.js';

/** A refusal from the server (its error code, message and hint) or a transport failure. */
export class SyncError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number | undefined,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'SyncError';
  }
}

export interface RemoteWorkspace {
  name: string;
  files: number;
  bytes: number;
  digest: string | null;
  tree_id: string | null;
}

export type BeginResponse =
  | { unchanged: true; workspace: RemoteWorkspace }
  /** A delta that carried every blob it needed and asked to commit: done in one request. */
  | {
      unchanged: false;
      committed: true;
      received: number;
      workspace: RemoteWorkspace;
      changed: { added: number; updated: number; removed: number };
    }
  | {
      unchanged: false;
      sync_id: string;
      missing: { sha256: string; size: number }[];
      missing_bytes: number;
      limits: { max_batch_bytes: number; max_batch_files: number };
    };

export interface CommitResponse {
  workspace: RemoteWorkspace;
  changed: { added: number; updated: number; removed: number };
}

export interface SyncClient {
  /** The workspace, or undefined when it does not exist yet. */
  get(): Promise<RemoteWorkspace | undefined>;
  /** Starts a sync from a whole manifest, or from a delta (BASE_MISMATCH: send the manifest). */
  begin(manifest: WireManifest | WireDelta): Promise<BeginResponse>;
  upload(syncId: string, body: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<void>;
  commit(syncId: string): Promise<CommitResponse>;
  abort(syncId: string): Promise<void>;
}

interface Answer {
  status: number;
  text: string;
}

type Body = string | AsyncIterable<Uint8Array> | undefined;

/**
 * One HTTP request with node:http(s). Not fetch: its first call loads undici, 65-75 ms of the
 * 2-core bench machine's time, more than a whole no-change sync should take.
 */
async function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Body,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise<Answer>((resolve, reject) => {
    let bodyError: Error | undefined;
    // An object, not a let: it changes in callbacks, which the type checker's narrowing does not see.
    const state = { answered: false };
    let wakeWriter: (() => void) | undefined;
    const req = request(url, { method, headers, ...(signal ? { signal } : {}) }, (res) => {
      // An early answer (a refusal mid-upload) wins over writing the rest of the body.
      state.answered = true;
      wakeWriter?.();
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', reject);
      res.once('end', () => {
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.once('error', (error) => {
      if (bodyError !== undefined) reject(bodyError);
      else if (signal?.aborted) reject(error);
      else if (!state.answered) reject(new NetworkError(error));
    });
    if (body === undefined || typeof body === 'string') {
      req.end(body);
      return;
    }
    // Streamed with backpressure; a failing body (a file changed under us) fails the request with its own error.
    void (async () => {
      for await (const chunk of body) {
        if (state.answered) return;
        if (!req.write(chunk)) {
          await new Promise<void>((drained) => {
            wakeWriter = drained;
            req.once('drain', drained);
          });
        }
      }
      if (!state.answered) req.end();
    })().catch((error: unknown) => {
      bodyError = error instanceof Error ? error : new Error(String(error));
      req.destroy(bodyError);
    });
  });
}

/** The connection failed (refused, reset, DNS, TLS): the server did not answer. */
class NetworkError extends Error {
  constructor(readonly original: Error) {
    super(original.message);
  }
}

/** The sync protocol over HTTP (see src/server/sync-routes.ts for the routes). */
export function createSyncClient(options: {
  url: string;
  workspace: string;
  token?: string | undefined;
}): SyncClient {
  const base = `${options.url.replace(/\/+$/, '')}/workspaces/${encodeURIComponent(options.workspace)}`;
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  async function call(
    path: string,
    method: string,
    init: { headers?: Record<string, string>; body?: Body; signal?: AbortSignal | undefined } = {},
  ): Promise<string> {
    let answer: Answer;
    try {
      answer = await send(
        new URL(`${base}${path}`),
        method,
        { ...auth, ...init.headers },
        init.body,
        init.signal,
      );
    } catch (error) {
      // Anything else (a file that changed while it was read, an abort) is not a network fault.
      if (!(error instanceof NetworkError)) throw error;
      throw new SyncError(`cannot reach ${options.url}: ${error.message}`, 'UNREACHABLE', undefined);
    }
    if (answer.status >= 200 && answer.status < 300) return answer.text;
    let body: { error?: { code?: string; message?: string; hint?: string } } = {};
    try {
      body = JSON.parse(answer.text) as typeof body;
    } catch {
      // not our JSON (a proxy, or a server without the sync API)
    }
    const code = body.error?.code ?? `HTTP_${answer.status}`;
    const message =
      body.error?.message ??
      `${method} ${path || '/'} answered ${answer.status} ${answer.text.slice(0, 200)}`;
    throw new SyncError(message, code, answer.status, body.error?.hint);
  }

  return {
    async get() {
      try {
        return JSON.parse(await call('', 'GET')) as RemoteWorkspace;
      } catch (error) {
        if (error instanceof SyncError && error.code === 'WORKSPACE_NOT_FOUND') return undefined;
        throw error;
      }
    },
    async begin(manifest) {
      const text = await call('/syncs', 'POST', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(manifest),
      });
      return JSON.parse(text) as BeginResponse;
    },
    async upload(syncId, body, signal) {
      await call(`/syncs/${syncId}/blobs`, 'PUT', {
        headers: { 'content-type': 'application/octet-stream' },
        body,
        signal,
      });
    },
    async commit(syncId) {
      return JSON.parse(await call(`/syncs/${syncId}/commit`, 'POST')) as CommitResponse;
    },
    async abort(syncId) {
      await call(`/syncs/${syncId}`, 'DELETE').catch(() => undefined);
    },
  };
}
