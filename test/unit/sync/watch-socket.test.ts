import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  askWatch,
  hello,
  listenForSyncs,
  watchSocketPath,
  type WatchListener,
} from '../../../src/sync/watch-socket.js';

const key = { root: '/home/dev/project', url: 'http://127.0.0.1:3000', workspace: 'ws', token: 't0ken' };
const fields = (error: unknown) => ({ code: 'FAILED', message: (error as Error).message, hint: 'try again' });

let base: string;
const listeners: WatchListener[] = [];

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'mms-sock-'));
});
afterEach(async () => {
  for (const listener of listeners.splice(0)) await listener.close();
  await rm(base, { recursive: true, force: true });
});

async function listen<R>(path: string, flush: () => Promise<R>): Promise<WatchListener> {
  const listener = await listenForSyncs(path, flush, fields);
  if ('taken' in listener) throw new Error(`taken by ${listener.taken}`);
  listeners.push(listener);
  return listener;
}

describe('watchSocketPath', () => {
  it('is one socket per directory, server, workspace and token, in a directory only this user enters', async () => {
    const env = { XDG_RUNTIME_DIR: base };
    const path = watchSocketPath(key, env);
    expect(path).toMatch(new RegExp(`^${base}/mirrord-mcp-server-${process.getuid!()}/[0-9a-f]{32}\\.sock$`));
    expect(watchSocketPath(key, env)).toBe(path);
    expect((await stat(join(path!, '..'))).mode & 0o777).toBe(0o700);
    for (const other of [
      { ...key, root: '/home/dev/other' },
      { ...key, url: 'http://127.0.0.1:3001' },
      { ...key, workspace: 'ws2' },
      { ...key, token: 'another' },
      { ...key, token: undefined },
    ]) {
      expect(watchSocketPath(other, env)).not.toBe(path);
    }
    // The name tells nothing of the token or the project.
    expect(path).not.toContain('t0ken');
    expect(path).not.toContain('project');
  });

  it('refuses a directory others can enter or that is not a directory, and falls back to the temp directory', async () => {
    const dir = join(base, `mirrord-mcp-server-${process.getuid!()}`);
    await mkdir(dir, { mode: 0o700 });
    await chmod(dir, 0o755);
    const fallback = watchSocketPath(key, { XDG_RUNTIME_DIR: base });
    expect(fallback).toBeDefined();
    expect(fallback!.startsWith(base)).toBe(false);
    await rm(dir, { recursive: true });
    await writeFile(dir, 'not a directory');
    expect(watchSocketPath(key, { XDG_RUNTIME_DIR: base })!.startsWith(base)).toBe(false);
  });
});

describe('listenForSyncs and askWatch', () => {
  const socketIn = (name = 'w.sock') => join(base, name);

  it('answers a sync with the report of flush, and errors with their code, message and hint', async () => {
    let flushes = 0;
    let fail = false;
    await listen(socketIn(), () => {
      flushes += 1;
      return fail ? Promise.reject(new Error('the server refused')) : Promise.resolve({ files: 3 });
    });
    expect(await askWatch(socketIn())).toEqual({ type: 'report', pid: process.pid, report: { files: 3 } });
    fail = true;
    expect(await askWatch(socketIn())).toEqual({
      type: 'error',
      pid: process.pid,
      code: 'FAILED',
      message: 'the server refused',
      hint: 'try again',
    });
    expect(flushes).toBe(2);
    expect(await hello(socketIn())).toBe(process.pid);
  });

  it('keeps a client waiting through a long sync with heartbeats', async () => {
    await listen(socketIn(), () => new Promise((resolve) => setTimeout(() => resolve('late'), 6_500)));
    expect(await askWatch(socketIn())).toMatchObject({ type: 'report', report: 'late' });
  }, 15_000);

  it('is nothing to ask where no watch listens, or where one never answers', async () => {
    expect(await askWatch(socketIn('none.sock'))).toBeUndefined();
    expect(await hello(socketIn('none.sock'))).toBeUndefined();
    // Something that accepts and stays silent: given up on after 5 s of silence.
    const mute = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => mute.listen(socketIn('mute.sock'), resolve));
    try {
      const started = performance.now();
      expect(await askWatch(socketIn('mute.sock'))).toBeUndefined();
      expect(performance.now() - started).toBeGreaterThan(4_500);
    } finally {
      await new Promise((resolve) => mute.close(resolve));
    }
  }, 15_000);

  it('a second listener on a live socket is told whose it is; a dead one is replaced; close removes it', async () => {
    const first = await listen(socketIn(), () => Promise.resolve('first'));
    expect(await listenForSyncs(socketIn(), () => Promise.resolve('second'), fields)).toEqual({
      taken: process.pid,
    });
    await first.close();
    listeners.splice(listeners.indexOf(first), 1);
    await expect(stat(socketIn())).rejects.toMatchObject({ code: 'ENOENT' });

    // A socket file left by a watch that was killed (nothing accepts on it any more).
    const killed = spawnSync(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(socketIn())}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect(killed.signal).toBe('SIGKILL');
    expect((await stat(socketIn())).isSocket()).toBe(true);
    const replaced = await listen(socketIn(), () => Promise.resolve('replacement'));
    expect(await askWatch(socketIn())).toMatchObject({ report: 'replacement' });
    await replaced.close();
    listeners.splice(listeners.indexOf(replaced), 1);
  });

  it('drops a request it does not know, and a line past its bound', async () => {
    await listen(socketIn(), () => Promise.resolve('ok'));
    const { connect } = await import('node:net');
    const exchange = (payload: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(socketIn());
        let got = '';
        socket.on('data', (c: Buffer) => (got += c.toString()));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(got));
        socket.write(payload);
      });
    expect(JSON.parse(await exchange('{"op":"delete-everything"}\n'))).toMatchObject({
      type: 'error',
      code: 'INVALID_REQUEST',
    });
    expect(await exchange('x'.repeat(2 * 1024 * 1024))).toBe('');
    expect(await exchange('not json\n')).toBe('');
    // Still answering afterwards.
    expect(await askWatch(socketIn())).toMatchObject({ report: 'ok' });
  });
});
