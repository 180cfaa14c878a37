import { McpServer } from '@modelcontextprotocol/server';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { RunService } from '../runs/run-service.js';
import { serverInstructions } from './instructions.js';
import { registerRunTool } from './run.js';
import { registerWorkspaceListTool } from './workspace-list.js';
import { registerWorkspaceReadFileTool } from './workspace-read-file.js';
import { registerWorkspaceWriteFilesTool } from './workspace-write-files.js';
import type { WorkspaceStore } from '../workspace/workspace-store.js';

export interface ToolDeps {
  config: Config;
  logger: Logger;
  runs: RunService;
  defaultCwd: string;
  version: string;
  /** Undefined when workspaces are off (local mode). */
  workspaces: WorkspaceStore | undefined;
}

/** The one server factory: every transport builds its McpServer here, so tools are transport-agnostic. */
export function createMcpServer(deps: ToolDeps): McpServer {
  const server = new McpServer(
    { name: 'mirrord-mcp-server', version: deps.version },
    { instructions: serverInstructions, capabilities: { tools: {} } },
  );
  registerRunTool(server, deps);
  registerWorkspaceWriteFilesTool(server, deps);
  registerWorkspaceListTool(server, deps);
  registerWorkspaceReadFileTool(server, { ...deps, maxReadBytes: deps.config.workspaces.maxReadBytes });
  return server;
}
