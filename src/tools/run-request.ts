import * as z from 'zod';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { resolveCallTarget } from '../mirrord/target.js';
import { applyCallerRules } from '../policy/caller-config.js';
import { parseCallerConfig, parseCallerEnv } from '../policy/mirrord-config.js';
import { rulesFor } from '../policy/namespace-rules.js';
import type { RunRequest } from '../runs/run-service.js';

/** The arguments of `run` and `run_start`. */
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
  workspace: z
    .string()
    .optional()
    .describe(
      'Workspace to run in (synced with `mirrord-mcp-server sync` or written with workspace_write_files); required when the server has workspaces',
    ),
  cwd: z
    .string()
    .optional()
    .describe(
      'Working directory: relative to the workspace root with `workspace` (default: the root); without workspaces, an absolute server path (default: the server working directory)',
    ),
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

/** Validates a call's arguments into a run request; bad input throws an AppError and spawns nothing. */
export function buildRequest(
  args: RunInput,
  config: Config,
  defaultCwd: string,
  options: {
    workspacesOn: boolean;
    /** The namespace policy: the default when none is given, refusal outside the allowed ones. */
    resolveNamespace: (namespace: string | undefined) => string;
  },
): RunRequest {
  const { workspacesOn } = options;
  if (args.cmd_str.trim() === '') {
    throw new AppError('EMPTY_COMMAND', 'cmd_str is empty: there is no command to run');
  }
  if (!workspacesOn && args.workspace !== undefined) {
    throw new AppError(
      'WORKSPACES_DISABLED',
      `workspace ${JSON.stringify(args.workspace)} was given, but this server has no workspaces (workspaces.dataDir is unset)`,
    );
  }
  const target = resolveCallTarget(args);
  const namespace = options.resolveNamespace(args.namespace);
  const callerConfig = applyCallerRules(
    parseCallerConfig(args.mirrord_config),
    rulesFor(config, namespace),
    namespace,
  );
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
    cwd: args.cwd ?? defaultCwd,
    timeoutMs: timeoutS * 1000,
    setupCommand,
    setupTimeoutMs: setupTimeoutS * 1000,
    notes,
  };
}
