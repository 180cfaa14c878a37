import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { AppError } from '../errors.js';

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the mirrord executable: a path is used as given, a bare name is looked up on PATH.
 * The error says every place it looked.
 */
export async function locateExecutable(bin: string, pathEnv: string | undefined): Promise<string> {
  if (bin.includes('/')) {
    const path = isAbsolute(bin) ? bin : resolve(bin);
    if (await isExecutableFile(path)) return path;
    throw new AppError(
      'MIRRORD_NOT_FOUND',
      `mirrord not found: ${path} does not exist or is not executable`,
      {
        looked: [path],
      },
    );
  }
  const dirs = (pathEnv ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const dir of dirs) {
    const candidate = join(dir, bin);
    if (await isExecutableFile(candidate)) return candidate;
  }
  throw new AppError(
    'MIRRORD_NOT_FOUND',
    `mirrord not found: no executable "${bin}" in PATH (${dirs.length > 0 ? dirs.join(delimiter) : 'PATH is empty'})`,
    { looked: dirs.map((dir) => join(dir, bin)) },
  );
}
