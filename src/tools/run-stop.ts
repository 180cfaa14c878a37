import type { McpServer } from '@modelcontextprotocol/server';
import { AppError, toAppError } from '../errors.js';
import { callerOf } from './caller.js';
import { errorResult, runOutputSchema } from './run-result.js';
import { runIdSchema } from './run-status.js';
import { recordToolResult, type RunToolDeps } from './run.js';

/** `run_stop`: stops a run's process group and answers with its final result. */
export function registerRunStopTool(server: McpServer, deps: RunToolDeps): void {
  server.registerTool(
    'run_stop',
    {
      title: 'Stop a run',
      description:
        'Stop a run started by run or run_start: SIGTERM to its whole process group, SIGKILL after the grace period. ' +
        'Answers with its final result (output included). A queued run leaves the queue without starting (answered ' +
        'with a CANCELLED error). Stopping a finished run just returns its result.',
      inputSchema: runIdSchema,
      outputSchema: runOutputSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args, ctx) => {
      try {
        const record = deps.store.get(args.run_id, callerOf(ctx));
        if (record.status !== 'finished') {
          record.stop(new AppError('CANCELLED', 'stopped by run_stop'));
          // A run that never started rejects; the record keeps why.
          await record.done.catch(() => undefined);
        }
        return recordToolResult(record);
      } catch (error) {
        return errorResult(toAppError(error));
      }
    },
  );
}
