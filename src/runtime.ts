import { createRequire } from 'node:module';
import { createAuthenticator, type Authenticator } from './auth/authenticator.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { createTempFiles, type TempFiles } from './mirrord/config-file.js';
import { GroupReaper, SpawnGate } from './mirrord/process-group.js';
import { RunRegistry } from './runs/registry.js';
import { createRunService, type RunService } from './runs/run-service.js';
import { RunStore } from './runs/run-store.js';
import { join } from 'node:path';
import { createMetrics, type Metrics } from './metrics.js';
import { locateExecutable } from './mirrord/locate.js';
import { createKubeClient, type KubeClient } from './kube/client.js';
import { createDiscovery, type Discovery } from './kube/discovery.js';
import { checkTarget } from './kube/resolve-target.js';
import { createClusterAuthorizer } from './policy/cluster-authz.js';
import { createNamespacePolicy, type NamespacePolicy } from './policy/namespaces.js';
import { createMcpServer } from './tools/create-mcp-server.js';
import type { McpServer } from '@modelcontextprotocol/server';
import { startSweeper, sweepIntervalMs } from './workspace/sweeper.js';
import { createWorkspaceStore, type WorkspaceStore } from './workspace/workspace-store.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  registry: RunRegistry;
  runs: RunService;
  store: RunStore;
  metrics: Metrics;
  /** The HTTP layer tells the metrics how many sessions it holds. */
  countSessions: { by: (transport: 'sse' | 'streamable-http') => number };
  tempFiles: TempFiles;
  reaper: GroupReaper;
  kube: KubeClient;
  policy: NamespacePolicy;
  discovery: Discovery;
  version: string;
  /** The workspace store; undefined when workspaces are off (local mode). */
  workspaces: WorkspaceStore | undefined;
  createServer: () => McpServer;
  /** Verifies HTTP callers (static tokens, OIDC, TokenReview); anonymous when none is configured. */
  authenticator: Authenticator;
  /** Stops background work (the workspace sweeper) and removes logs and temp files. */
  dispose(): Promise<void>;
  /** Reasons the server cannot serve runs now (mirrord missing, ...); empty when ready. */
  notReady: () => Promise<string[]>;
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
  // Before anything else starts: a broken tokens file stops start-up here.
  const authenticator = createAuthenticator(config.auth, { kube, logger });
  const registry = new RunRegistry({
    maxConcurrent: config.run.maxConcurrent,
    maxPerIdentity: config.run.maxPerIdentity,
    maxQueued: config.run.maxQueued,
    timeoutMs: config.run.queueTimeoutS * 1000,
  });
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
  const countSessions: Runtime['countSessions'] = { by: () => 0 };
  const metrics = createMetrics({
    activeRuns: () => registry.size,
    queuedRuns: () => registry.queued,
    sessions: (transport) => countSessions.by(transport),
  });
  const store = new RunStore(runs, {
    dir: join(tempFiles.dir, 'runs'),
    maxLogBytes: config.run.maxLogBytes,
    retainMs: config.run.retainS * 1000,
    logger,
    metrics,
  });
  const version = packageVersion();
  let workspaces: WorkspaceStore | undefined;
  let sweeper: { stop(): Promise<void> } | undefined;
  const { dataDir } = config.workspaces;
  if (dataDir !== undefined) {
    workspaces = createWorkspaceStore({ dataDir, limits: config.workspaces, logger });
    await workspaces.open();
    sweeper = startSweeper(
      workspaces,
      sweepIntervalMs(config.workspaces.idleTtlS, config.workspaces.syncIdleTimeoutS),
      logger,
    );
  }
  const toolDeps = {
    authorizer: config.auth.subjectAccessReview ? createClusterAuthorizer(kube) : undefined,
    config,
    logger,
    store,
    workspaces,
    kube,
    discovery,
    policy,
    env,
    defaultCwd: process.cwd(),
    version,
  };
  return {
    config,
    logger,
    registry,
    runs,
    store,
    metrics,
    countSessions,
    tempFiles,
    reaper,
    kube,
    authenticator,
    policy,
    discovery,
    version,
    workspaces,
    createServer: () => createMcpServer(toolDeps),
    dispose: async () => {
      await sweeper?.stop();
      await discovery.close();
      store.dispose();
      await tempFiles.dispose();
    },
    notReady: cachedReadiness(async () => {
      const reasons: string[] = [];
      try {
        await locateExecutable(config.mirrordBin, env.PATH);
      } catch (error) {
        reasons.push((error as Error).message);
      }
      // Runs need the cluster (mirrord reaches its agent through the API server).
      if (kube.source === 'none') {
        if (config.kube.checkTargets)
          reasons.push(`no Kubernetes cluster configured: ${kube.problem ?? 'unknown'}`);
      } else {
        try {
          await kube.request({ verb: 'get', resource: 'version' }, (options) =>
            kube.versionApi.getCode({}, options),
          );
        } catch (error) {
          reasons.push(`the Kubernetes API is unavailable: ${(error as Error).message}`);
        }
      }
      return reasons;
    }),
  };
}

/** Readiness probes come every few seconds: answer from a result at most 5 s old. */
function cachedReadiness(check: () => Promise<string[]>, maxAgeMs = 5000): () => Promise<string[]> {
  let last: { at: number; value: Promise<string[]> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > maxAgeMs) last = { at: Date.now(), value: check() };
    return last.value;
  };
}
