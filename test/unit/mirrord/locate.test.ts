import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { locateExecutable } from '../../../src/mirrord/locate.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'locate-test-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function makeFile(path: string, mode: number): Promise<string> {
  await writeFile(path, '#!/bin/sh\nexit 0\n');
  await chmod(path, mode);
  return path;
}

async function makeDir(name: string): Promise<string> {
  const path = join(root, name);
  await mkdir(path, { recursive: true });
  return path;
}

async function expectNotFound(promise: Promise<string>): Promise<AppError> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('MIRRORD_NOT_FOUND');
  return error as AppError;
}

describe('locateExecutable: bare names on PATH', () => {
  it('finds an executable on PATH', async () => {
    const bin = await makeDir('bin');
    const path = await makeFile(join(bin, 'mirrord'), 0o755);
    await expect(locateExecutable('mirrord', bin)).resolves.toBe(path);
  });

  it('takes the first match in PATH order', async () => {
    const first = await makeDir('first');
    const second = await makeDir('second');
    await makeFile(join(second, 'mirrord'), 0o755);
    const expected = await makeFile(join(first, 'mirrord'), 0o755);
    await expect(locateExecutable('mirrord', [first, second].join(delimiter))).resolves.toBe(expected);
  });

  it('skips a non-executable file and finds a later executable one', async () => {
    const noExec = await makeDir('noexec');
    const good = await makeDir('good');
    await makeFile(join(noExec, 'mirrord'), 0o644);
    const expected = await makeFile(join(good, 'mirrord'), 0o700);
    await expect(locateExecutable('mirrord', [noExec, good].join(delimiter))).resolves.toBe(expected);
  });

  it('skips a directory with the same name', async () => {
    const shadow = await makeDir('shadow');
    await mkdir(join(shadow, 'mirrord'), { mode: 0o755 });
    const good = await makeDir('good');
    const expected = await makeFile(join(good, 'mirrord'), 0o755);
    await expect(locateExecutable('mirrord', [shadow, good].join(delimiter))).resolves.toBe(expected);
  });

  it('follows a symlink to an executable', async () => {
    const real = await makeDir('real');
    const target = await makeFile(join(real, 'mirrord-3.250.0'), 0o755);
    const bin = await makeDir('bin');
    await symlink(target, join(bin, 'mirrord'));
    await expect(locateExecutable('mirrord', bin)).resolves.toBe(join(bin, 'mirrord'));
  });

  it('ignores empty PATH entries and missing directories', async () => {
    const good = await makeDir('good');
    const expected = await makeFile(join(good, 'mirrord'), 0o755);
    const pathEnv = ['', join(root, 'missing'), '', good, ''].join(delimiter);
    await expect(locateExecutable('mirrord', pathEnv)).resolves.toBe(expected);
  });

  it('MIRRORD_NOT_FOUND lists every place it looked', async () => {
    const a = await makeDir('a');
    const b = await makeDir('b');
    await makeFile(join(a, 'mirrord'), 0o644);
    await mkdir(join(b, 'mirrord'));
    const missing = join(root, 'missing');
    const error = await expectNotFound(locateExecutable('mirrord', [a, '', b, missing].join(delimiter)));
    expect(error.message).toContain('no executable "mirrord" in PATH');
    expect(error.message).toContain([a, b, missing].join(delimiter));
    expect(error.details).toEqual({
      looked: [join(a, 'mirrord'), join(b, 'mirrord'), join(missing, 'mirrord')],
    });
    expect(error.hint).toContain('--mirrord-bin');
  });

  it.each([undefined, ''])('MIRRORD_NOT_FOUND says PATH is empty (%j)', async (pathEnv) => {
    const error = await expectNotFound(locateExecutable('mirrord', pathEnv));
    expect(error.message).toContain('PATH is empty');
    expect(error.details).toEqual({ looked: [] });
  });
});

describe('locateExecutable: paths', () => {
  it('uses an absolute path as given', async () => {
    const path = await makeFile(join(root, 'my-mirrord'), 0o755);
    // PATH is not consulted for a path.
    await expect(locateExecutable(path, undefined)).resolves.toBe(path);
  });

  it('resolves a relative path against the working directory', async () => {
    const path = await makeFile(join(root, 'my-mirrord'), 0o755);
    const rel = relative(process.cwd(), path);
    expect(rel).toContain('/');
    await expect(locateExecutable(rel, '')).resolves.toBe(path);
  });

  it('resolves a ./ path', async () => {
    const saved = process.cwd();
    const path = await makeFile(join(root, 'mirrord'), 0o755);
    process.chdir(root);
    try {
      await expect(locateExecutable('./mirrord', '')).resolves.toBe(path);
    } finally {
      process.chdir(saved);
    }
  });

  it('does not fall back to PATH when a path is missing', async () => {
    const bin = await makeDir('bin');
    await makeFile(join(bin, 'mirrord'), 0o755);
    const missing = join(root, 'nowhere', 'mirrord');
    const error = await expectNotFound(locateExecutable(missing, bin));
    expect(error.message).toContain(`${missing} does not exist or is not executable`);
    expect(error.details).toEqual({ looked: [missing] });
  });

  it('a non-executable file at the path is MIRRORD_NOT_FOUND', async () => {
    const path = await makeFile(join(root, 'mirrord'), 0o644);
    const error = await expectNotFound(locateExecutable(path, undefined));
    expect(error.message).toContain(path);
  });

  it('a directory at the path is MIRRORD_NOT_FOUND', async () => {
    const dir = await makeDir('mirrord.d');
    const error = await expectNotFound(locateExecutable(dir, undefined));
    expect(error.details).toEqual({ looked: [dir] });
  });
});
