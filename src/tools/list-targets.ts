import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { toAppError, type AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Discovery } from '../kube/discovery.js';
import type { TargetInfo } from '../kube/workloads.js';
import type { NamespacePolicy } from '../policy/namespaces.js';
import { callerPolicy } from './caller.js';
import { errorResult } from './run-result.js';

export interface ListTargetsToolDeps {
  discovery: Discovery;
  policy: NamespacePolicy;
  logger: Logger;
}

const kindSchema = z.enum(['deployment', 'rollout', 'statefulset', 'pod']);

export const listTargetsInputSchema = z.object({
  namespace: z.string().optional().describe('Namespace to list (default: the server default namespace)'),
  all_namespaces: z
    .boolean()
    .optional()
    .describe('List every namespace this server allows instead of one (ignores `namespace`)'),
  kind: kindSchema.optional().describe('Only this kind'),
  name: z.string().optional().describe('Only targets whose name contains this (case-insensitive)'),
  limit: z.number().int().min(1).max(1000).optional().describe('At most this many targets (default 100)'),
  offset: z.number().int().min(0).optional().describe('Skip this many matching targets (paging)'),
});

const targetSchema = z.object({
  kind: kindSchema,
  name: z.string(),
  namespace: z.string(),
  target: z
    .string()
    .describe('Pass this exact string to `run` as `target` (add /container/NAME to pick a container)'),
  requires_operator: z
    .boolean()
    .describe('True when mirrord needs its operator for this kind: `run` refuses it'),
  ready: z.number().int().describe('Ready replicas (pods: 1 when Ready)'),
  desired: z.number().int().describe('Desired replicas (pods: 1)'),
  containers: z.array(
    z.object({
      name: z.string(),
      ports: z.array(z.object({ port: z.number().int(), protocol: z.string(), name: z.string().optional() })),
    }),
  ),
  phase: z.string().optional().describe('Pods: Running, Pending, ...'),
  owner: z.string().optional().describe('Pods: the workload that owns it, e.g. deployment/api'),
  not_ready: z.string().optional().describe('Why it (or its first pod) is not ready, e.g. CrashLoopBackOff'),
});

export const listTargetsOutputSchema = z.object({
  namespaces: z.array(z.string()).describe('The namespaces listed'),
  total: z.number().int().describe('Targets matching the filters'),
  returned: z.number().int(),
  truncated: z
    .boolean()
    .describe('More targets match than were returned: narrow the filters or page with offset'),
  targets: z.array(targetSchema),
  from_cache: z.boolean().describe('Served from the watch cache (false: read from the API just now)'),
  warnings: z.array(z.string()),
  errors: z
    .array(z.object({ namespace: z.string(), code: z.string(), message: z.string() }))
    .describe('Namespaces that could not be read'),
});

export type ListTargetsOutput = z.infer<typeof listTargetsOutputSchema>;

function shape(info: TargetInfo): z.infer<typeof targetSchema> {
  return {
    kind: info.kind,
    name: info.name,
    namespace: info.namespace,
    target: info.target,
    requires_operator: info.requiresOperator,
    ready: info.ready,
    desired: info.desired,
    containers: info.containers,
    ...(info.phase !== undefined ? { phase: info.phase } : {}),
    ...(info.owner !== undefined ? { owner: info.owner } : {}),
    ...(info.notReady !== undefined ? { not_ready: info.notReady } : {}),
  };
}

function line(target: z.infer<typeof targetSchema>, showNamespace: boolean): string {
  const containers = target.containers
    .map((c) => (c.ports.length > 0 ? `${c.name}(${c.ports.map((p) => p.port).join(',')})` : c.name))
    .join(' ');
  const extras = [
    target.requires_operator ? 'needs operator' : '',
    target.owner ? `of ${target.owner}` : '',
    target.not_ready ? `not ready: ${target.not_ready}` : '',
  ].filter((x) => x !== '');
  return `${target.target}${showNamespace ? ` -n ${target.namespace}` : ''}  ${target.ready}/${target.desired} ready  [${containers}]${extras.length > 0 ? `  (${extras.join('; ')})` : ''}`;
}

