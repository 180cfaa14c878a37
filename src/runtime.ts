import { createRequire } from 'node:module';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { createTempFiles, type TempFiles } from './mirrord/config-file.js';
import { GroupReaper, SpawnGate } from './mirrord/process-group.js';
import { RunRegistry } from './runs/registry.js';
import { createRunService, type RunService } from './runs/run-service.js';
import { createKubeClient, type KubeClient } from './kube/client.js';
import { createDiscovery, type Discovery } from './kube/discovery.js';
import { checkTarget } from './kube/resolve-target.js';
import { createNamespacePolicy, type NamespacePolicy } from './policy/namespaces.js';
import { createMcpServer } from './tools/create-mcp-server.js';
import type { McpServer } from '@modelcontextprotocol/server';

export interface Runtime {
  config: Config;
  logger: Logger;
  registry: RunRegistry;
  runs: RunService;
  tempFiles: TempFiles;
  reaper: GroupReaper;
  kube: KubeClient;
  policy: NamespacePolicy;
  discovery: Discovery;
  version: string;
  createServer: () => McpServer;
  /** Stops the watch caches. */
  close(): Promise<void>;
}

/** The Kubernetes side alone (also used by `doctor`, which serves no MCP). */
export function createKubeServices(
  config: Config,
  logger: Logger,
  env: NodeJS.ProcessEnv,
  options: { watch?: boolean } = {},
): { kube: KubeClient; policy: NamespacePolicy; discovery: Discovery } {
  const kube = createKubeClient({
    env,
    context: config.kube.context,
    requestTimeoutMs: config.kube.requestTimeoutMs,
  });
  const policy = createNamespacePolicy(config);
  const discovery = createDiscovery({ kube, policy, logger, watch: options.watch ?? config.kube.watch });
  if (kube.source === 'none') logger.warn({ problem: kube.problem }, 'no Kubernetes cluster configured');
  return { kube, policy, discovery };
}

/** The package version, from package.json (one level above src/ and dist/). */
export function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../package.json') as { version: string }).version;
}

/** Builds the services every transport shares. */
export async function createRuntime(
  config: Config,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Runtime> {
  const tempFiles = await createTempFiles(env.TMPDIR);
  const { kube, policy, discovery } = createKubeServices(config, logger, env);
  const registry = new RunRegistry(config.run.maxConcurrent);
  const reaper = new GroupReaper();
  const runs = createRunService({
    config,
    logger,
    registry,
    tempFiles,
    reaper,
    gate: new SpawnGate(),
    serverEnv: env,
    preflight: config.kube.checkTargets
      ? (target, namespace, signal) => checkTarget(discovery, target, namespace, signal)
      : undefined,
  });
  const version = packageVersion();
  const toolDeps = { config, logger, runs, kube, discovery, policy, env, defaultCwd: process.cwd(), version };
  return {
    config,
    logger,
    registry,
    runs,
    tempFiles,
    reaper,
    kube,
    policy,
    discovery,
    version,
    createServer: () => createMcpServer(toolDeps),
    close: () => discovery.close(),
  };
}
