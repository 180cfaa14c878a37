import type { WireManifest } from '../workspace/manifest.js';

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
  begin(manifest: WireManifest): Promise<BeginResponse>;
  upload(syncId: string, body: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<void>;
  commit(syncId: string): Promise<CommitResponse>;
  abort(syncId: string): Promise<void>;
}

/** The sync protocol over fetch (see src/server/sync-routes.ts for the routes). */
export function createSyncClient(options: {
  url: string;
  workspace: string;
  token?: string | undefined;
}): SyncClient {
  const base = `${options.url.replace(/\/+$/, '')}/workspaces/${encodeURIComponent(options.workspace)}`;
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  async function call(path: string, init: RequestInit & { duplex?: 'half' }): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        ...init,
        headers: { ...headers, ...(init.headers as Record<string, string>) },
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new SyncError(
        `cannot reach ${options.url}: ${cause ?? (error as Error).message}`,
        'UNREACHABLE',
        undefined,
      );
    }
    if (response.ok) return response;
    const text = await response.text();
    let body: { error?: { code?: string; message?: string; hint?: string } } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not our JSON (a proxy, or a server without the sync API)
    }
    const code = body.error?.code ?? `HTTP_${response.status}`;
    const message =
      body.error?.message ??
      `${init.method ?? 'GET'} ${path || '/'} answered ${response.status} ${text.slice(0, 200)}`;
    throw new SyncError(message, code, response.status, body.error?.hint);
  }

  return {
    async get() {
      try {
        return (await (await call('', { method: 'GET' })).json()) as RemoteWorkspace;
      } catch (error) {
        if (error instanceof SyncError && error.code === 'WORKSPACE_NOT_FOUND') return undefined;
        throw error;
      }
    },
    async begin(manifest) {
      const response = await call('/syncs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(manifest),
      });
      return (await response.json()) as BeginResponse;
    },
    async upload(syncId, body, signal) {
      const response = await call(`/syncs/${syncId}/blobs`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body,
        duplex: 'half',
        ...(signal ? { signal } : {}),
      });
      await response.arrayBuffer();
    },
    async commit(syncId) {
      return (await (await call(`/syncs/${syncId}/commit`, { method: 'POST' })).json()) as CommitResponse;
    },
    async abort(syncId) {
      await call(`/syncs/${syncId}`, { method: 'DELETE' }).catch(() => undefined);
    },
  };
}
