import { execa } from 'execa';
import { locateExecutable } from './locate.js';

export interface MirrordVersion {
  path: string | null;
  version: string | null;
  error: string | null;
}

/** Finds mirrord and asks its version (`mirrord --version` prints "mirrord 3.250.0"), bounded in time. */
export async function probeMirrord(
  bin: string,
  pathEnv: string | undefined,
  timeoutMs = 5000,
): Promise<MirrordVersion> {
  let path: string;
  try {
    path = await locateExecutable(bin, pathEnv);
  } catch (error) {
    return { path: null, version: null, error: (error as Error).message };
  }
  try {
    const result = await execa(path, ['--version'], {
      timeout: timeoutMs,
      reject: false,
      env: { PATH: pathEnv ?? '', NO_GRAPHICS: '1' },
      extendEnv: false,
      stdin: 'ignore',
    });
    const match = /mirrord\s+(\d+\.\d+\.\d+\S*)/.exec(result.stdout);
    if (result.exitCode === 0 && match?.[1]) return { path, version: match[1], error: null };
    const why = result.timedOut
      ? `timed out after ${timeoutMs} ms`
      : `exit ${result.exitCode ?? result.signal ?? '?'}`;
    return {
      path,
      version: null,
      error: `"${path} --version" failed (${why}): ${result.stderr.slice(0, 300)}`,
    };
  } catch (error) {
    return { path, version: null, error: (error as Error).message };
  }
}
