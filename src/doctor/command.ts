import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { AppError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createKubeServices, packageVersion } from '../runtime.js';
import { renderDoctor } from './render.js';
import { runDoctor } from './run-doctor.js';

export const doctorUsage = `Usage: mirrord-mcp-server doctor [--config FILE] [--namespace NS] [--json] [--mirrord-bin PATH]

Checks mirrord, the cluster, the server's own identity and the permissions mirrord needs in each
allowed namespace (at most 10), and prints a fix for every failing line. Reads the same
configuration (config file, MIRRORD_MCP_* environment) as the server.
Exits 0 when every required check passed, 1 when one failed, 2 on bad usage or configuration.

Options:
  --config FILE        YAML or JSON config file
  --namespace NS       check only this namespace
  --json               print the report as JSON
  --mirrord-bin PATH   mirrord executable (default: mirrord on PATH)
  -h, --help           show this help
`;

/**
 * `mirrord-mcp-server doctor`: the same checks as the server_info tool, for a terminal or CI.
 * Exit 0 = every required check passed (or --help), 1 = something is wrong, 2 = bad usage or configuration.
 */
export async function doctorCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let values: { config?: string; namespace?: string; json?: boolean; 'mirrord-bin'?: string; help?: boolean };
  let config;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        namespace: { type: 'string' },
        json: { type: 'boolean' },
        'mirrord-bin': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
    if (values.help === true) {
      out.write(doctorUsage);
      return 0;
    }
    config = loadConfig({
      file: values.config,
      env,
      flags: values['mirrord-bin'] !== undefined ? { mirrordBin: values['mirrord-bin'] } : {},
    });
  } catch (error) {
    const message = error instanceof AppError ? error.message : (error as Error).message;
    err.write(`mirrord-mcp-server doctor: ${message}\nRun doctor --help for the options.\n`);
    return 2;
  }
  const logger = createLogger('silent');
  const { kube, policy, discovery } = createKubeServices(config, logger, env, { watch: false });
  try {
    const report = await runDoctor(
      { config, kube, policy, discovery, env, version: packageVersion() },
      { namespace: values.namespace },
    );
    out.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderDoctor(report)}\n`);
    return report.ok ? 0 : 1;
  } catch (error) {
    const message =
      error instanceof AppError ? `${error.code}: ${error.message}\n${error.hint}` : String(error);
    err.write(`mirrord-mcp-server doctor: ${message}\n`);
    return 1;
  } finally {
    await discovery.close();
  }
}
