import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTree } from '../../src/workspace/manifest.js';
import { connectClient, type TestClient } from '../helpers/clients.js';
import { binPath, cliPath } from '../helpers/paths.js';
import { waitFor } from '../helpers/processes.js';
import { startServer, type TestServer } from '../helpers/server.js';

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

let server: TestServer;
let dataDir: string;
let project: string;
let home: string;

/** Runs the built `sync` command (the package's bin); resolves with its exit code and output. */
function syncCli(
  args: string[],
  env: Record<string, string> = {},
  entry = binPath,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, 'sync', ...args], {
      // The watch sockets (see watch-socket.ts) under the test's home, not the machine's /tmp.
      env: { PATH: process.env.PATH ?? '', HOME: home, XDG_RUNTIME_DIR: home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function syncJson(dir: string, workspace: string): Promise<Record<string, any>> {
  const result = await syncCli([dir, '--url', server.url, '--workspace', workspace, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
}

async function put(dir: string, path: string, content: string | Buffer): Promise<void> {
  await mkdir(join(dir, path, '..'), { recursive: true });
  await writeFile(join(dir, path), content);
}

const api = (path: string, init: RequestInit = {}) => fetch(`${server.url}/workspaces${path}`, init);
const digestOf = async (name: string): Promise<string> =>
  ((await (await api(`/${name}`)).json()) as any).digest;

async function beginSync(name: string, entries: unknown[]): Promise<Response> {
  return api(`/${name}/syncs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ entries }),
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mms-data-'));
  home = await mkdtemp(join(tmpdir(), 'mms-synchome-'));
  project = await mkdtemp(join(tmpdir(), 'mms-project-'));
  server = await startServer({
    env: {
      MIRRORD_MCP_WORKSPACES_DATA_DIR: dataDir,
      MIRRORD_MCP_WORKSPACES_MAX_FILES: '200',
      MIRRORD_MCP_WORKSPACES_MAX_BYTES: String(16 * 1024 * 1024),
      MIRRORD_MCP_WORKSPACES_MAX_MANIFEST_BYTES: String(64 * 1024),
      MIRRORD_MCP_WORKSPACES_MAX_READ_BYTES: '64',
      MIRRORD_MCP_RUN_KILL_GRACE_MS: '500',
    },
  });
  await put(project, 'src/a.txt', 'version one\n');
  await put(project, 'run.sh', '#!/bin/sh\necho "script ran in $(basename "$PWD")"\n');
  await chmod(join(project, 'run.sh'), 0o755);
  await symlink('src/a.txt', join(project, 'a-link'));
  await put(project, '.gitignore', 'node_modules/\n');
  await put(project, '.mirrordignore', '*.secret\n');
  await put(project, 'node_modules/dep/index.js', 'ignored');
  await put(project, 'creds.secret', 'ignored');
});

afterAll(async () => {
  await server.stop();
  await server.cleanup();
  for (const dir of [dataDir, home, project]) await rm(dir, { recursive: true, force: true });
});

describe('sync CLI + run in a workspace', () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connectClient('v2-http', server.url);
  });
  afterAll(async () => {
    await client.close();
  });

  it('syncs a project, honouring ignore files, then re-syncs nothing when nothing changed', async () => {
    const first = await syncJson(project, 'app');
    expect(first).toMatchObject({ unchanged: false, files: 5, sentFiles: 4, added: 5 });
    const again = await syncJson(project, 'app');
    expect(again).toMatchObject({ unchanged: true, files: 5, sentFiles: 0, hashedFiles: 0 });
    const human = await syncCli([project, '--url', server.url, '--workspace', 'app']);
    expect(human.stdout).toMatch(/^app is up to date \(5 files, [\d.]+ \w+\); checked in \d+ ms\n$/);
  });

  it('runs with `workspace` and a relative cwd, with executable bits and symlinks kept', async () => {
    const result = await client.callTool('run', {
      cmd_str: 'cat a.txt; cat ../a-link; ../run.sh; ls -A .. | tr "\\n" " "',
      deployment: 'api',
      workspace: 'app',
      cwd: 'src',
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent!.stdout).toBe(
      'version one\nversion one\nscript ran in src\n.gitignore .mirrordignore a-link run.sh src ',
    );
    expect(result.structuredContent!.notes.join(' ')).toMatch(/ran in workspace app \(tree /);
  });

  it('a one-file change sends one file; deleted files disappear', async () => {
    await put(project, 'src/a.txt', 'version two\n');
    await put(project, 'src/b.txt', 'bee\n');
    const report = await syncJson(project, 'app');
    // The server holds the tree this client synced last: only the delta goes.
    expect(report).toMatchObject({ sentFiles: 2, added: 1, updated: 1, removed: 0, delta: true });
    await rm(join(project, 'src/b.txt'));
    expect(await syncJson(project, 'app')).toMatchObject({ sentFiles: 0, removed: 1, delta: true });
    const result = await client.callTool('run', {
      cmd_str: 'cat src/a.txt; ls src',
      deployment: 'api',
      workspace: 'app',
    });
    expect(result.structuredContent!.stdout).toBe('version two\na.txt\n');
  });

  it('an unchanged project still replaces edits made on the server', async () => {
    expect(await syncJson(project, 'app')).toMatchObject({ unchanged: true, hashedFiles: 0 });
    const synced = await digestOf('app');
    const edit = await client.callTool('workspace_write_files', {
      workspace: 'app',
      files: [{ path: 'src/a.txt', content: 'edited on the server\n' }],
    });
    expect(edit.isError).toBeFalsy();
    expect(await digestOf('app')).not.toBe(synced);
    // The server's tree is not the one this client synced last: the whole manifest goes.
    expect(await syncJson(project, 'app')).toMatchObject({
      unchanged: false,
      hashedFiles: 0,
      updated: 1,
      delta: false,
    });
    expect(await digestOf('app')).toBe(synced);
  });

  it('a sync during a run does not disturb the run', async () => {
    const running = client.callTool('run', {
      cmd_str: 'sleep 1.5; cat src/a.txt',
      deployment: 'api',
      workspace: 'app',
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await put(project, 'src/a.txt', 'version three\n');
    expect(await syncJson(project, 'app')).toMatchObject({ updated: 1 });
    expect((await running).structuredContent!.stdout).toBe('version two\n');
    const after = await client.callTool('run', {
      cmd_str: 'cat src/a.txt',
      deployment: 'api',
      workspace: 'app',
    });
    expect(after.structuredContent!.stdout).toBe('version three\n');
  });

  it.each([
    [{}, 'WORKSPACE_REQUIRED'],
    [{ workspace: 'nope' }, 'WORKSPACE_NOT_FOUND'],
    [{ workspace: '../app' }, 'INVALID_WORKSPACE_NAME'],
    [{ workspace: 'app', cwd: '/tmp' }, 'INVALID_CWD'],
    [{ workspace: 'app', cwd: '../..' }, 'INVALID_PATH'],
    [{ workspace: 'app', cwd: 'missing' }, 'PATH_NOT_FOUND'],
    [{ workspace: 'app', cwd: 'run.sh' }, 'INVALID_CWD'],
  ])('run with %j is refused with %s', async (args, code) => {
    const result = await client.callTool('run', { cmd_str: 'true', deployment: 'api', ...args });
    expect(result.isError).toBe(true);
    expect(result.structuredContent!.error.code).toBe(code);
  });

  it('advertises the workspace tools with schemas and annotations', async () => {
    const tools = await client.listTools();
    for (const [name, readOnly] of [
      ['workspace_write_files', false],
      ['workspace_list', true],
      ['workspace_read_file', true],
    ] as const) {
      const tool = tools.find((t) => t.name === name);
      expect(tool?.title).toBeTruthy();
      expect(tool?.outputSchema).toBeDefined();
      expect(tool?.annotations).toMatchObject({ readOnlyHint: readOnly, openWorldHint: false });
    }
    expect(tools.find((t) => t.name === 'run')!.inputSchema.properties.workspace).toBeDefined();
  });

  it('workspace_write_files, workspace_list and workspace_read_file', async () => {
    const written = await client.callTool('workspace_write_files', {
      workspace: 'scratch',
      files: [
        { path: 'hello.sh', content: 'echo hello from scratch', executable: true },
        { path: 'data/bin', content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' },
        { path: 'data/long.txt', content: 'x'.repeat(100) },
      ],
    });
    expect(written.isError).toBeFalsy();
    expect(written.structuredContent).toMatchObject({ workspace: 'scratch', files: 3, added: 3 });
    const ran = await client.callTool('run', {
      cmd_str: './hello.sh',
      deployment: 'api',
      workspace: 'scratch',
    });
    expect(ran.structuredContent!.stdout).toBe('hello from scratch\n');

    const all = await client.callTool('workspace_list', {});
    expect(all.structuredContent!.workspaces.map((w: any) => w.name)).toEqual(['app', 'scratch']);
    const listed = await client.callTool('workspace_list', { workspace: 'scratch', path: 'data' });
    expect(listed.structuredContent!.entries).toEqual([
      { path: 'data/bin', type: 'file', size: 4, executable: false },
      { path: 'data/long.txt', type: 'file', size: 100, executable: false },
    ]);
    const truncated = await client.callTool('workspace_list', { workspace: 'app', max_entries: 2 });
    expect(truncated.structuredContent!.truncated).toBe(true);

    const bin = await client.callTool('workspace_read_file', { workspace: 'scratch', path: 'data/bin' });
    expect(bin.structuredContent).toMatchObject({
      encoding: 'base64',
      content: 'AAEC/w==',
      truncated: false,
      size: 4,
    });
    const long = await client.callTool('workspace_read_file', {
      workspace: 'scratch',
      path: 'data/long.txt',
      max_bytes: 1000,
    });
    expect(long.structuredContent).toMatchObject({
      encoding: 'utf8',
      content: 'x'.repeat(64),
      truncated: true,
      size: 100,
    });

    const removed = await client.callTool('workspace_write_files', {
      workspace: 'scratch',
      files: [{ path: 'data', delete: true }],
    });
    expect(removed.structuredContent).toMatchObject({ removed: 2, files: 1 });
  });

  it.each([
    ['workspace_read_file', { workspace: 'app', path: '../etc/passwd' }, 'INVALID_PATH'],
    ['workspace_read_file', { workspace: 'app', path: 'src' }, 'NOT_A_FILE'],
    ['workspace_read_file', { workspace: 'app', path: 'nope.txt' }, 'PATH_NOT_FOUND'],
    ['workspace_read_file', { workspace: 'ghost', path: 'a' }, 'WORKSPACE_NOT_FOUND'],
    ['workspace_list', { workspace: 'app', path: '/etc' }, 'INVALID_PATH'],
    ['workspace_list', { workspace: 'app', path: 'run.sh' }, 'INVALID_CWD'],
    ['workspace_write_files', { workspace: 'app', files: [{ path: 'a\\b', content: 'x' }] }, 'INVALID_PATH'],
    ['workspace_write_files', { workspace: 'app', files: [{ path: 'a\0b', content: 'x' }] }, 'INVALID_PATH'],
    ['workspace_write_files', { workspace: 'app', files: [{ path: 'x' }] }, 'INVALID_ARGUMENT'],
    [
      'workspace_write_files',
      { workspace: 'app', files: [{ path: 'x', content: 'y', delete: true }] },
      'INVALID_ARGUMENT',
    ],
    [
      'workspace_write_files',
      { workspace: 'app', files: [{ path: 'x', content: '%%', encoding: 'base64' }] },
      'INVALID_ARGUMENT',
    ],
    [
      'workspace_write_files',
      {
        workspace: 'app',
        files: [
          { path: 'x', content: 'a' },
          { path: 'x', content: 'b' },
        ],
      },
      'PATH_CONFLICT',
    ],
    [
      'workspace_write_files',
      { workspace: 'app', files: [{ path: 'run.sh/x', content: 'a' }] },
      'PATH_CONFLICT',
    ],
  ])('%s %j is refused with %s', async (tool, args, code) => {
    const before = await digestOf('app');
    const result = await client.callTool(tool, args);
    expect(result.isError).toBe(true);
    expect(result.structuredContent!.error.code).toBe(code);
    expect(await digestOf('app')).toBe(before);
  });
});

describe('the sync API refuses attacks and leaves the previous tree intact', () => {
  const good = { path: 'ok.txt', size: 2, mode: 0o644, sha256: sha('ok') };
  const cases: [string, unknown[], number, string][] = [
    ['traversal', [{ ...good, path: '../../etc/cron.d/x' }], 400, 'INVALID_PATH'],
    ['an absolute path', [{ ...good, path: '/etc/passwd' }], 400, 'INVALID_PATH'],
    ['a NUL byte', [{ ...good, path: 'a\0b' }], 400, 'INVALID_PATH'],
    ['a backslash', [{ ...good, path: '..\\..\\x' }], 400, 'INVALID_PATH'],
    ['a symlink escape', [{ path: 'l', type: 'symlink', target: '../../../etc' }], 400, 'SYMLINK_ESCAPE'],
    [
      'a path below a symlink',
      [
        { path: 'l', type: 'symlink', target: 'd' },
        { ...good, path: 'l/x' },
      ],
      400,
      'PATH_CONFLICT',
    ],
    [
      'too many files',
      Array.from({ length: 201 }, (_, i) => ({ ...good, path: `f${i}` })),
      413,
      'TOO_MANY_FILES',
    ],
    ['too many bytes', [{ ...good, size: 17 * 1024 * 1024 }], 413, 'WORKSPACE_TOO_LARGE'],
    [
      'an oversized manifest',
      Array.from({ length: 2000 }, (_, i) => ({ ...good, path: `${'d'.repeat(40)}/${i}` })),
      413,
      'UPLOAD_TOO_LARGE',
    ],
  ];

  it.each(cases)('%s', async (_label, entries, status, code) => {
    const before = await digestOf('app');
    const response = await beginSync('app', entries);
    expect(response.status).toBe(status);
    expect(((await response.json()) as any).error.code).toBe(code);
    expect(await digestOf('app')).toBe(before);
  });

  const delta = (body: Record<string, unknown>) =>
    api('/app/syncs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const deltaCases: [string, unknown[], string[], number, string][] = [
    ['traversal in a delta', [{ ...good, path: '../../etc/cron.d/x' }], [], 400, 'INVALID_PATH'],
    ['a removal climbing out', [], ['../app/src/a.txt'], 400, 'INVALID_PATH'],
    [
      'a delta symlink escape',
      [{ path: 'l', type: 'symlink', target: '../../../etc' }],
      [],
      400,
      'SYMLINK_ESCAPE',
    ],
    ['a delta file below a synced symlink', [{ ...good, path: 'a-link/x' }], [], 400, 'PATH_CONFLICT'],
    ['a delta file where a directory is', [{ ...good, path: 'src' }], [], 400, 'PATH_CONFLICT'],
    ['a delta removing what is not there', [], ['nope.txt'], 400, 'INVALID_MANIFEST'],
  ];

  it.each(deltaCases)('%s', async (_label, changes, removed, status, code) => {
    const before = await digestOf('app');
    const response = await delta({ base: before, digest: before, changes, removed });
    expect(response.status).toBe(status);
    expect(((await response.json()) as any).error.code).toBe(code);
    expect(await digestOf('app')).toBe(before);
  });

  it('refuses a delta against another base with 409 BASE_MISMATCH', async () => {
    const before = await digestOf('app');
    const response = await delta({ base: 'a'.repeat(64), digest: before, changes: [good], removed: [] });
    expect(response.status).toBe(409);
    expect(((await response.json()) as any).error).toMatchObject({
      code: 'BASE_MISMATCH',
      hint: expect.any(String),
    });
    expect(await digestOf('app')).toBe(before);
  });

  async function currentEntries(): Promise<unknown[]> {
    // The manifest of the current tree plus one new file: a real change to sync.
    const list = await (await api('/app')).json();
    expect(list).toMatchObject({ name: 'app' });
    return [good];
  }

  it('a hash mismatch, then a concurrent sync (409), each leaving the tree as it was', async () => {
    const before = await digestOf('app');
    const begun = (await (await beginSync('app', await currentEntries())).json()) as any;
    expect(begun.missing).toEqual([{ sha256: sha('ok'), size: 2 }]);
    const second = await beginSync('app', [{ ...good, path: 'other.txt' }]);
    expect(second.status).toBe(409);
    expect(((await second.json()) as any).error.code).toBe('SYNC_IN_PROGRESS');
    const upload = await api(`/app/syncs/${begun.sync_id}/blobs`, {
      method: 'PUT',
      body: `${sha('ok')} 2\nKO`,
    });
    expect(upload.status).toBe(400);
    expect(((await upload.json()) as any).error.code).toBe('HASH_MISMATCH');
    const commit = await api(`/app/syncs/${begun.sync_id}/commit`, { method: 'POST' });
    expect(commit.status).toBe(404);
    expect(await digestOf('app')).toBe(before);
  });

  it('an upload interrupted half way', async () => {
    const before = await digestOf('app');
    const big = Buffer.alloc(4 * 1024 * 1024, 'z');
    const begun = (await (
      await beginSync('app', [{ path: 'big.bin', size: big.length, mode: 0o644, sha256: sha(big) }])
    ).json()) as any;
    const abort = new AbortController();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 0) controller.enqueue(Buffer.from(`${sha(big)} ${big.length}\n`));
        if (sent >= big.length / 2) {
          abort.abort();
          return;
        }
        controller.enqueue(big.subarray(sent, sent + 256 * 1024));
        sent += 256 * 1024;
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    const upload = api(`/app/syncs/${begun.sync_id}/blobs`, {
      method: 'PUT',
      body,
      duplex: 'half',
      signal: abort.signal,
    } as RequestInit);
    await expect(upload).rejects.toThrow();
    // The server notices, ends the sync (a new one is accepted), and keeps the previous tree.
    const next = await waitFor(
      async () => (await beginSync('app', [good])).status,
      (status) => status === 201,
    );
    expect(next).toBe(201);
    expect(await digestOf('app')).toBe(before);
    const leftovers = (await readdir(dataDir, { recursive: true })).filter((p) => p.includes('/tmp/'));
    expect(leftovers).toEqual([]);
    const run = await connectClient('v1-sse', server.url);
    try {
      const result = await run.callTool('run', {
        cmd_str: 'cat src/a.txt; ls -A',
        deployment: 'api',
        workspace: 'app',
      });
      expect(result.structuredContent!.stdout).toBe(
        'version three\n.gitignore\n.mirrordignore\na-link\nrun.sh\nsrc\n',
      );
    } finally {
      await run.close();
    }
  });

  it('refuses a foreign Origin like MCP does', async () => {
    const response = await api('', { headers: { origin: 'http://evil.example' } });
    expect(response.status).toBe(403);
  });

  it('refuses a blob upload or commit for an unknown sync', async () => {
    const response = await api('/app/syncs/nope/commit', { method: 'POST' });
    expect(response.status).toBe(404);
    expect(((await response.json()) as any).error.code).toBe('SYNC_NOT_FOUND');
  });
});

/** Starts `sync --watch --json`; its stdout so far, and a way to wait for its exit. */
function startWatchCli(dir: string, workspace: string, extra: string[] = []) {
  const child = spawn(
    process.execPath,
    [binPath, 'sync', dir, '--url', server.url, '--workspace', workspace, '--watch', '--json', ...extra],
    {
      env: { PATH: process.env.PATH ?? '', HOME: home, XDG_RUNTIME_DIR: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (output.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output.stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  /** Waits for the watch's first report (its first sync). */
  const synced = async (): Promise<void> => {
    const stdout = await waitFor(
      () => output.stdout,
      (s) => s.includes('"treeId"'),
      10_000,
    );
    expect(stdout, `the watch's first sync (stderr: ${output.stderr})`).toContain('"treeId"');
  };
  return { child, output, exited, synced };
}

describe('a one-shot sync while a --watch runs', () => {
  it('asks the watch, which syncs at once or confirms with the server that nothing changed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mms-handoff-'));
    const other = await mkdtemp(join(tmpdir(), 'mms-handoff-other-'));
    const args = [dir, '--url', server.url, '--workspace', 'handoff', '--json'];
    const once = async (extra: string[] = [], from = args) => {
      const result = await syncCli([...from, ...extra]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout.trim()) as Record<string, any>;
    };
    let watch = startWatchCli(dir, 'handoff', ['--debounce-ms', '60000']);
    try {
      await put(dir, 'a.txt', 'one');
      await watch.synced();
      const pid = watch.child.pid;

      // Changed: the watch syncs now (its debounce is a minute), and says so.
      await put(dir, 'a.txt', 'two');
      const changed = await once();
      expect(changed).toMatchObject({ watch: pid, unchanged: false, updated: 1, sentFiles: 1 });
      // What the server holds is exactly the directory: a sync of its own finds nothing to do.
      expect(await once(['--ignore-watch'])).toMatchObject({ unchanged: true });
      expect((await once(['--ignore-watch'])).watch).toBeUndefined();

      // Unchanged: answered from the watch's last sync, after asking the server.
      expect(await once()).toMatchObject({ watch: pid, unchanged: true, files: 1 });

      // Changes of several kinds, which the watch lists from its events alone (no walk): the
      // server then holds what a walk of the directory finds.
      await put(dir, 'lib/deep/x.ts', 'x');
      await put(dir, 'lib/y.ts', 'y');
      expect(await once()).toMatchObject({ watch: pid, added: 2, updated: 0, removed: 0 });
      await rm(join(dir, 'lib/deep'), { recursive: true });
      await symlink('y.ts', join(dir, 'lib/link'));
      expect(await once()).toMatchObject({ watch: pid, added: 1, removed: 1, files: 3 });
      expect(await once(['--ignore-watch'])).toMatchObject({ unchanged: true, files: 3 });

      // The workspace moved on without the watch (another directory synced to it): the watch
      // does not take its word for it, it syncs.
      await put(other, 'b.txt', 'elsewhere');
      await once([], [other, '--url', server.url, '--workspace', 'handoff', '--json']);
      expect(await once()).toMatchObject({ watch: pid, unchanged: false, added: 3, removed: 1 });
      expect(await once(['--ignore-watch'])).toMatchObject({ unchanged: true });

      // One watch per directory, server, workspace and token.
      const second = startWatchCli(dir, 'handoff');
      expect(await second.exited).toBe(1);
      expect(second.output.stderr).toContain(`another sync --watch (pid ${pid}) already keeps`);

      // A watch that was killed: the one-shot syncs by itself; a new watch takes the socket over.
      watch.child.kill('SIGKILL');
      await watch.exited;
      await put(dir, 'a.txt', 'three');
      expect(await once()).toMatchObject({ unchanged: false, updated: 1 });
      expect((await once()).watch).toBeUndefined();
      watch = startWatchCli(dir, 'handoff');
      await watch.synced();
      expect(await once()).toMatchObject({ watch: watch.child.pid, unchanged: true });
      watch.child.kill('SIGINT');
      expect(await watch.exited).toBe(0);
      const sockets = await readdir(join(home, `mirrord-mcp-server-${process.getuid!()}`));
      expect(sockets).toEqual([]);
    } finally {
      watch.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      await rm(other, { recursive: true, force: true });
    }
  });

  it('reports the error of the sync the watch made, and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mms-handoff-bad-'));
    const watch = startWatchCli(dir, 'handoff-bad', ['--debounce-ms', '60000']);
    try {
      await put(dir, 'ok.txt', 'fine');
      await watch.synced();
      await symlink('/etc/passwd', join(dir, 'passwd'));
      const result = await syncCli([dir, '--url', server.url, '--workspace', 'handoff-bad']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/SYMLINK_ESCAPE: symlink "passwd" -> "\/etc\/passwd"/);
      expect(result.stderr).toContain(`from the sync --watch running as pid ${watch.child.pid}`);
    } finally {
      watch.child.kill('SIGINT');
      await watch.exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sync CLI errors and --watch', () => {
  it('refuses a symlink pointing outside, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mms-evil-'));
    try {
      await symlink('/etc/passwd', join(dir, 'passwd'));
      const result = await syncCli([dir, '--url', server.url, '--workspace', 'evil']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /SYMLINK_ESCAPE: symlink "passwd" -> "\/etc\/passwd" has an absolute target/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the command routes sync to the bundled client and the rest to dist/cli.js', async () => {
    const help = (args: string[]) =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, [binPath, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.once('exit', () => resolve(out));
      });
    expect(await help(['sync', '--help'])).toMatch(/^Usage: mirrord-mcp-server sync \[DIR\]/);
    expect(await help(['--help'])).toMatch(/^mirrord-mcp-server: run commands under mirrord/);
    // dist/cli.js syncs too (the same bundle).
    const dir = await mkdtemp(join(tmpdir(), 'mms-cli-'));
    try {
      await put(dir, 'a.txt', 'through cli.js');
      const result = await syncCli(
        [dir, '--url', server.url, '--workspace', 'via-cli', '--json'],
        {},
        cliPath,
      );
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).added).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 on bad usage and 1 when the server is unreachable', async () => {
    const usage = await syncCli([project, '--workspace', 'x']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--url is required/);
    const debounce = await syncCli([
      project,
      '--url',
      server.url,
      '--workspace',
      'x',
      '--watch',
      '--debounce-ms',
      'soon',
    ]);
    expect(debounce.code).toBe(2);
    expect(debounce.stderr).toMatch(/--debounce-ms must be a number of milliseconds, got soon/);
    const down = await syncCli([project, '--url', 'http://127.0.0.1:1', '--workspace', 'x']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/UNREACHABLE: cannot reach http:\/\/127\.0\.0\.1:1/);
  });

  it('--watch re-syncs on change and stops on SIGINT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mms-watch-'));
    try {
      await put(dir, 'w.txt', 'one');
      const child = spawn(
        process.execPath,
        [
          cliPath,
          'sync',
          dir,
          '--url',
          server.url,
          '--workspace',
          'watched',
          '--watch',
          '--debounce-ms',
          '100',
        ],
        {
          env: { PATH: process.env.PATH ?? '', HOME: home, XDG_RUNTIME_DIR: home },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      await waitFor(
        () => stdout,
        (s) => s.includes('synced'),
        10_000,
      );
      const first = await digestOf('watched');
      await put(dir, 'w.txt', 'two');
      const second = await waitFor(
        () => digestOf('watched'),
        (d) => d !== first,
        10_000,
      );
      expect(second).not.toBe(first);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stdout.match(/synced/g)?.length).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a server without workspaces', () => {
  let local: TestServer;
  beforeAll(async () => {
    local = await startServer();
  });
  afterAll(async () => {
    await local.stop();
    await local.cleanup();
  });

  it('keeps accepting an absolute cwd and refuses `workspace` and the sync API clearly', async () => {
    const client = await connectClient('v2-sse', local.url);
    try {
      const ok = await client.callTool('run', { cmd_str: 'pwd', deployment: 'api', cwd: project });
      expect(ok.structuredContent!.stdout).toBe(`${project}\n`);
      const refused = await client.callTool('run', { cmd_str: 'pwd', deployment: 'api', workspace: 'app' });
      expect(refused.structuredContent!.error.code).toBe('WORKSPACES_DISABLED');
      const listed = await client.callTool('workspace_list', {});
      expect(listed.structuredContent!.error.code).toBe('WORKSPACES_DISABLED');
    } finally {
      await client.close();
    }
    const response = await fetch(`${local.url}/workspaces/app`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as any).error.code).toBe('WORKSPACES_DISABLED');
  });
});

