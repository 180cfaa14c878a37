import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/server';
import { AppError } from '../errors.js';
import { callerOf } from './caller.js';
import type { RunToolDeps } from './run.js';

const maxResourceBytes = 1024 * 1024;

/** Each run's output as MCP resources: mirrord-run://{run_id}/stdout and .../stderr (the last MiB). */
export function registerRunResources(server: McpServer, deps: RunToolDeps): void {
  server.registerResource(
    'run-output',
    new ResourceTemplate('mirrord-run://{run_id}/{stream}', {
      list: (ctx) => ({
        resources: deps.store.list(callerOf(ctx)).flatMap((record) =>
          (['stdout', 'stderr'] as const).map((stream) => ({
            uri: `mirrord-run://${record.id}/${stream}`,
            name: `${record.target} ${stream} (${record.status})`,
            mimeType: 'text/plain',
          })),
        ),
      }),
    }),
    {
      title: 'Run output',
      description: 'The output of a run (stdout or stderr), the last MiB of it',
      mimeType: 'text/plain',
    },
    (uri, variables, ctx) => {
      const stream = String(variables.stream);
      if (stream !== 'stdout' && stream !== 'stderr') {
        throw new AppError('INVALID_ARGUMENT', `unknown stream "${stream}" (stdout or stderr)`);
      }
      const record = deps.store.get(String(variables.run_id), callerOf(ctx));
      return {
        contents: [
          { uri: uri.href, mimeType: 'text/plain', text: record.logs[stream].tail(maxResourceBytes).text },
        ],
      };
    },
  );
}
