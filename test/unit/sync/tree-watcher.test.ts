import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchTree, type TreeWatcher } from '../../../src/sync/tree-watcher.js';
import { waitFor } from '../../helpers/processes.js';

let root: string;
let watcher: TreeWatcher | undefined;

async function put(path: string, content = 'x'): Promise<void> {
  await mkdir(join(root, path, '..'), { recursive: true });
  await writeFile(join(root, path), content);
}
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mms-tree-watch-'));
  await put('.gitignore', 'node_modules/\n');
  await put('src/a.ts');
  await put('node_modules/x/index.js');
});
afterEach(async () => {
  watcher?.close();
  watcher = undefined;
  await rm(root, { recursive: true, force: true });
});

function start() {
  const events: (string | undefined)[] = [];
  const errors: unknown[] = [];
  watcher = watchTree({ root, onChange: (path) => events.push(path), onError: (e) => errors.push(e) });
  const seen = async (path: string | undefined) => {
    const found = await waitFor(
      () => events.includes(path),
      (yes) => yes,
      5_000,
    );
    expect(found, `an event for ${path}`).toBe(true);
  };
  return { events, errors, seen, watcher };
}

describe('watchTree', () => {
  it('reports changed paths in the directories a sync walks, new directories included', async () => {
    const { events, errors, seen, watcher } = start();
    await pause(50);
    await writeFile(join(root, 'src/a.ts'), 'changed');
    await seen('src/a.ts');
    await put('src/new/deeper/f.ts');
    await seen('src/new');
    // The new directories are watched: a file written in one later is reported by its path.
    await pause(100);
    await put('src/new/deeper/g.ts');
    await seen('src/new/deeper/g.ts');
    await rm(join(root, 'src/new'), { recursive: true });
    await pause(100);
    await put('src/b.ts');
    await seen('src/b.ts');
    expect(watcher.complete).toBe(true);
    expect(errors).toEqual([]);
    expect(events).not.toContain(undefined);
  });

  it('does not watch ignored directories or .git, until the ignore rules change', async () => {
    const { events, seen } = start();
    await pause(50);
    await put('node_modules/x/more.js');
    await put('.git/HEAD');
    await pause(100);
    await put('.git/index');
    await put('src/a.ts', 'marker');
    await seen('src/a.ts');
    await pause(100);
    expect(events.filter((p) => p?.startsWith('node_modules/') || p?.startsWith('.git/'))).toEqual([]);
    // The rules change: anything may have changed, and node_modules is watched from now on.
    await put('.gitignore', '');
    await seen(undefined);
    await pause(100);
    await put('node_modules/x/later.js');
    await seen('node_modules/x/later.js');
  });

  it('reports nothing after close', async () => {
    const { events } = start();
    await pause(50);
    watcher!.close();
    await put('src/a.ts', 'after');
    await pause(150);
    expect(events).toEqual([]);
  });
});
