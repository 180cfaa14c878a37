import { lstatSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { createIgnoreRules, ignoreFileNames, type IgnoreScope } from './ignore-rules.js';

export interface TreeWatcherOptions {
  root: string;
  /**
   * A path (relative to the root) that changed: created, written, removed or renamed; for a new
   * directory, the directory. Undefined: anything may have changed (an ignore file changed, a
   * directory could not be watched, the platform gave no name).
   */
  onChange: (path: string | undefined) => void;
  onError: (error: unknown) => void;
}

export interface TreeWatcher {
  /**
   * Whether every directory a sync would walk is watched, so that no event means no change. False
   * after a directory could not be watched (the system's limit on watches, permissions).
   */
  readonly complete: boolean;
  close(): void;
}

const ignoreFiles = new Set<string>(ignoreFileNames);

/**
 * Watches the directories of a project that a sync walks, one watch per directory (not Node's
 * recursive watch, which on Linux puts one on every file, ignored ones included: node_modules
 * alone can exhaust the system's inotify watches), with the same ignore rules as the walk.
 * New directories are watched as they appear (a sync lists what they hold); an ignore file that
 * changes makes it watch anew.
 */
export function watchTree(options: TreeWatcherOptions): TreeWatcher {
  const { root } = options;
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const watchers = new Map<string, FSWatcher>();
  let rules = createIgnoreRules(root);
  const scopes = new Map<string, IgnoreScope>();
  let complete = true;
  let closed = false;

  /** Stops watching `dir` and what is below it ("": everything). */
  const unwatch = (dir: string): void => {
    for (const [path, watcher] of watchers) {
      if (path === dir || path.startsWith(`${dir}/`) || dir === '') {
        watcher.close();
        watchers.delete(path);
        scopes.delete(path);
      }
    }
  };

  const failed = (error: unknown): void => {
    complete = false;
    options.onError(error);
    options.onChange(undefined);
  };

  /**
   * Watches `dir` (whose scope is `scope`) and the directories below it. What is in a new
   * directory needs no events of its own: the directory was reported, and a sync lists it whole.
   */
  const add = (dir: string, scope: IgnoreScope): void => {
    if (closed || watchers.has(dir)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir === '' ? root : prefix + dir, { persistent: true }, (_event, name) => {
        changed(dir, name?.toString());
      });
    } catch (error) {
      // Gone before it could be watched: its parent's event says so.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') failed(error);
      return;
    }
    watcher.on('error', (error: NodeJS.ErrnoException) => {
      watcher.close();
      watchers.delete(dir);
      // Removed while watched (some platforms say so with an error).
      if (error.code !== 'ENOENT' && error.code !== 'EPERM') failed(error);
      else options.onChange(dir === '' ? undefined : dir);
    });
    watchers.set(dir, watcher);
    scopes.set(dir, scope);
    // Listed after the watch is set: nothing created meanwhile is missed.
    let items;
    try {
      items = readdirSync(dir === '' ? root : prefix + dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const item of items) {
      const path = dir === '' ? item.name : `${dir}/${item.name}`;
      if (item.isDirectory() && !scope.ignores(path, true)) void enter(path, scope);
    }
  };

  const enter = async (dir: string, parent: IgnoreScope): Promise<void> => {
    try {
      add(dir, await rules.enter(dir, parent));
    } catch (error) {
      failed(error);
    }
  };

  const start = async (): Promise<void> => {
    try {
      add('', await rules.root());
    } catch (error) {
      failed(error);
    }
  };

  const changed = (dir: string, name: string | undefined): void => {
    if (closed) return;
    if (name === undefined || name === '') {
      options.onChange(undefined);
      return;
    }
    const path = dir === '' ? name : `${dir}/${name}`;
    if (ignoreFiles.has(name)) {
      // The rules changed: watch again under the new ones, and let the sync walk everything.
      unwatch('');
      rules = createIgnoreRules(root);
      void start();
      options.onChange(undefined);
      return;
    }
    options.onChange(path);
    // A directory that appeared (or was moved here) is watched, with what is inside; one that
    // went away is no longer.
    let isDirectory = false;
    try {
      isDirectory = lstatSync(prefix + path).isDirectory();
    } catch {
      // gone
    }
    const scope = scopes.get(dir);
    if (isDirectory && scope && !scope.ignores(path, true)) {
      if (!watchers.has(path)) void enter(path, scope);
    } else if (!isDirectory && watchers.has(path)) {
      unwatch(path);
    }
  };

  void start();
  return {
    get complete() {
      return complete;
    },
    close() {
      closed = true;
      unwatch('');
    },
  };
}