describe('a small delta in one request (contents inline, commit)', () => {
  type Entry = { path: string; size: number; mode: number; sha256: string };
  const fileEntry = (path: string, content: string): Entry => ({
    path,
    size: Buffer.byteLength(content),
    mode: 0o644,
    sha256: sha(content),
  });
  const digestFor = (entries: Entry[]): string =>
    buildTree(
      entries.map((e) => ({ type: 'file', path: e.path, size: e.size, executable: false, sha256: e.sha256 })),
      { maxFiles: 1000, maxBytes: 1e9 },
    ).digest;
  const post = async (body: unknown): Promise<{ status: number; json: any }> => {
    const response = await api('/inline/syncs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };
  const blob = (content: string) => ({ sha256: sha(content), data: Buffer.from(content).toString('base64') });
  let tree: Entry[] = [];

  beforeAll(async () => {
    tree = [fileEntry('a.txt', 'one'), fileEntry('keep.txt', 'kept')];
    const begun = (await (await beginSync('inline', tree)).json()) as any;
    await api(`/inline/syncs/${begun.sync_id}/blobs`, {
      method: 'PUT',
      body: `${sha('one')} 3\none${sha('kept')} 4\nkept`,
    });
    expect((await api(`/inline/syncs/${begun.sync_id}/commit`, { method: 'POST' })).status).toBe(200);
  });

  it('stores the contents it lacks and commits at once', async () => {
    const next = [fileEntry('a.txt', 'two'), fileEntry('b.txt', 'bee'), fileEntry('keep.txt', 'kept')];
    const { status, json } = await post({
      base: digestFor(tree),
      digest: digestFor(next),
      changes: [next[0], next[1]],
      removed: [],
      blobs: [blob('two'), blob('bee')],
      commit: true,
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({
      unchanged: false,
      committed: true,
      received: 2,
      changed: { added: 1, updated: 1, removed: 0 },
      workspace: { digest: digestFor(next) },
    });
    tree = next;
  });

  it('ignores contents it has or that the delta does not name, and still commits', async () => {
    const next = [fileEntry('a.txt', 'two'), fileEntry('b.txt', 'bee'), fileEntry('copy.txt', 'kept')];
    const { status, json } = await post({
      base: digestFor(tree),
      digest: digestFor(next),
      changes: [next[2]],
      removed: ['keep.txt'],
      blobs: [blob('kept'), blob('unrelated')],
      commit: true,
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ committed: true, received: 0, changed: { added: 1, removed: 1 } });
    tree = next;
  });

  it('asks for what it still lacks when a content is not inline, then commits as usual', async () => {
    const next = [...tree, fileEntry('c.txt', 'sea'), fileEntry('d.txt', 'dee')];
    const { status, json } = await post({
      base: digestFor(tree),
      digest: digestFor(next),
      changes: [next[3], next[4]],
      removed: [],
      blobs: [blob('dee')],
      commit: true,
    });
    expect(status).toBe(201);
    expect(json.missing).toEqual([{ sha256: sha('sea'), size: 3 }]);
    await api(`/inline/syncs/${json.sync_id}/blobs`, { method: 'PUT', body: `${sha('sea')} 3\nsea` });
    const commit = await api(`/inline/syncs/${json.sync_id}/commit`, { method: 'POST' });
    expect(commit.status).toBe(200);
    expect(await digestOf('inline')).toBe(digestFor(next));
    tree = next;
  });

  it.each([
    [
      'content that does not hash to its name',
      [{ sha256: sha('eee'), data: Buffer.from('EEE').toString('base64') }],
      400,
      'HASH_MISMATCH',
    ],
    ['content that is not base64', [{ sha256: sha('eee'), data: 'not base64!' }], 400, 'INVALID_MANIFEST'],
    ['too many contents', Array.from({ length: 65 }, (_, i) => blob(`x${i}`)), 400, 'INVALID_MANIFEST'],
  ])('refuses %s and leaves the tree as it was', async (_label, blobs, status, code) => {
    const before = await digestOf('inline');
    const next = [...tree, fileEntry('e.txt', 'eee')];
    const response = await post({
      base: digestFor(tree),
      digest: digestFor(next),
      changes: [next.at(-1)],
      removed: [],
      blobs,
      commit: true,
    });
    expect(response.status).toBe(status);
    expect(response.json.error.code).toBe(code);
    expect(await digestOf('inline')).toBe(before);
  });

  it('the sync CLI sends a one-file change in one request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mms-inline-'));
    try {
      await put(dir, 'a.txt', 'first');
      await put(dir, 'b.txt', 'other');
      await syncJson(dir, 'inline-cli');
      await put(dir, 'a.txt', 'second');
      const report = await syncJson(dir, 'inline-cli');
      expect(report).toMatchObject({ delta: true, sentFiles: 1, updated: 1 });
      expect(report.phases.upload).toBeUndefined();
      expect(report.phases.commit).toBeUndefined();
      // Over this server's 64 KiB manifest limit once in base64: refused, sent again without it.
      await put(dir, 'a.txt', 'x'.repeat(60 * 1024));
      const large = await syncJson(dir, 'inline-cli');
      expect(large).toMatchObject({ delta: true, sentFiles: 1, updated: 1 });
      expect(large.phases.upload).toBeGreaterThanOrEqual(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
