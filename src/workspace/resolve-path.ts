import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { AppError } from '../errors.js';
import { parseRelativeDir } from './paths.js';

/**
 * Resolves a relative path inside a tree directory, following symlinks, and refuses anything that
 * ends up outside it (a run may have left a symlink pointing anywhere).
 */
export async function resolveInTree(
  treeDir: string,
  relative: string | undefined,
  want: 'directory' | 'file' | 'any',
  what = 'path',
): Promise<{ path: string; relative: string }> {
  const rel = parseRelativeDir(relative, what);
  const root = await realpath(treeDir);
  const resolved = await realpath(join(root, rel)).catch(() => undefined);
  if (resolved === undefined) {
    throw new AppError(
      'PATH_NOT_FOUND',
      `${what} ${JSON.stringify(rel || '.')} does not exist in the workspace`,
    );
  }
  if (resolved !== root && !resolved.startsWith(root + sep)) {
    throw new AppError('SYMLINK_ESCAPE', `${what} ${JSON.stringify(rel)} resolves outside the workspace`);
  }
  const info = await stat(resolved);
  if (want === 'directory' && !info.isDirectory()) {
    throw new AppError('INVALID_CWD', `${what} ${JSON.stringify(rel)} is not a directory in the workspace`);
  }
  if (want === 'file' && !info.isFile()) {
    throw new AppError('NOT_A_FILE', `${what} ${JSON.stringify(rel)} is not a regular file`);
  }
  return { path: resolved, relative: rel };
}
