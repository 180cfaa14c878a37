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
  /**
   * Every pattern names directories only (`name/`, no `!`): such a level can ignore a file only
   * through one of its directories, so a file's answer is its directory's, asked once per directory.
   */
  dirsOnly: boolean;
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

const neither = { ignored: false, unignored: false };

function scope(levels: readonly Level[]): IgnoreScope {
  // The last directory asked about for files, per level: a directory's files come one after another.
  const lastDir = levels.map(() => '\0');
  const lastAnswer = levels.map(() => neither);
  return {
    levels,
    ignores(path, isDirectory) {
      const slash = path.lastIndexOf('/');
      if (alwaysIgnored.has(path.slice(slash + 1))) return true;
      let ignored = false;
      for (let i = 0; i < levels.length; i++) {
        const level = levels[i] as Level;
        const rel = level.base === '' ? path : path.slice(level.base.length + 1);
        let result;
        if (isDirectory || !level.dirsOnly) {
          result = level.rules.test(isDirectory ? `${rel}/` : rel);
        } else {
          // What the `ignore` package answers for a file under directory-only patterns: its
          // directory's answer when that is "ignored", else no match.
          const dir = rel.slice(0, rel.lastIndexOf('/') + 1);
          if (dir !== lastDir[i]) {
            lastDir[i] = dir;
            const answer = dir === '' ? neither : level.rules.test(dir);
            lastAnswer[i] = answer.ignored ? answer : neither;
          }
          result = lastAnswer[i] as typeof neither;
        }
        if (result.ignored) ignored = true;
        else if (result.unignored) ignored = false;
      }
      return ignored;
    },
  };
}

/** Whether every pattern of an ignore file names directories only (see `Level.dirsOnly`). */
function directoriesOnly(text: string): boolean {
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('!') || line.includes('\\') || !line.endsWith('/') || /^\/+$/.test(line))
      return false;
  }
  return true;
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function load(root: string, dir: string, names: ReadonlySet<string> | undefined): Level | undefined {
  let level: Level | undefined;
  for (const name of ignoreFileNames) {
    if (names && !names.has(name)) continue;
    const text = readIfThere(join(root, dir, name));
    if (text === undefined) continue;
    level ??= { base: dir, rules: ignore(), dirsOnly: true };
    level.rules.add(text);
    level.dirsOnly &&= directoriesOnly(text);
  }
  return level;
}

export function createIgnoreRules(root: string): IgnoreRules {
  return {
    root(names) {
      const level = load(root, '', names);
      return Promise.resolve(scope(level ? [level] : []));
    },
    enter(dir, parent, names) {
      const level = load(root, dir, names);
      return Promise.resolve(level ? scope([...parent.levels, level]) : parent);
    },
  };
}
