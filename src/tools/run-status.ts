import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { toAppError } from '../errors.js';
import { callerOf } from './caller.js';
import { errorResult, runOutputSchema } from './run-result.js';
import { recordToolResult, type RunToolDeps } from './run.js';

export const runIdSchema = z.object({
  run_id: z.string().min(1).describe('The run_id returned by run or run_start'),
});

/** `run_status`: where a run is, or its full result once it ended. */
export function registerRunStatusTool(server: McpServer, deps: RunToolDeps): void {
  server.registerTool(
    'run_status',
    {
      title: 'Status of a run',
      description:
        'Status of a run started by run or run_start: while queued, its place in the queue and what it waits for; ' +
        'while it goes on, its phase, duration and the tail of its output; once it ended, the same full result ' +
        '`run` returns (exit code, output, timings, phase), or the error that ended it before it started ' +
        '(QUEUE_TIMEOUT, CANCELLED, SHUTTING_DOWN).',
      inputSchema: runIdSchema,
      outputSchema: runOutputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (args, ctx) => {
      try {
        return recordToolResult(deps.store.get(args.run_id, callerOf(ctx)));
      } catch (error) {
        return errorResult(toAppError(error));
      }
    },
  );
}
