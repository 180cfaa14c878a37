import { readFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { hashCachePath, loadHashCache } from './hash-cache.js';
import { parseArgs } from 'node:util';
import { formatBytes } from './progress.js';
import { syncOnce, syncReport, type SyncOptions, type SyncReport } from './run-sync.js';
import { createSyncClient, SyncError } from './sync-client.js';
import { startWatch } from './watch.js';
import { relistProject, walkProject, type LocalEntry } from './walk.js';
import { askWatch, listenForSyncs, watchSocketPath } from './watch-socket.js';

export const syncUsage = `Usage: mirrord-mcp-server sync [DIR] --url URL --workspace NAME [options]

Sends DIR (default: the current directory) to a workspace on a mirrord-mcp-server, where \`run\`
executes commands with \`workspace: NAME\`. Only files the server lacks are uploaded; .gitignore
and .mirrordignore files are honoured, and .git is never sent.

Options:
  --url URL            the server's base URL, e.g. https://mcp.example.com/mirrord
  --workspace NAME     workspace name (letters, digits, ".", "_", "-")
  --token-file PATH    read the bearer token from a file (first line)
  --token TOKEN        bearer token on the command line (visible in ps; prefer --token-file
                       or the MIRRORD_MCP_TOKEN environment variable)
  --watch              keep running and re-sync when files change (the fastest way to
                       stay in sync: the hash cache stays in memory between syncs); while
                       it runs, a \`sync\` of the same DIR, URL, workspace and token asks it
                       instead of walking the tree itself
  --ignore-watch       sync in this process even when such a --watch is running
  --debounce-ms N      quiet time before a re-sync in --watch mode (default 300)
  --json               print the report as one JSON line per sync
  -h, --help           show this help
`;

function describe(report: SyncReport, dir: string): string {
  const size = `${report.files} files, ${formatBytes(report.bytes)}`;
  const by = report.watch === undefined ? '' : ` (by the sync --watch running as pid ${report.watch})`;
  if (report.unchanged) return `${report.workspace} is up to date (${size}); checked in ${report.ms} ms${by}`;
  return (
    `synced ${dir} to ${report.workspace}: ${report.added} added, ${report.updated} updated, ${report.removed} removed; ` +
    `sent ${report.sentFiles} files (${formatBytes(report.sentBytes)}) of ${size} in ${report.ms} ms${by}`
  );
}

interface ErrorFields {
  code: string;
  message: string;
  hint?: string | undefined;
}

/** A failed sync's code, message and hint (as a watch answers a one-shot sync with them). */
function errorFields(error: unknown): ErrorFields {
  if (error instanceof SyncError) return { code: error.code, message: error.message, hint: error.hint };
  return { code: 'INTERNAL', message: (error as Error).message };
}

function formatError({ code, message, hint }: ErrorFields): string {
  return `${code}: ${message}${hint ? `\n  ${hint}` : ''}`;
}

function describeError(error: unknown): string {
  if (error instanceof SyncError) return formatError(errorFields(error));
  return (error as Error).message;
}

/** `mirrord-mcp-server sync ...`: returns the exit code (0 done, 1 sync failed, 2 bad usage). */
export async function runSyncCommand(
  argv: string[],
  out: NodeJS.WriteStream = process.stdout,
  err: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  let positionals: string[];
  let token: string | undefined;
  try {
    ({ values, positionals } = parse(argv));
    if (values.help) {
      out.write(syncUsage);
      return 0;
    }
    if (!values.url) throw new Error('--url is required');
    if (!values.workspace) throw new Error('--workspace is required');
    if (positionals.length > 1) throw new Error(`one directory only, got ${positionals.join(' ')}`);
    if (!/^https?:\/\//.test(values.url))
      throw new Error(`--url must start with http:// or https://, got ${values.url}`);
    token = tokenFrom(values, env);
  } catch (error) {
    err.write(`mirrord-mcp-server sync: ${(error as Error).message}\n\n${syncUsage}`);
    return 2;
  }
  const dir = positionals[0] ?? '.';
  const options: SyncOptions = { dir, url: values.url, workspace: values.workspace, token };
  const print = (report: SyncReport): void => {
    out.write(values.json ? `${JSON.stringify(report)}\n` : `${describe(report, dir)}\n`);
  };
  const root = await realpath(dir).catch(() => undefined);
  // A missing directory is the sync's to report; without a place for the socket, no hand-off.
  const socket =
    root === undefined || values['ignore-watch']
      ? undefined
      : watchSocketPath({ root, url: values.url, workspace: values.workspace, token }, env);

  if (!values.watch) {
    if (socket !== undefined) {
      const started = performance.now();
      const answer = await askWatch<SyncReport>(socket);
      if (answer?.type === 'report') {
        print({ ...answer.report, ms: Math.round(performance.now() - started), watch: answer.pid });
        return 0;
      }
      if (answer?.type === 'error') {
        err.write(
          `mirrord-mcp-server sync: ${formatError(answer)}\n` +
            `  (from the sync --watch running as pid ${answer.pid}; --ignore-watch syncs without it)\n`,
        );
        return 1;
      }
    }
    try {
      print(await syncOnce(options));
      return 0;
    } catch (error) {
      err.write(`mirrord-mcp-server sync: ${describeError(error)}\n`);
      return 1;
    }
  }

  if (root === undefined) {
    err.write(`mirrord-mcp-server sync: INVALID_PATH: ${dir} does not exist\n`);
    return 1;
  }
  const debounceMs = Number(values['debounce-ms'] ?? '300');
  if (!Number.isFinite(debounceMs) || debounceMs < 0) {
    err.write(
      `mirrord-mcp-server sync: --debounce-ms must be a number of milliseconds, got ${values['debounce-ms']}\n\n${syncUsage}`,
    );
    return 2;
  }
  // One hash cache for the whole watch, held in memory between syncs.
  options.cache = await loadHashCache(hashCachePath(root, env), root);
  const client = createSyncClient(options);
  // The last listing of the project: a sync after a few changes lists only those again.
  let listed: LocalEntry[] | undefined;
  const watch = startWatch<SyncReport>({
    root,
    debounceMs,
    sync: async (changed) => {
      const walk = async (at: string): Promise<LocalEntry[]> => {
        listed = changed && listed ? await relistProject(at, listed, changed) : await walkProject(at);
        return listed;
      };
      const report = await syncOnce({ ...options, walk });
      print(report);
      return report;
    },
    onError: (error) => err.write(`mirrord-mcp-server sync: ${describeError(error)}\n`),
    // Nothing changed here since the last sync: still so on the server when its tree is the one
    // that sync left (another client or a write tool would have made a new one).
    confirm: async (last) => {
      const started = performance.now();
      const remote = await client.get();
      if (last.treeId === null || remote?.tree_id !== last.treeId) return undefined;
      const ms = Math.round(performance.now() - started);
      return syncReport(
        { workspace: last.workspace, files: last.files, bytes: last.bytes, ms, phases: { get: ms } },
        { unchanged: true, treeId: last.treeId },
      );
    },
  });
  const listener =
    socket === undefined ? undefined : await listenForSyncs(socket, () => watch.flush(), errorFields);
  if (listener && 'taken' in listener) {
    await watch.close();
    err.write(
      `mirrord-mcp-server sync: another sync --watch (pid ${listener.taken}) already keeps ${dir} in sync with ${values.workspace} on ${values.url}; stop it first (or give --ignore-watch to run one beside it)\n`,
    );
    return 1;
  }
  let onSignal = (): void => undefined;
  const stopped = new Promise<void>((resolve) => {
    onSignal = resolve;
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  err.write(`watching ${dir} for changes (Ctrl-C to stop)\n`);
  await stopped;
  await listener?.close();
  await watch.close();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      workspace: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      watch: { type: 'boolean' },
      'ignore-watch': { type: 'boolean' },
      'debounce-ms': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** The bearer token: --token, else --token-file (first line), else MIRRORD_MCP_TOKEN; none is fine. */
function tokenFrom(
  values: { token?: string | undefined; 'token-file'?: string | undefined },
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (values.token !== undefined && values['token-file'] !== undefined) {
    throw new Error('give --token or --token-file, not both');
  }
  if (values.token !== undefined) return values.token;
  const file = values['token-file'];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(
        `cannot read --token-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    const token = text.split(/\r?\n/)[0]?.trim() ?? '';
    if (token === '') throw new Error(`--token-file ${file} is empty`);
    return token;
  }
  const fromEnv = env.MIRRORD_MCP_TOKEN?.trim();
  return fromEnv === '' ? undefined : fromEnv;
}
