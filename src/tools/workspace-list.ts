import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { listTree } from '../workspace/list-tree.js';
import { parseWorkspaceName } from '../workspace/paths.js';
import { resolveInTree } from '../workspace/resolve-path.js';
import { errorResult } from './run-result.js';
import { requireStore, workspaceNameDescription, type WorkspaceToolDeps } from './workspace-common.js';
import { callerOf } from './caller.js';

export const listInputSchema = z.object({
  workspace: z.string().optional().describe(`${workspaceNameDescription}; omit to list your workspaces`),
  path: z.string().optional().describe('Directory inside the workspace to list (default: its root)'),
  max_entries: z
    .number()
    .int()
    .positive()
    .max(10_000)
    .optional()
    .describe('Most entries returned (default 1000)'),
});

const workspaceSchema = z.object({
  name: z.string(),
  files: z.number().int(),
  bytes: z.number().int(),
  tree_id: z.string().nullable(),
  committed_at: z.string().nullable(),
  last_used_at: z.string(),
  syncing: z.boolean(),
});

export const listOutputSchema = z.object({
  workspaces: z.array(workspaceSchema).optional().describe('Your workspaces, when no workspace was named'),
  workspace: z.string().optional(),
  path: z.string().optional(),
  tree_id: z.string().optional(),
  entries: z
    .array(
      z.object({
        path: z.string().describe('Relative to the workspace root'),
        type: z.enum(['file', 'directory', 'symlink']),
        size: z.number().int(),
        executable: z.boolean(),
        target: z.string().optional(),
      }),
    )
    .optional(),
  truncated: z.boolean().optional().describe('More entries exist than max_entries'),
});

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Registers `workspace_list`: the caller's workspaces, or one workspace's tree. */
export function registerWorkspaceListTool(
  server: McpServer,
  deps: WorkspaceToolDeps & { logger: Logger },
): void {
  server.registerTool(
    'workspace_list',
    {
      title: 'List workspaces or a workspace tree',
      description:
        'Without `workspace`: list your server-side workspaces (name, files, bytes, last sync). With `workspace`: ' +
        'list its current tree (optionally under `path`) with sizes and types, exactly as a `run` with that ' +
        'workspace sees it, including files earlier runs created there.',
      inputSchema: listInputSchema,
      outputSchema: listOutputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args, ctx) => {
      try {
        const store = requireStore(deps.workspaces);
        const owner = callerOf(ctx);
        if (args.workspace === undefined) {
          const workspaces = store.list(owner).map((w) => ({
            name: w.name,
            files: w.files,
            bytes: w.bytes,
            tree_id: w.treeId,
            committed_at: iso(w.committedAt),
            last_used_at: new Date(w.lastUsedAt).toISOString(),
            syncing: w.syncing,
          }));
          const text =
            workspaces.length === 0
              ? 'You have no workspaces yet: sync one with `mirrord-mcp-server sync DIR --url URL --workspace NAME`.'
              : workspaces
                  .map(
                    (w) =>
                      `${w.name}: ${w.files} files, ${w.bytes} bytes, synced ${w.committed_at ?? 'never'}`,
                  )
                  .join('\n');
          return { content: [{ type: 'text', text }], structuredContent: { workspaces } };
        }
        const name = parseWorkspaceName(args.workspace);
        const lease = store.lease(owner, name);
        try {
          const dir = await resolveInTree(lease.dir, args.path, 'directory');
          const { entries, truncated } = await listTree(lease.dir, dir.relative, args.max_entries ?? 1000);
          const lines = entries.map((e) =>
            e.type === 'directory'
              ? `${e.path}/`
              : e.type === 'symlink'
                ? `${e.path} -> ${e.target ?? ''}`
                : `${e.path} (${e.size} bytes${e.executable ? ', executable' : ''})`,
          );
          if (truncated) lines.push(`... more entries; raise max_entries or list a subdirectory`);
          return {
            content: [{ type: 'text', text: lines.length > 0 ? lines.join('\n') : '(empty directory)' }],
            structuredContent: {
              workspace: name,
              path: dir.relative,
              tree_id: lease.treeId,
              entries,
              truncated,
            },
          };
        } finally {
          lease.release();
        }
      } catch (error) {
        const appError = toAppError(error);
        if (appError.code === 'INTERNAL') deps.logger.error({ err: error }, 'workspace_list failed');
        return errorResult(appError);
      }
    },
  );
}
