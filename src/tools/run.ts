import type { McpServer, ServerContext } from '@modelcontextprotocol/server';
import type { Config } from '../config.js';
import { toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RunRecord, RunStore } from '../runs/run-store.js';
import { parseWorkspaceName } from '../workspace/paths.js';
import { resolveInTree } from '../workspace/resolve-path.js';
import type { TreeLease, WorkspaceStore } from '../workspace/workspace-store.js';
import { AppError } from '../errors.js';
import type { ClusterAuthorizer } from '../policy/cluster-authz.js';
import { callerIdentity } from './caller.js';
import { buildRequest, runInputSchema, type RunInput } from './run-request.js';
import { errorResult, runOutputSchema, shapeRunOutput, summarizeRun, type RunOutput } from './run-result.js';
import { snapshotOf } from './run-snapshot.js';
import { narrowForCaller, type NamespacePolicy } from '../policy/namespaces.js';

export interface RunToolDeps {
  config: Config;
  logger: Logger;
  store: RunStore;
  /** Which namespaces callers may use, and the default one. */
  policy: NamespacePolicy;
  /** Working directory when a call names none (local mode). */
  defaultCwd: string;
  /** Undefined when workspaces are off: then `cwd` is an absolute server directory. */
  workspaces: WorkspaceStore | undefined;
  /** Set with auth.subjectAccessReview: the cluster's RBAC decides who may mirror where. */
  authorizer?: ClusterAuthorizer | undefined;
}

/** The tool result for a run's output shape. */
export function runToolResult(output: RunOutput): {
  content: { type: 'text'; text: string }[];
  structuredContent: RunOutput;
  isError: boolean;
} {
  return {
    content: [{ type: 'text', text: summarizeRun(output) }],
    structuredContent: output,
    isError: output.status === 'finished' && output.phase !== 'program',
  };
}

/**
 * What run_status and run_stop answer for a record: its result or state, or the error it ended
 * with when it never produced a result (it left the queue: timeout, stop, shutdown).
 */
export function recordToolResult(
  record: RunRecord,
): ReturnType<typeof runToolResult> | ReturnType<typeof errorResult> {
  const { error } = record;
  if (!record.result && error) {
    return errorResult(new AppError(error.code, error.message, { ...error.details, run_id: record.id }));
  }
  return runToolResult(snapshotOf(record));
}

/** Progress notifications for a call, when the client asked for them. */
export function progressSender(ctx: ServerContext): ((progress: { message: string }) => void) | undefined {
  const progressToken = ctx.mcpReq._meta?.progressToken;
  if (progressToken === undefined) return undefined;
  let progress = 0;
  return ({ message }) => {
    progress += 1;
    ctx.mcpReq
      .notify({ method: 'notifications/progress', params: { progressToken, progress, message } })
      .catch(() => undefined); // the client may be gone; the result still carries everything
  };
}

/**
 * Starts a run for a call (it may queue for its slot or target lock); bad input throws an AppError
 * before anything is spawned.
 */
