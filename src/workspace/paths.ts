import { posix } from 'node:path';
import { AppError } from '../errors.js';

const workspaceName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const maxPathBytes = 4096;
const maxSegmentBytes = 255;

/** A workspace name as the client gives it; refused unless it is a plain, portable directory name. */
export function parseWorkspaceName(name: unknown): string {
  if (typeof name !== 'string' || !workspaceName.test(name) || name === '.' || name === '..') {
    throw new AppError('INVALID_WORKSPACE_NAME', `invalid workspace name ${JSON.stringify(name)}`);
  }
  return name;
}

/**
 * A path inside a workspace: relative, "/"-separated, normalized. Everything that could name
 * something outside the workspace, or mean different things on different systems, is refused.
 */
export function parseRelativePath(path: unknown, what = 'path'): string {
  if (typeof path !== 'string' || path === '') {
    throw new AppError('INVALID_PATH', `${what} must be a non-empty string`);
  }
  const shown = JSON.stringify(path);
  if (path.includes('\0')) throw new AppError('INVALID_PATH', `${what} ${shown} contains a NUL byte`);
  if (path.includes('\\')) throw new AppError('INVALID_PATH', `${what} ${shown} contains a backslash`);
  if (path.startsWith('/')) throw new AppError('INVALID_PATH', `${what} ${shown} is absolute`);
  if (path.length * 3 > maxPathBytes && Buffer.byteLength(path) > maxPathBytes) {
    throw new AppError('INVALID_PATH', `${what} ${shown} is longer than ${maxPathBytes} bytes`);
  }
  for (const segment of path.split('/')) {
    if (segment === '..') throw new AppError('INVALID_PATH', `${what} ${shown} climbs out with ".."`);
    if (segment === '' || segment === '.') {
      throw new AppError('INVALID_PATH', `${what} ${shown} is not normalized (empty or "." segment)`);
    }
    // A UTF-16 unit is at most 3 UTF-8 bytes: short names need no byte count (most of them).
    if (segment.length * 3 > maxSegmentBytes && Buffer.byteLength(segment) > maxSegmentBytes) {
      throw new AppError('INVALID_PATH', `${what} ${shown} has a name longer than ${maxSegmentBytes} bytes`);
    }
  }
  return path;
}

/** A directory inside a workspace, where "" or "." is its root. */
export function parseRelativeDir(path: string | undefined, what = 'path'): string {
  if (path === undefined || path === '' || path === '.' || path === './') return '';
  return parseRelativePath(path.replace(/\/+$/, ''), what);
}

/**
 * Where a symlink at `linkPath` with `target` points, relative to the workspace root; throws when
 * the target is absolute or climbs out of the workspace.
 */
export function resolveSymlinkTarget(linkPath: string, target: string): string {
  const shown = `symlink ${JSON.stringify(linkPath)} -> ${JSON.stringify(target)}`;
  if (target === '' || target.includes('\0') || target.includes('\\')) {
    throw new AppError('SYMLINK_ESCAPE', `${shown} has an empty or unsafe target`);
  }
  if (target.startsWith('/')) throw new AppError('SYMLINK_ESCAPE', `${shown} has an absolute target`);
  const resolved = posix.normalize(posix.join(posix.dirname(linkPath), target));
  if (resolved === '..' || resolved.startsWith('../')) {
    throw new AppError('SYMLINK_ESCAPE', `${shown} points outside the workspace`);
  }
  return resolved === '.' ? '' : resolved;
}

/** The parent directories of a relative path, outermost first ("a/b/c" -> ["a", "a/b"]). */
export function parentDirs(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}
