import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { renderDoctor } from '../doctor/render.js';
import { runDoctor, type DoctorDeps } from '../doctor/run-doctor.js';
import { narrowForCaller } from '../policy/namespaces.js';
import { callerIdentity } from './caller.js';
import { errorResult } from './run-result.js';

export interface ServerInfoToolDeps extends DoctorDeps {
  logger: Logger;
}

const checkSchema = z.object({
  level: z.enum(['ok', 'warn', 'fail']),
  check: z.string(),
  detail: z.string(),
  fix: z.string().optional().describe('What to do about a warn or fail line'),
  namespace: z.string().optional(),
});

export const serverInfoOutputSchema = z.object({
  ok: z.boolean().describe('False when a required check failed: `run` will not work until it is fixed'),
  server_version: z.string(),
  mirrord: z.object({
    path: z.string().nullable(),
    version: z.string().nullable(),
    error: z.string().nullable(),
  }),
  cluster: z.object({
    source: z.enum(['in-cluster', 'kubeconfig', 'none']),
    server: z.string().nullable(),
    context: z.string().nullable(),
    reachable: z.boolean(),
    version: z.string().nullable(),
    error: z.string().nullable(),
  }),
  identity: z.object({ username: z.string(), groups: z.array(z.string()) }).nullable(),
  default_namespace: z.string(),
  allowed_namespaces: z
    .array(z.string())
    .describe('namespaces you may use (names or globs): namespaces.allowed, narrowed by your credential'),
  caller: z.string().describe('who the server knows you as ("anonymous" while authentication is off)'),
  namespaces: z.array(z.string()).describe('The namespaces checked'),
  agent_namespace: z.string().nullable(),
  checks: z.array(checkSchema),
  caches: z
    .array(z.object({ namespace: z.string(), kinds: z.record(z.string(), z.string()) }))
    .describe('State of the watch caches per namespace'),
});

/** Registers `server_info`: the doctor report as a tool. */
export function registerServerInfoTool(server: McpServer, deps: ServerInfoToolDeps): void {
  server.registerTool(
    'server_info',
    {
      title: 'Server and cluster diagnostics',
      description:
        'Check whether `run` can work, and why not: mirrord found and its version, the cluster reachable and its ' +
        "version, the server's Kubernetes identity, each permission mirrord needs per allowed namespace, and whether " +
        'the agent namespace admits privileged pods. Every failing line has a concrete fix. Call it when a run fails ' +
        'with a Kubernetes error, or first in a new setup. Pass `namespace` to check just that one.',
      inputSchema: z.object({
        namespace: z
          .string()
          .optional()
          .describe('Check only this namespace (default: the allowed namespaces)'),
      }),
      outputSchema: serverInfoOutputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args, ctx) => {
      try {
        const caller = callerIdentity(ctx);
        const policy = narrowForCaller(deps.policy, caller);
        const report = await runDoctor(
          { ...deps, policy },
          { namespace: args.namespace, signal: ctx.mcpReq.signal },
        );
        return {
          content: [{ type: 'text', text: renderDoctor(report) }],
          structuredContent: {
            ok: report.ok,
            server_version: report.serverVersion,
            mirrord: report.mirrord,
            cluster: report.cluster,
            identity: report.identity,
            default_namespace: policy.defaultNamespace,
            allowed_namespaces: [...policy.patterns],
            caller: caller.subject,
            namespaces: report.namespaces,
            agent_namespace: report.agentNamespace,
            checks: report.checks,
            caches: deps.discovery.cacheStatus(),
          },
        };
      } catch (error) {
        const appError = toAppError(error);
        if (appError.code === 'INTERNAL')
          deps.logger.error({ err: error }, 'server_info failed unexpectedly');
        return errorResult(appError);
      }
    },
  );
}
