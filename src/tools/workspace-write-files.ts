import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { AppError, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseRelativePath, parseWorkspaceName } from '../workspace/paths.js';
import type { FileChange } from '../workspace/workspace-store.js';
import { errorResult } from './run-result.js';
import { requireStore, workspaceNameDescription, type WorkspaceToolDeps } from './workspace-common.js';
import { callerOf } from './caller.js';

const change = z.object({
  path: z
    .string()
    .describe('File path relative to the workspace root, with "/" separators, e.g. "src/app.ts"'),
  content: z.string().optional().describe('New content of the file (the whole file); omit when deleting'),
  encoding: z.enum(['utf8', 'base64']).optional().describe('How `content` is encoded (default utf8)'),
  executable: z
    .boolean()
    .optional()
    .describe('Set the executable bit (default: keep the bit of the file replaced, else off)'),
  delete: z.boolean().optional().describe('true to delete the file, or a directory with everything below it'),
});

export const writeFilesInputSchema = z.object({
  workspace: z.string().describe(workspaceNameDescription),
  files: z
    .array(change)
    .min(1)
    .max(1000)
    .describe('Files to create, replace or delete, all applied together'),
});

export const writeFilesOutputSchema = z.object({
  workspace: z.string(),
  tree_id: z.string().describe('The new tree: runs started from now on see it'),
  files: z.number().int(),
  bytes: z.number().int(),
  added: z.number().int(),
  updated: z.number().int(),
  removed: z.number().int(),
});

const base64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

function toChanges(args: z.infer<typeof writeFilesInputSchema>): FileChange[] {
  const seen = new Set<string>();
  return args.files.map((file, index): FileChange => {
    const path = parseRelativePath(file.path, `files[${index}].path`);
    if (seen.has(path))
      throw new AppError('PATH_CONFLICT', `${JSON.stringify(path)} is named twice in this call`);
    seen.add(path);
    if (file.delete === true) {
      if (file.content !== undefined) {
        throw new AppError('INVALID_ARGUMENT', `files[${index}] has both delete and content; pick one`);
      }
      return { path, delete: true };
    }
    if (file.content === undefined) {
      throw new AppError('INVALID_ARGUMENT', `files[${index}] needs content (or delete: true)`);
    }
    if (file.encoding === 'base64' && !base64.test(file.content)) {
      throw new AppError('INVALID_ARGUMENT', `files[${index}].content is not valid base64`);
    }
    const content = Buffer.from(file.content, file.encoding ?? 'utf8');
    return { path, content, executable: file.executable };
  });
}

/** Registers `workspace_write_files`: the assistant's small edits, applied as one new tree. */
export function registerWorkspaceWriteFilesTool(
  server: McpServer,
  deps: WorkspaceToolDeps & { logger: Logger },
): void {
  server.registerTool(
    'workspace_write_files',
    {
      title: 'Write files in a workspace',
      description:
        'Create, replace or delete several files of a server-side workspace in one call, atomically: the ' +
        'workspace switches to the new tree only when every change is valid and stored, so a failed call changes ' +
        'nothing and a `run` never sees half of it. Creates the workspace if it does not exist. Use it for small ' +
        'edits between runs; a developer syncs whole projects with `mirrord-mcp-server sync`, and the next sync ' +
        'replaces the tree with the local one (so make lasting edits in the local project too).',
      inputSchema: writeFilesInputSchema,
      outputSchema: writeFilesOutputSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args, ctx) => {
      try {
        const store = requireStore(deps.workspaces);
        const name = parseWorkspaceName(args.workspace);
        const result = await store.writeFiles(callerOf(ctx), name, toChanges(args));
        const output = {
          workspace: name,
          tree_id: result.summary.treeId ?? '',
          files: result.summary.files,
          bytes: result.summary.bytes,
          ...result.changed,
        };
        return {
          content: [
            {
              type: 'text',
              text: `Workspace ${name}: ${output.added} added, ${output.updated} updated, ${output.removed} removed; now ${output.files} files, ${output.bytes} bytes (tree ${output.tree_id}).`,
            },
          ],
          structuredContent: output,
        };
      } catch (error) {
        const appError = toAppError(error);
        if (appError.code === 'INTERNAL') deps.logger.error({ err: error }, 'workspace_write_files failed');
        return errorResult(appError);
      }
    },
  );
}
