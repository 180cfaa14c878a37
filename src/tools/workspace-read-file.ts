import { open } from 'node:fs/promises';
import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { AppError, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseRelativePath, parseWorkspaceName } from '../workspace/paths.js';
import { resolveInTree } from '../workspace/resolve-path.js';
import { errorResult } from './run-result.js';
import { requireStore, workspaceNameDescription, type WorkspaceToolDeps } from './workspace-common.js';
import { callerOf } from './caller.js';

export const readFileInputSchema = z.object({
  workspace: z.string().describe(workspaceNameDescription),
  path: z.string().describe('File path relative to the workspace root, e.g. "src/app.ts"'),
  max_bytes: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Most bytes returned from the start of the file (default and cap: the server limit)'),
});

export const readFileOutputSchema = z.object({
  workspace: z.string(),
  path: z.string(),
  size: z.number().int().describe('Size of the whole file'),
  encoding: z.enum(['utf8', 'base64']).describe('utf8 for text, base64 for binary content'),
  content: z.string(),
  truncated: z.boolean().describe('Only the first bytes were returned'),
});

/** Text when the bytes are UTF-8 without NULs; a cut multi-byte character at the end is dropped. */
function decode(bytes: Buffer, truncated: boolean): { encoding: 'utf8' | 'base64'; content: string } {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let trim = 0; trim <= (truncated ? 3 : 0); trim++) {
    const slice = bytes.subarray(0, bytes.length - trim);
    if (slice.includes(0)) break;
    try {
      return { encoding: 'utf8', content: decoder.decode(slice) };
    } catch {
      // try a shorter slice, or fall back to base64
    }
  }
  return { encoding: 'base64', content: bytes.toString('base64') };
}

/** Registers `workspace_read_file`: one file of a workspace, bounded. */
export function registerWorkspaceReadFileTool(
  server: McpServer,
  deps: WorkspaceToolDeps & { logger: Logger; maxReadBytes: number },
): void {
  server.registerTool(
    'workspace_read_file',
    {
      title: 'Read a file from a workspace',
      description:
        'Read a file of a server-side workspace as a `run` there sees it (synced files and files runs wrote, such as ' +
        'test reports). Returns text as utf8 and binary content as base64; large files come back truncated to ' +
        '`max_bytes` (the server caps it) with `truncated: true` and the full `size`.',
      inputSchema: readFileInputSchema,
      outputSchema: readFileOutputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args, ctx) => {
      try {
        const store = requireStore(deps.workspaces);
        const name = parseWorkspaceName(args.workspace);
        const path = parseRelativePath(args.path);
        const limit = Math.min(args.max_bytes ?? deps.maxReadBytes, deps.maxReadBytes);
        const lease = store.lease(callerOf(ctx), name);
        try {
          const file = await resolveInTree(lease.dir, path, 'file');
          const handle = await open(file.path, 'r');
          let bytes: Buffer;
          let size: number;
          try {
            size = (await handle.stat()).size;
            const buffer = Buffer.alloc(Math.min(size, limit));
            const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
            bytes = buffer.subarray(0, bytesRead);
          } finally {
            await handle.close();
          }
          const truncated = bytes.length < size;
          const output = { workspace: name, path, size, truncated, ...decode(bytes, truncated) };
          const note = truncated ? `\n--- truncated: ${bytes.length} of ${size} bytes shown ---` : '';
          const text =
            output.encoding === 'utf8'
              ? `${output.content}${note}`
              : `(binary file, ${size} bytes; base64 content in structuredContent)${note}`;
          return { content: [{ type: 'text', text }], structuredContent: output };
        } finally {
          lease.release();
        }
      } catch (error) {
        const appError = error instanceof AppError ? error : toAppError(error);
        if (appError.code === 'INTERNAL') deps.logger.error({ err: error }, 'workspace_read_file failed');
        return errorResult(appError);
      }
    },
  );
}
