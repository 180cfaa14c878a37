import { AppError } from '../errors.js';
import { ownerOf, type CallerAuth } from '../workspace/owner.js';
import type { WorkspaceStore } from '../workspace/workspace-store.js';

export interface WorkspaceToolDeps {
  /** Undefined when workspaces are off (workspaces.dataDir unset). */
  workspaces: WorkspaceStore | undefined;
}

export function requireStore(store: WorkspaceStore | undefined): WorkspaceStore {
  if (!store) {
    throw new AppError(
      'WORKSPACES_DISABLED',
      'this server has no workspaces (workspaces.dataDir is unset); commands run in server directories',
    );
  }
  return store;
}

/** The caller's owner identity from a tool call's transport context. */
export function callerOwner(ctx: { http?: { authInfo?: CallerAuth | undefined } | undefined }): string {
  return ownerOf(ctx.http?.authInfo);
}

export const workspaceNameDescription =
  'Workspace name (as given to `mirrord-mcp-server sync --workspace NAME` or created by workspace_write_files)';
