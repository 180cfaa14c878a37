/**
 * One error type for everything the server reports on purpose. Each code has a hint that tells the
 * reader (usually an AI assistant) what to do next; the message says what went wrong in this case.
 * Foreign errors are translated into an AppError once, where they enter our code.
 */
export const errorCatalog = {
  INVALID_ARGUMENT: 'Fix the argument named in the message and call the tool again.',
  EMPTY_COMMAND: 'Pass the shell command to run in `cmd_str`, for example "npm test".',
  INVALID_MIRRORD_CONFIG:
    'Pass `mirrord_config` as a JSON object (or a JSON string of one) using keys from the mirrord config schema.',
  FORBIDDEN_CONFIG_KEY:
    'Remove the key: the server decides it. Ask the server operator if you need a different value.',
  TEMPLATE_DELIMITER:
    'mirrord renders its config file as a Tera template, so `{{`, `{%` and `{#` are refused in mirrord_config and env. Remove them from the value.',
  POLICY_DENIED:
    "The server's policy for this namespace forbids it; the message names the key and the rule. Ask the server operator if you need it.",
  ACCESS_DENIED:
    "The cluster's RBAC (asked with a SubjectAccessReview) does not let you mirror in this namespace: ask a cluster admin for a RoleBinding granting `get pods` and `create pods/portforward` there, or use another namespace.",
  INVALID_TARGET:
    'Use `targetless`, `pod/NAME[/container/C]`, `deployment/NAME[/container/C]` or `rollout/NAME[/container/C]`.',
  OPERATOR_REQUIRED:
    'This target kind needs the paid mirrord operator, which this server does not use. Target the deployment or one of its pods instead.',
  INVALID_NAMESPACE:
    'A namespace is a DNS-1123 label: lowercase letters, digits and "-", at most 63 characters, starting and ending with a letter or digit.',
  INVALID_CWD:
    'Pass `cwd` as an absolute path to an existing directory on the server, or, with `workspace`, as a directory relative to the workspace root.',
  MIRRORD_NOT_FOUND:
    'Install mirrord (https://mirrord.dev/docs/overview/quick-start/) or point the server at it with --mirrord-bin PATH (or MIRRORD_MCP_MIRRORD_BIN).',
  SPAWN_FAILED: 'The server could not start the process; check the server logs.',
  QUEUE_FULL:
    'Too many runs are waiting to start (run.maxQueued). Retry when some have finished; run_list shows yours, and run_stop ends one you no longer need.',
  QUEUE_TIMEOUT:
    'The run waited run.queueTimeoutS for what the message names and never started. Stop a run of yours that holds it (run_stop) or retry later; a run that needs no incoming traffic can set feature.network.incoming to "off" and then takes no target lock.',
  CANCELLED: 'The run was stopped on request.',
  RUN_NOT_FOUND:
    'Use a run id returned by run or run_start in this session; finished runs are kept only for a while (run.retainS).',
  SHUTTING_DOWN: 'The server is shutting down; retry in a moment against the new instance.',
  WORKSPACES_DISABLED:
    'This server has no workspaces (workspaces.dataDir is unset): omit `workspace` and pass an absolute `cwd` on the server.',
  WORKSPACE_REQUIRED:
    'This server runs commands only inside workspaces: pass `workspace` (sync one with `mirrord-mcp-server sync DIR --url URL --workspace NAME`, or create one with workspace_write_files) and a `cwd` relative to it.',
  INVALID_WORKSPACE_NAME:
    'A workspace name is 1 to 63 characters: letters, digits, ".", "_" and "-", starting with a letter or digit.',
  WORKSPACE_NOT_FOUND:
    'Sync the workspace first (`mirrord-mcp-server sync DIR --url URL --workspace NAME`) or create it with workspace_write_files; workspace_list shows the existing ones.',
  INVALID_PATH:
    'Use a relative path with "/" separators inside the workspace: no "..", no leading "/", no backslashes, no NUL bytes, no empty segments.',
  PATH_NOT_FOUND: 'Check the path with workspace_list; paths are relative to the workspace root.',
  NOT_A_FILE: 'Pass the path of a regular file (workspace_list shows the type of each entry).',
  SYMLINK_ESCAPE:
    'Symlinks must point inside the workspace with a relative target; remove the link or add it to .mirrordignore.',
  PATH_CONFLICT:
    'A path cannot be both a file and a directory, appear twice, or lie below a symlink; fix the listed path.',
  INVALID_MANIFEST:
    'Send a JSON manifest {"entries":[{"path","size","mode","sha256"} | {"path","type":"symlink","target"}]}; the sync client does this for you.',
  TOO_MANY_FILES:
    'The workspace holds more files than the server allows (workspaces.maxFiles): ignore build output and dependencies in .gitignore or .mirrordignore.',
  WORKSPACE_TOO_LARGE:
    'The workspace is larger than the server allows (workspaces.maxBytes): ignore large or generated files in .gitignore or .mirrordignore.',
  QUOTA_EXCEEDED:
    'The server is out of workspace space (workspaces.maxTotalBytes): delete unused workspaces or ask the operator for more.',
  UPLOAD_TOO_LARGE:
    'Send smaller upload batches (the sync client follows the limits the server announces) and only the blobs the server asked for.',
  HASH_MISMATCH:
    'The uploaded bytes do not match their sha256: the file probably changed while syncing; sync again.',
  UNEXPECTED_BLOB: 'Upload only the hashes the server listed as missing for this sync, each once.',
  MISSING_BLOBS: 'Upload the listed hashes before committing, or start a new sync.',
  SYNC_IN_PROGRESS:
    'Another sync of this workspace is in progress; wait for it to finish (an abandoned one expires after workspaces.syncIdleTimeoutS) and retry.',
  BASE_MISMATCH:
    'The workspace is no longer at the tree this delta was made against; send the whole manifest (the sync client does this by itself).',
  SYNC_NOT_FOUND:
    'The sync was finished, aborted or expired; start a new one (the sync client does this on its next run).',
  NAMESPACE_NOT_ALLOWED:
    'Use one of the namespaces this server allows (list_targets with all_namespaces shows them); the server operator sets them in namespaces.allowed.',
  TARGET_NOT_FOUND:
    'Call list_targets to see the exact target strings in this namespace, then pass one of them as `target`.',
  TARGET_NOT_READY:
    'mirrord needs a running, ready pod to attach to. Wait for the rollout to finish, fix the crashing pods, or target another workload (list_targets shows ready counts).',
  CONTAINER_NOT_FOUND:
    'Pass one of the containers named in the message as /container/NAME, or leave the container out to let the server pick the main one.',
  KUBE_NOT_CONFIGURED:
    'Point the server at a cluster: set KUBECONFIG (or create ~/.kube/config), or run it in a pod with a service account. To run without target checks, set kube.checkTargets to false.',
  KUBE_UNREACHABLE:
    'The Kubernetes API server could not be reached. Check the cluster address in the kubeconfig, the VPN or network, and that the cluster is up; then retry.',
  KUBE_UNAUTHORIZED:
    "The Kubernetes API refused the server's credentials (401). Refresh them (log in again, renew the token or the kubeconfig) and restart the server.",
  KUBE_FORBIDDEN:
    "The server's Kubernetes identity lacks the permission named in the message. Grant it with a Role and RoleBinding (run `mirrord-mcp-server doctor` for the exact fix), or use another namespace.",
  KUBE_NOT_FOUND:
    'The Kubernetes object or API named in the message does not exist; check the name and namespace.',
  KUBE_TIMEOUT:
    'The Kubernetes API did not answer within kube.requestTimeoutMs. The cluster may be overloaded or far away; retry, or raise kube.requestTimeoutMs.',
  KUBE_API_ERROR:
    'The Kubernetes API answered with an error; retry, and check the API server if it persists.',
  CONFIG_INVALID: 'Fix the configuration value named in the message (file, environment variable or flag).',
  INTERNAL: 'This is a bug in mirrord-mcp-server; the server log has the details.',
} as const;

export type ErrorCode = keyof typeof errorCatalog;

/** The error the server raises on purpose; `details` must never hold secrets. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  get hint(): string {
    return errorCatalog[this.code];
  }

  /** The JSON-safe shape sent to clients in `structuredContent.error`. */
  toJSON(): { code: ErrorCode; message: string; hint: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      ...(Object.keys(this.details).length > 0 ? { details: { ...this.details } } : {}),
    };
  }
}

/** Wraps anything thrown into an AppError, keeping AppErrors as they are. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AppError('INTERNAL', `Unexpected error: ${message}`, {}, { cause: error });
}
