import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Config } from '../config.js';
import { AppError, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { resolveCallTarget } from '../mirrord/target.js';
import type { NamespacePolicy } from '../policy/namespaces.js';
import { parseCallerConfig, parseCallerEnv } from '../policy/mirrord-config.js';
import type { RunService } from '../runs/run-service.js';
import { errorResult, runOutputSchema, shapeRunOutput, summarizeRun } from './run-result.js';

export interface RunToolDeps {
  config: Config;
  logger: Logger;
  runs: RunService;
  policy: NamespacePolicy;
  /** Working directory when a call names none. */
  defaultCwd: string;
}

export const runInputSchema = z.object({
  cmd_str: z
    .string({ error: 'cmd_str is required: the shell command to run, e.g. "npm test"' })
    .describe(
      'Shell command to run under mirrord, as with sh -c (e.g. "npm test", "curl -s localhost:8080/health")',
    ),
  deployment: z
    .string()
    .optional()
    .describe('Name of the deployment to run against (the original contract); use `target` for other kinds'),
  mirrord_config: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .optional()
    .describe(
      'mirrord config as a JSON object or a JSON string, e.g. {"feature":{"network":{"incoming":"mirror"},"fs":"read"}}. ' +
        'Server-decided keys (agent, kubeconfig, operator, target, ...) are refused',
    ),
  namespace: z
    .string()
    .optional()
    .describe('Kubernetes namespace of the target (default: the server default)'),
  target: z
    .string()
    .optional()
    .describe(
      'Target path instead of `deployment`: pod/NAME[/container/C], deployment/NAME[/container/C], rollout/NAME[/container/C] or targetless',
    ),
  cwd: z
    .string()
    .optional()
    .describe('Absolute working directory for the command (default: the server working directory)'),
  env: z
    .record(z.string(), z.string())
    .optional()
    .describe("Extra environment variables for the command; they win over the target pod's own values"),
  timeout_s: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Timeout in seconds for the mirrord run (capped by the server maximum)'),
  setup_cmd: z
    .string()
    .optional()
    .describe('A build or install step (e.g. "npm ci") run first in the same directory, without mirrord'),
  setup_timeout_s: z.number().int().positive().optional().describe('Timeout in seconds for setup_cmd'),
});

export type RunInput = z.infer<typeof runInputSchema>;

/** Registers `run`: the original prototype's tool, grown up. */
export function registerRunTool(server: McpServer, deps: RunToolDeps): void {
  const { runs } = deps;
  server.registerTool(
    'run',
    {
      title: 'Run a command under mirrord',
      description:
        "Run a shell command under `mirrord exec` against a Kubernetes workload: the process gets the target pod's " +
        'network (incoming traffic mirrored, outgoing requests and DNS through the cluster), environment and files, so ' +
        'you can see how your changed code behaves against the real service without deploying. Returns exit code, ' +
        'output (head and tail kept when large), timings and `phase`: "setup" (setup_cmd failed), "mirrord" (mirrord ' +
        'failed before your program started: read mirrord_error) or "program" (your command ran; a non-zero exit is ' +
        "your program's own result).",
      inputSchema: runInputSchema,
      outputSchema: runOutputSchema,
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    async (args, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      let progress = 0;
      const onProgress =
        progressToken === undefined
          ? undefined
          : ({ message }: { message: string }): void => {
              progress += 1;
              ctx.mcpReq
                .notify({ method: 'notifications/progress', params: { progressToken, progress, message } })
                .catch(() => undefined); // the client may be gone; the result still carries everything
            };
      try {
        const request = buildRequest(args, deps);
        const result = await runs.run(request, { signal: ctx.mcpReq.signal, onProgress });
        const output = shapeRunOutput(result);
        return {
          content: [{ type: 'text', text: summarizeRun(output) }],
          structuredContent: output,
          isError: output.phase !== 'program',
        };
      } catch (error) {
        const appError = toAppError(error);
        if (appError.code === 'INTERNAL') deps.logger.error({ err: error }, 'run failed unexpectedly');
        return errorResult(appError);
      }
    },
  );
}

function buildRequest(args: RunInput, deps: RunToolDeps): Parameters<RunService['run']>[0] {
  const { config } = deps;
  if (args.cmd_str.trim() === '') {
    throw new AppError('EMPTY_COMMAND', 'cmd_str is empty: there is no command to run');
  }
  const target = resolveCallTarget(args);
  const namespace = deps.policy.resolve(args.namespace);
  const callerConfig = parseCallerConfig(args.mirrord_config);
  const env = parseCallerEnv(args.env);
  const notes: string[] = [];
  let timeoutS = args.timeout_s ?? config.run.defaultTimeoutS;
  if (timeoutS > config.run.maxTimeoutS) {
    notes.push(`timeout_s ${timeoutS} was capped to the server maximum of ${config.run.maxTimeoutS}`);
    timeoutS = config.run.maxTimeoutS;
  }
  let setupTimeoutS = args.setup_timeout_s ?? config.run.setupTimeoutS;
  if (setupTimeoutS > config.run.maxTimeoutS) {
    notes.push(
      `setup_timeout_s ${setupTimeoutS} was capped to the server maximum of ${config.run.maxTimeoutS}`,
    );
    setupTimeoutS = config.run.maxTimeoutS;
  }
  const setupCommand =
    args.setup_cmd !== undefined && args.setup_cmd.trim() !== '' ? args.setup_cmd : undefined;
  return {
    command: args.cmd_str,
    target,
    namespace,
    callerConfig,
    env,
    cwd: args.cwd ?? deps.defaultCwd,
    timeoutMs: timeoutS * 1000,
    setupCommand,
    setupTimeoutMs: setupTimeoutS * 1000,
    notes,
  };
}
