import { McpServer } from '@modelcontextprotocol/server';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { RunStore } from '../runs/run-store.js';
import { serverInstructions } from './instructions.js';
import { registerRunListTool } from './run-list.js';
import { registerRunLogsTool } from './run-logs.js';
import { registerRunResources } from './run-resources.js';
import { registerRunStartTool } from './run-start.js';
import { registerRunStatusTool } from './run-status.js';
import { registerRunStopTool } from './run-stop.js';
import { registerRunTool } from './run.js';
import { registerWorkspaceListTool } from './workspace-list.js';
import { registerWorkspaceReadFileTool } from './workspace-read-file.js';
import { registerWorkspaceWriteFilesTool } from './workspace-write-files.js';
import type { WorkspaceStore } from '../workspace/workspace-store.js';
import type { KubeClient } from '../kube/client.js';
import type { Discovery } from '../kube/discovery.js';
import type { NamespacePolicy } from '../policy/namespaces.js';
import type { ClusterAuthorizer } from '../policy/cluster-authz.js';
import { registerListTargetsTool } from './list-targets.js';
import { registerServerInfoTool } from './server-info.js';

export interface ToolDeps {
  config: Config;
  logger: Logger;
  store: RunStore;
  kube: KubeClient;
  discovery: Discovery;
  policy: NamespacePolicy;
  env: NodeJS.ProcessEnv;
  defaultCwd: string;
  version: string;
  /** Undefined when workspaces are off (local mode). */
  workspaces: WorkspaceStore | undefined;
  /** Set with auth.subjectAccessReview. */
  authorizer?: ClusterAuthorizer | undefined;
}

/** The one server factory: every transport builds its McpServer here, so tools are transport-agnostic. */
export function createMcpServer(deps: ToolDeps): McpServer {
  const server = new McpServer(
    { name: 'mirrord-mcp-server', version: deps.version },
    { instructions: serverInstructions, capabilities: { tools: {}, resources: {} } },
  );
  registerRunTool(server, deps);
  registerRunStartTool(server, deps);
  registerRunStatusTool(server, deps);
  registerRunLogsTool(server, deps);
  registerRunStopTool(server, deps);
  registerRunListTool(server, deps);
  registerRunResources(server, deps);
  registerWorkspaceWriteFilesTool(server, deps);
  registerWorkspaceListTool(server, deps);
  registerWorkspaceReadFileTool(server, { ...deps, maxReadBytes: deps.config.workspaces.maxReadBytes });
  registerListTargetsTool(server, deps);
  registerServerInfoTool(server, deps);
  return server;
}
