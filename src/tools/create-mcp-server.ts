import { McpServer } from '@modelcontextprotocol/server';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { KubeClient } from '../kube/client.js';
import type { Discovery } from '../kube/discovery.js';
import type { NamespacePolicy } from '../policy/namespaces.js';
import type { RunService } from '../runs/run-service.js';
import { serverInstructions } from './instructions.js';
import { registerListTargetsTool } from './list-targets.js';
import { registerRunTool } from './run.js';
import { registerServerInfoTool } from './server-info.js';

export interface ToolDeps {
  config: Config;
  logger: Logger;
  runs: RunService;
  kube: KubeClient;
  discovery: Discovery;
  policy: NamespacePolicy;
  env: NodeJS.ProcessEnv;
  defaultCwd: string;
  version: string;
}

/** The one server factory: every transport builds its McpServer here, so tools are transport-agnostic. */
export function createMcpServer(deps: ToolDeps): McpServer {
  const server = new McpServer(
    { name: 'mirrord-mcp-server', version: deps.version },
    { instructions: serverInstructions, capabilities: { tools: {} } },
  );
  registerRunTool(server, deps);
  registerListTargetsTool(server, deps);
  registerServerInfoTool(server, deps);
  return server;
}
