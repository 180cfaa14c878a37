import { AppError } from '../errors.js';
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

export const workspaceNameDescription =
  'Workspace name (as given to `mirrord-mcp-server sync --workspace NAME` or created by workspace_write_files)';
