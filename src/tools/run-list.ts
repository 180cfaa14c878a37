import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { callerOf } from './caller.js';
import type { RunToolDeps } from './run.js';

const outputSchema = z.object({
  runs: z.array(
    z.object({
      run_id: z.string(),
      status: z.enum(['queued', 'running', 'finished']),
      phase: z.enum(['setup', 'mirrord', 'program']),
      target: z.string(),
      namespace: z.string(),
      command: z.string(),
      queued_at: z.string().describe('When it was asked for'),
      started_at: z
        .string()
        .nullable()
        .describe('When it started; null while queued or when it never started'),
      ended_at: z.string().nullable(),
      exit_code: z.number().int().nullable(),
      queue: z
        .object({ position: z.number().int(), queued: z.number().int(), waiting_for: z.string() })
        .nullable()
        .describe('While queued: where it waits and for what'),
      error: z
        .string()
        .nullable()
        .describe('The error code that ended it before it started, e.g. QUEUE_TIMEOUT'),
    }),
  ),
});

/** `run_list`: the caller's runs, running and recently finished. */
export function registerRunListTool(server: McpServer, deps: RunToolDeps): void {
  server.registerTool(
    'run_list',
    {
      title: 'List your runs',
      description:
        'Your runs, queued, running and recently finished (kept for a while), newest first, with their run_id.',
      outputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (ctx) => {
      const runs = deps.store
        .list(callerOf(ctx))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
        .map((record) => {
          const queue = record.queued();
          return {
            run_id: record.id,
            status: record.status,
            phase: record.phase,
            target: record.target,
            namespace: record.namespace,
            command: record.command.length > 200 ? `${record.command.slice(0, 200)}...` : record.command,
            queued_at: record.createdAt.toISOString(),
            started_at: record.startedAt?.toISOString() ?? null,
            ended_at: record.endedAt?.toISOString() ?? null,
            exit_code: record.result?.exitCode ?? null,
            queue: queue
              ? { position: queue.position, queued: queue.queued, waiting_for: queue.waitingFor }
              : null,
            error: record.result ? null : (record.error?.code ?? null),
          };
        });
      const text =
        runs.length === 0
          ? 'No runs.'
          : runs
              .map(
                (run) =>
                  `${run.run_id}  ${run.status.padEnd(8)} ${run.target}  ${run.command}` +
                  (run.queue
                    ? `  (position ${run.queue.position}, waiting for ${run.queue.waiting_for})`
                    : '') +
                  (run.error ? `  (${run.error})` : ''),
              )
              .join('\n');
      return { content: [{ type: 'text', text }], structuredContent: { runs } };
    },
  );
}