/** The text for clients that read only `content`. */
export function summarizeTargets(output: ListTargetsOutput): string {
  const many = output.namespaces.length > 1;
  const head =
    output.total === 0
      ? `No targets in ${output.namespaces.join(', ') || 'any allowed namespace'}.`
      : `${output.total} target${output.total === 1 ? '' : 's'} in ${output.namespaces.join(', ')}` +
        `${output.truncated ? ` (showing ${output.returned}; narrow with kind/name or page with offset)` : ''}:`;
  return [
    head,
    ...output.targets.map((target) => line(target, many)),
    ...output.warnings.map((warning) => `warning: ${warning}`),
    ...output.errors.map((error) => `error in ${error.namespace}: ${error.code}: ${error.message}`),
  ].join('\n');
}

/** Registers `list_targets`: what `run` can target, with exact target strings. */
export function registerListTargetsTool(server: McpServer, deps: ListTargetsToolDeps): void {
  const { discovery, policy } = deps;
  server.registerTool(
    'list_targets',
    {
      title: 'List Kubernetes targets',
      description:
        'List what `run` can target in a namespace (or every allowed namespace): deployments, Argo rollouts, ' +
        'statefulsets and pods, each with ready/desired replicas, container names and ports, and the exact `target` ' +
        'string to pass to `run`. Call this instead of guessing a name. Filter by kind or name substring. Kinds marked ' +
        'requires_operator (statefulsets) cannot be used with `run`; target their pods instead.',
      inputSchema: listTargetsInputSchema,
      outputSchema: listTargetsOutputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args, ctx) => {
      try {
        const signal = ctx.mcpReq.signal;
        const mine = callerPolicy(ctx, policy);
        const warnings: string[] = [];
        let namespaces: string[];
        if (args.all_namespaces === true) {
          const listed = await discovery.namespaces(signal);
          namespaces = listed.names.filter((name) => mine.isAllowed(name));
          warnings.push(...listed.warnings);
        } else {
          namespaces = [mine.resolve(args.namespace)];
        }
        const needle = args.name?.toLowerCase();
        const matching: TargetInfo[] = [];
        const errors: { namespace: string; code: string; message: string }[] = [];
        let firstError: AppError | undefined;
        let fromCache = true;
        const listings = await Promise.all(
          namespaces.map(async (namespace) => {
            try {
              return { namespace, listing: await discovery.targets(namespace, signal) };
            } catch (error) {
              return { namespace, error: toAppError(error) };
            }
          }),
        );
        for (const entry of listings) {
          if ('error' in entry && entry.error) {
            firstError ??= entry.error;
            errors.push({ namespace: entry.namespace, code: entry.error.code, message: entry.error.message });
            continue;
          }
          const { listing } = entry as { listing: Awaited<ReturnType<Discovery['targets']>> };
          fromCache &&= listing.fromCache;
          warnings.push(...listing.warnings);
          for (const target of listing.targets) {
            if (args.kind !== undefined && target.kind !== args.kind) continue;
            if (needle !== undefined && !target.name.toLowerCase().includes(needle)) continue;
            matching.push(target);
          }
        }
        if (firstError && errors.length === namespaces.length) return errorResult(firstError);
        const offset = args.offset ?? 0;
        const limit = args.limit ?? 100;
        const page = matching.slice(offset, offset + limit).map(shape);
        const output: ListTargetsOutput = {
          namespaces,
          total: matching.length,
          returned: page.length,
          truncated: offset + page.length < matching.length,
          targets: page,
          from_cache: fromCache,
          warnings,
          errors,
        };
        return { content: [{ type: 'text', text: summarizeTargets(output) }], structuredContent: output };
      } catch (error) {
        const appError = toAppError(error);
        if (appError.code === 'INTERNAL')
          deps.logger.error({ err: error }, 'list_targets failed unexpectedly');
        return errorResult(appError);
      }
    },
  );
}
