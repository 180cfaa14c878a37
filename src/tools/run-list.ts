import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { callerOf } from './caller.js';
import type { RunToolDeps } from './run.js';

const outputSchema = z.object({
  runs: z.array(
    z.object({
      run_id: z.string(),
      status: z.enum(['running', 'finished']),
      phase: z.enum(['setup', 'mirrord', 'program']),
      target: z.string(),
      namespace: z.string(),
      command: z.string(),
      started_at: z.string(),
      ended_at: z.string().nullable(),
      exit_code: z.number().int().nullable(),
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
        'Your runs, running and recently finished (kept for a while), newest first, with their run_id.',
      outputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (ctx) => {
      const runs = deps.store
        .list(callerOf(ctx))
        .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())
        .map((record) => ({
          run_id: record.id,
          status: record.status,
          phase: record.phase,
          target: record.target,
          namespace: record.namespace,
          command: record.command.length > 200 ? `${record.command.slice(0, 200)}...` : record.command,
          started_at: record.startedAt.toISOString(),
          ended_at: record.endedAt?.toISOString() ?? null,
          exit_code: record.result?.exitCode ?? null,
        }));
      const text =
        runs.length === 0
          ? 'No runs.'
          : runs
              .map((run) => `${run.run_id}  ${run.status.padEnd(8)} ${run.target}  ${run.command}`)
              .join('\n');
      return { content: [{ type: 'text', text }], structuredContent: { runs } };
    },
  );
}
