import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A running `sync --watch` answers the one-shot `sync` of the same directory, server, workspace
 * and token over a Unix socket: it already holds the hash cache, a warm connection and compiled
 * code, and its file watcher knows whether anything changed, so the one-shot process neither walks
 * nor hashes (and does not race the watch for the workspace). Line-delimited JSON: the client
 * sends `{"op":"sync"}`; the watch sends `{"type":"working"}` every second while it syncs, then
 * `{"type":"report","pid",...}` or `{"type":"error","code","message","hint"}`. `{"op":"hello"}`
 * is answered with `{"type":"hello","pid"}`.
 */
export interface WatchKey {
  root: string;
  url: string;
  workspace: string;
  token: string | undefined;
}

export type WatchAnswer<R> =
  | { type: 'report'; pid: number; report: R }
  | { type: 'error'; pid: number; code: string; message: string; hint?: string | undefined };

/** How long the client waits for the socket to accept, and for any line from a working watch. */
const connectTimeoutMs = 1000;
const silenceTimeoutMs = 5000;
const heartbeatMs = 1000;
/** Longest line either side accepts. */
const maxLineBytes = 1024 * 1024;
const maxConnections = 16;

/**
 * The socket of a key, in a directory only this user can enter ($XDG_RUNTIME_DIR, else the temp
 * directory): `mirrord-mcp-server-<uid>/<hash>.sock`, the hash covering the token too (so another
 * token is another watch, and the name tells nothing). Undefined where there is no such place:
 * Windows (named pipes are one namespace for all users), or a directory that is not this user's
 * alone (someone else made it first: they could pose as the watch).
 */
export function watchSocketPath(key: WatchKey, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return undefined;
  const uid = process.getuid();
  const hash = createHash('sha256')
    .update(JSON.stringify([key.root, key.url, key.workspace, key.token ?? null]))
    .digest('hex')
    .slice(0, 32);
  for (const base of [env.XDG_RUNTIME_DIR, tmpdir()]) {
    if (!base) continue;
    const dir = join(base, `mirrord-mcp-server-${uid}`);
    const path = join(dir, `${hash}.sock`);
    // sun_path holds 108 bytes on Linux, 104 on macOS.
    if (Buffer.byteLength(path) > 100) continue;
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') continue;
    }
    try {
      const info = lstatSync(dir);
      if (info.isDirectory() && info.uid === uid && (info.mode & 0o077) === 0) return path;
    } catch {
      // gone meanwhile: try the next place
    }
  }
  return undefined;
}

/** Reads newline-terminated JSON lines, at most `maxLineBytes` each; a longer one is an error. */
function onLines(socket: Socket, line: (value: unknown) => void, fail: (error: Error) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
      const text = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      try {
        line(JSON.parse(text));
      } catch (error) {
        fail(error as Error);
        return;
      }
    }
    if (buffered.length > maxLineBytes) fail(new Error('line too long'));
  });
}

export interface WatchListener {
  /** Stops answering and removes the socket (when it is still this listener's). */
  close(): Promise<void>;
}

/**
 * Answers one-shot syncs on `path` with `flush` (see `SyncWatch.flush`); `describe` turns its
 * error into the answer. Resolves with `{ taken: pid }` when another live watch answers there
 * (a stale socket of a watch that died is replaced).
 */
export async function listenForSyncs<R>(
  path: string,
  flush: () => Promise<R>,
  describe: (error: unknown) => { code: string; message: string; hint?: string | undefined },
): Promise<WatchListener | { taken: number }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    if (sockets.size >= maxConnections) {
      socket.end(
        `${JSON.stringify({ type: 'error', pid: process.pid, code: 'BUSY', message: 'the watch is answering too many syncs' })}\n`,
      );
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // A client that connects and says nothing is dropped.
    socket.setTimeout(silenceTimeoutMs, () => socket.destroy());
    let asked = false;
    const send = (value: unknown): void => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(value)}\n`);
    };
    onLines(
      socket,
      (value) => {
        if (asked) return;
        asked = true;
        const op = (value as { op?: unknown } | null)?.op;
        if (op === 'hello') {
          send({ type: 'hello', pid: process.pid });
          socket.end();
          return;
        }
        if (op !== 'sync') {
          send({ type: 'error', pid: process.pid, code: 'INVALID_REQUEST', message: 'unknown request' });
          socket.end();
          return;
        }
        socket.setTimeout(0);
        const beat = setInterval(() => {
          send({ type: 'working' });
        }, heartbeatMs);
        flush().then(
          (report) => {
            clearInterval(beat);
            send({ type: 'report', pid: process.pid, report });
            socket.end();
          },
          (error: unknown) => {
            clearInterval(beat);
            send({ type: 'error', pid: process.pid, ...describe(error) });
            socket.end();
          },
        );
      },
      () => socket.destroy(),
    );
  });

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    const pid = await hello(path);
    if (pid !== undefined) return { taken: pid };
    // Nobody answers there: the socket of a watch that died.
    unlinkSync(path);
    await listen();
  }
  const inode = statSync(path).ino;
  return {
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
      try {
        if (statSync(path).ino === inode) unlinkSync(path);
      } catch {
        // removed already
      }
    },
  };
}

/** The pid of the watch answering on `path`, or undefined when none does. */
export async function hello(path: string): Promise<number | undefined> {
  const answer = await ask(path, 'hello');
  return answer?.type === 'hello' ? (answer as { pid: number }).pid : undefined;
}

/**
 * Asks the watch on `path` for a sync: its answer, or undefined when no watch answers there, or
 * it goes quiet for 5 s or disconnects without answering (the caller then syncs by itself).
 */
export async function askWatch<R>(path: string): Promise<WatchAnswer<R> | undefined> {
  const answer = await ask(path, 'sync');
  return answer?.type === 'report' || answer?.type === 'error' ? (answer as WatchAnswer<R>) : undefined;
}

function ask(path: string, op: string): Promise<{ type?: unknown } | undefined> {
  return new Promise((resolve) => {
    const socket = connect(path);
    let done = false;
    const finish = (value: { type?: unknown } | undefined): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(connectTimeoutMs, () => {
      finish(undefined);
    });
    socket.once('error', () => {
      finish(undefined);
    });
    socket.once('close', () => {
      finish(undefined);
    });
    socket.once('connect', () => {
      socket.setTimeout(silenceTimeoutMs, () => {
        finish(undefined);
      });
      socket.write(`${JSON.stringify({ op })}\n`);
    });
    onLines(
      socket,
      (value) => {
        const type = (value as { type?: unknown } | null)?.type;
        if (type !== 'working') finish(value as { type?: unknown });
      },
      () => {
        finish(undefined);
      },
    );
  });
}
