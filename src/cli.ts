#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Config } from './config.js';
import type { startHttpServer } from './server/http-server.js';

// Only types above: each subcommand imports what it needs, so that `sync` (a client on the user's
// machine) does not load the server, the Kubernetes client and the MCP SDK before it starts.
const usage = (
  configKeys: readonly { env: string; path: readonly string[] }[],
): string => `mirrord-mcp-server: run commands under mirrord against a Kubernetes workload, over MCP.

Usage: mirrord-mcp-server [options]
       mirrord-mcp-server sync [DIR] --url URL --workspace NAME [--token TOKEN] [--watch]
                            (sends a project to a workspace; sync --help for more)
       mirrord-mcp-server doctor [--config FILE] [--namespace NS] [--json] [--mirrord-bin PATH]
                            (doctor --help for more)

  doctor               check mirrord, the cluster, the server's identity and the permissions mirrord
                       needs per allowed namespace; prints a fix for each failing line and exits 1
                       when a required check fails (--namespace: check only that namespace)

Options:
  --host HOST          address to listen on (default 127.0.0.1)
  --port PORT          port to listen on (default 3000)
  --base-path PATH     public path prefix, e.g. /mirrord behind an ingress (default none)
  --config FILE        YAML or JSON config file
  --stdio              serve MCP on stdin/stdout instead of HTTP
  --mirrord-bin PATH   mirrord executable (default: mirrord on PATH)
  --namespace NS       default namespace (default "default")
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (default info)
  -h, --help           show this help
  -v, --version        print the version

Every option can also be set in the config file or as an environment variable:
${configKeys.map((key) => `  ${key.env.padEnd(38)} ${key.path.join('.')}`).join('\n')}
  MIRRORD_MCP_CONFIG                     config file path
`;

function parseFlags(argv: string[]): {
  flags: Record<string, unknown>;
  file?: string | undefined;
  help: boolean;
  version: boolean;
} {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'base-path': { type: 'string' },
      config: { type: 'string' },
      stdio: { type: 'boolean' },
      'mirrord-bin': { type: 'string' },
      namespace: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  const flags: Record<string, unknown> = {};
  if (values.host !== undefined) flags.host = values.host;
  if (values.port !== undefined) flags.port = values.port;
  if (values['base-path'] !== undefined) flags.basePath = values['base-path'];
  if (values.stdio !== undefined) flags.stdio = values.stdio;
  if (values['mirrord-bin'] !== undefined) flags.mirrordBin = values['mirrord-bin'];
  if (values.namespace !== undefined) flags.defaultNamespace = values.namespace;
  if (values['log-level'] !== undefined) flags.logLevel = values['log-level'];
  return { flags, file: values.config, help: values.help === true, version: values.version === true };
}

/**
 * The sync client: the one-file bundle `npm run build` makes (the `mirrord-mcp-server` command,
 * dist/bin.cjs, loads it directly), else the modules themselves (`npm run dev` runs the sources).
 */
async function syncCommand(): Promise<typeof import('./sync/sync-command.js')> {
  const bundle = fileURLToPath(new URL('./sync/sync-command.cjs', import.meta.url));
  if (!existsSync(bundle)) return import('./sync/sync-command.js');
  return createRequire(import.meta.url)(bundle) as typeof import('./sync/sync-command.js');
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'sync') {
    const { runSyncCommand } = await syncCommand();
    return runSyncCommand(argv.slice(1));
  }
  if (argv[0] === 'doctor') {
    const { doctorCommand } = await import('./doctor/command.js');
    return doctorCommand(argv.slice(1), process.env, process.stdout);
  }
  const { configKeys, isLoopbackHost, loadConfig } = await import('./config.js');
  const { AppError } = await import('./errors.js');
  const { packageVersion } = await import('./runtime.js');
  let parsed: ReturnType<typeof parseFlags>;
  let config: Config;
  try {
    parsed = parseFlags(argv);
    if (parsed.help) {
      process.stdout.write(usage(configKeys));
      return 0;
    }
    if (parsed.version) {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    config = loadConfig({ file: parsed.file, env: process.env, flags: parsed.flags });
  } catch (error) {
    const message = error instanceof AppError ? error.message : (error as Error).message;
    process.stderr.write(`mirrord-mcp-server: ${message}\nRun with --help for the options.\n`);
    return 2;
  }

  const { createLogger } = await import('./logger.js');
  const { createRuntime } = await import('./runtime.js');
  const logger = createLogger(config.logLevel);
  const runtime = await createRuntime(config, logger);

  if (config.stdio) {
    const { startStdio } = await import('./server/stdio.js');
    const { handle, closed } = startStdio(runtime);
    const stop = async (reason: string): Promise<void> => {
      logger.info({ reason }, 'shutting down');
      await runtime.registry.drain(config.drainTimeoutS * 1000);
      await runtime.registry.shutdown();
      await runtime.reaper.idle();
      await handle.close();
      await runtime.dispose();
    };
    await Promise.race([closed, signalled()]).then((reason) => stop(reason ?? 'stdin closed'));
    return 0;
  }

  if (!isLoopbackHost(config.host)) {
    logger.warn(
      { host: config.host },
      'listening beyond loopback: anyone who reaches this port can run commands',
    );
  }
  const http = await import('./server/http-server.js');
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    server = await http.startHttpServer(runtime);
  } catch (error) {
    logger.fatal({ err: error }, `cannot listen on ${config.host}:${config.port}`);
    await runtime.dispose();
    return 1;
  }
  const reason = await signalled();
  await server.shutdown(reason);
  return 0;
}

/** Resolves with the name of the first SIGINT or SIGTERM. */
function signalled(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`mirrord-mcp-server: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
