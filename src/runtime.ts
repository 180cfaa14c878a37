import { createRequire } from 'node:module';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { createTempFiles, type TempFiles } from './mirrord/config-file.js';
import { GroupReaper, SpawnGate } from './mirrord/process-group.js';
import { RunRegistry } from './runs/registry.js';
import { createRunService, type RunService } from './runs/run-service.js';
import { createMcpServer } from './tools/create-mcp-server.js';
import type { McpServer } from '@modelcontextprotocol/server';
import { startSweeper, sweepIntervalMs } from './workspace/sweeper.js';
import { createWorkspaceStore, type WorkspaceStore } from './workspace/workspace-store.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  registry: RunRegistry;
  runs: RunService;
  tempFiles: TempFiles;
  reaper: GroupReaper;
  version: string;
  /** The workspace store; undefined when workspaces are off (local mode). */
  workspaces: WorkspaceStore | undefined;
  createServer: () => McpServer;
  /** Stops background work (the workspace sweeper) and removes temp files. */
  dispose(): Promise<void>;
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
  const toolDeps = { config, logger, runs, workspaces, defaultCwd: process.cwd(), version };
  return {
    config,
    logger,
    registry,
    runs,
    tempFiles,
    reaper,
    version,
    workspaces,
    createServer: () => createMcpServer(toolDeps),
    dispose: async () => {
      await sweeper?.stop();
      await tempFiles.dispose();
    },
  };
}
