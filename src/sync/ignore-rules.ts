import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** Files whose patterns (gitignore syntax) leave paths out of a sync, in any directory. */
export const ignoreFileNames = ['.gitignore', '.mirrordignore'] as const;

/** Never synced: version-control internals. */
const alwaysIgnored = new Set(['.git', '.hg', '.svn']);

interface Level {
  /** Directory of the ignore files, relative to the root ("" for the root). */
  base: string;
  rules: Ignore;
}

/**
 * gitignore semantics over a tree: each directory's `.gitignore` and `.mirrordignore` apply below
 * it, deeper files win (a `!pattern` re-includes), and an ignored directory is not entered.
 */
export interface IgnoreRules {
  /**
   * Loads the ignore files of `dir` (relative) on top of its parents' rules. `names`, when given,
   * lists the directory's entries: ignore files not among them are not even tried (a failed open
   * per directory and name costs more than the whole match).
   */
  enter(dir: string, parent: IgnoreScope, names?: ReadonlySet<string>): Promise<IgnoreScope>;
  root(names?: ReadonlySet<string>): Promise<IgnoreScope>;
}

export interface IgnoreScope {
  ignores(path: string, isDirectory: boolean): boolean;
  readonly levels: readonly Level[];
}

function scope(levels: readonly Level[]): IgnoreScope {
  return {
    levels,
    ignores(path, isDirectory) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (alwaysIgnored.has(name)) return true;
      let ignored = false;
      for (const level of levels) {
        const rel = level.base === '' ? path : path.slice(level.base.length + 1);
        const result = level.rules.test(isDirectory ? `${rel}/` : rel);
        if (result.ignored) ignored = true;
        else if (result.unignored) ignored = false;
      }
      return ignored;
    },
  };
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function load(root: string, dir: string, names: ReadonlySet<string> | undefined): Ignore | undefined {
  let rules: Ignore | undefined;
  for (const name of ignoreFileNames) {
    if (names && !names.has(name)) continue;
    const text = readIfThere(join(root, dir, name));
    if (text === undefined) continue;
    rules ??= ignore();
    rules.add(text);
  }
  return rules;
}

export function createIgnoreRules(root: string): IgnoreRules {
  return {
    root(names) {
      const rules = load(root, '', names);
      return Promise.resolve(scope(rules ? [{ base: '', rules }] : []));
    },
    enter(dir, parent, names) {
      const rules = load(root, dir, names);
      return Promise.resolve(rules ? scope([...parent.levels, { base: dir, rules }]) : parent);
    },
  };
}
