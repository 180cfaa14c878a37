import type { McpServer } from '@modelcontextprotocol/server';
import { toAppError } from '../errors.js';
import { errorResult, runOutputSchema } from './run-result.js';
import { runInputSchema } from './run-request.js';
import { snapshotOf } from './run-snapshot.js';
import { runToolResult, startRun, type RunToolDeps } from './run.js';

/** `run_start`: the arguments of `run`, answered at once with a run id; the run goes on in the background. */
export function registerRunStartTool(server: McpServer, deps: RunToolDeps): void {
  server.registerTool(
    'run_start',
    {
      title: 'Start a command under mirrord in the background',
      description:
        'Start a command under mirrord like `run`, but answer at once with its run_id while it keeps running: for a ' +
        'modified service that should receive mirrored traffic while you send requests and read its logs. Follow it ' +
        'with run_status and run_logs, stop it with run_stop. It stops by itself at its timeout (timeout_s) and when ' +
        'your session ends.',
      inputSchema: runInputSchema,
      outputSchema: runOutputSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async (args, ctx) => {
      try {
        // Not the call's signal: the call ending must not stop a background run.
        const record = await startRun(args, ctx, deps, {});
        return runToolResult(snapshotOf(record));
      } catch (error) {
        return errorResult(toAppError(error));
      }
    },
  );
}