export async function startRun(
  args: RunInput,
  ctx: ServerContext,
  deps: RunToolDeps,
  options: {
    signal?: AbortSignal | undefined;
    onProgress?: ((progress: { message: string }) => void) | undefined;
  },
): Promise<RunRecord> {
  const identity = callerIdentity(ctx);
  const caller = identity.subject;
  const policy = narrowForCaller(deps.policy, identity);
  const request = {
    ...buildRequest(args, deps.config, deps.defaultCwd, {
      workspacesOn: deps.workspaces !== undefined,
      resolveNamespace: (namespace) => policy.resolve(namespace),
    }),
    caller,
  };
  if (deps.authorizer && identity.method !== 'none') {
    await deps.authorizer.check(identity, request.namespace, options.signal);
  }
  let lease: TreeLease | undefined;
  try {
    if (deps.workspaces) {
      lease = leaseWorkspace(args, deps.workspaces, caller);
      // The run keeps this tree, whatever syncs switch the workspace to meanwhile.
      request.cwd = (await resolveInTree(lease.dir, args.cwd, 'directory', 'cwd')).path;
      request.notes.push(`ran in workspace ${args.workspace ?? ''} (tree ${lease.treeId})`);
    }
    const record = await deps.store.start(request, {
      owner: caller,
      sessionId: ctx.sessionId,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    const held = lease;
    lease = undefined;
    // The tree is released when the run ends, which may be long after this call (background runs).
    void record.done.then(
      () => held?.release(),
      () => held?.release(),
    );
    return record;
  } finally {
    lease?.release();
  }
}

function leaseWorkspace(args: RunInput, store: WorkspaceStore, owner: string): TreeLease {
  if (args.workspace === undefined) {
    throw new AppError(
      'WORKSPACE_REQUIRED',
      'this server runs commands only in workspaces: pass `workspace` (and optionally a relative `cwd`)',
    );
  }
  if (args.cwd?.startsWith('/')) {
    throw new AppError(
      'INVALID_CWD',
      `cwd ${JSON.stringify(args.cwd)} is absolute; with workspaces, cwd is relative to the workspace root`,
    );
  }
  return store.lease(owner, parseWorkspaceName(args.workspace));
}

/** Registers `run`: the original prototype's tool, grown up. */
export function registerRunTool(server: McpServer, deps: RunToolDeps): void {
  const waitMs = deps.config.run.waitS * 1000;
  server.registerTool(
    'run',
    {
      title: 'Run a command under mirrord',
      description:
        "Run a shell command under `mirrord exec` against a Kubernetes workload: the process gets the target pod's " +
        'network (incoming traffic mirrored, outgoing requests and DNS through the cluster), environment and files, so ' +
        'you can see how your changed code behaves against the real service without deploying. Returns exit code, ' +
        'output (head and tail kept when large), timings and `phase`: "setup" (setup_cmd failed), "mirrord" (mirrord ' +
        'failed before your program started: read mirrord_error) or "program" (your command ran; a non-zero exit is ' +
        `your program's own result). A run still going after ${deps.config.run.waitS} s answers with status "running" ` +
        'and its run_id and goes on in the background: follow it with run_status and run_logs. For services meant ' +
        'to keep running, use run_start. Runs against one workload with incoming traffic on (mirror or steal) take ' +
        'turns: a run may first be "queued" (progress says where and behind which run; the wait counts toward the ' +
        'hand-off), and fails with QUEUE_TIMEOUT if it waits too long. Set feature.network.incoming to "off" when ' +
        'you need no incoming traffic: such runs do not wait for each other.',
      inputSchema: runInputSchema,
      outputSchema: runOutputSchema,
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    async (args, ctx) => {
      const send = progressSender(ctx);
      let answered = false;
      const onProgress =
        send &&
        ((progress: { message: string }) => {
          if (!answered) send(progress); // progress for an answered call is noise (and often dropped)
        });
      // Cancelling the call stops the run, but only while the call is open: once the answer has
      // gone (a hand-off to the background), the SDK may abort the call's signal as it cleans up.
      const callAbort = new AbortController();
      const onCallAbort = (): void => {
        callAbort.abort(ctx.mcpReq.signal.reason);
      };
      ctx.mcpReq.signal.addEventListener('abort', onCallAbort, { once: true });
      let timer: NodeJS.Timeout | undefined;
      try {
        const record = await startRun(args, ctx, deps, { signal: callAbort.signal, onProgress });
        // Clients give up on a call after about 60 s: answer before that with the run id.
        const waited = new Promise<'waited'>((resolve) => {
          timer = setTimeout(() => {
            resolve('waited');
          }, waitMs);
        });
        const outcome = await Promise.race([record.done, waited]);
        return runToolResult(outcome === 'waited' ? snapshotOf(record) : shapeRunOutput(outcome));
      } catch (error) {
        const appError = toAppError(error);
        if (appError.code === 'INTERNAL') deps.logger.error({ err: error }, 'run failed unexpectedly');
        return errorResult(appError);
      } finally {
        answered = true;
        clearTimeout(timer);
        ctx.mcpReq.signal.removeEventListener('abort', onCallAbort);
      }
    },
  );
}
