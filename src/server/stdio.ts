import { serveStdio, type StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import type { Runtime } from '../runtime.js';

/** MCP over stdin/stdout; logs stay on stderr. Resolves when the client closes stdin. */
export function startStdio(runtime: Runtime): { handle: StdioServerHandle; closed: Promise<void> } {
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  process.stdin.once('end', () => {
    markClosed();
  });
  process.stdin.once('close', () => {
    markClosed();
  });
  const handle = serveStdio(() => runtime.createServer(), {
    onerror: (error) => {
      runtime.logger.debug({ err: error }, 'stdio transport error');
    },
  });
  runtime.logger.info('serving MCP on stdio');
  return { handle, closed };
}
