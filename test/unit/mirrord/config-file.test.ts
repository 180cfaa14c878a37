import { mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildMirrordConfig, createTempFiles, type TempFiles } from '../../../src/mirrord/config-file.js';
import { parseTarget } from '../../../src/mirrord/target.js';
import type { JsonObject } from '../../../src/policy/mirrord-config.js';

const deployment = parseTarget('deployment/api/container/app');
const targetless = parseTarget('targetless');

describe('buildMirrordConfig', () => {
  it('writes target, operator and telemetry for a targeted run', () => {
    expect(buildMirrordConfig({}, { target: deployment, namespace: 'team-a', envOverride: {} })).toEqual({
      target: { path: 'deployment/api/container/app', namespace: 'team-a' },
      operator: false,
      telemetry: false,
    });
  });

  it('a targetless run gets only the namespace as target', () => {
    expect(buildMirrordConfig({}, { target: targetless, namespace: 'team-a', envOverride: {} })).toEqual({
      target: { namespace: 'team-a' },
      operator: false,
      telemetry: false,
    });
  });

  it("the server's decisions override the caller's", () => {
    const caller: JsonObject = {
      target: { path: 'pod/other', namespace: 'kube-system' },
      operator: true,
      telemetry: true,
      agent: { image: 'evil/agent', privileged: true, namespace: 'kube-system' },
      feature: { fs: 'read' },
    };
    const config = buildMirrordConfig(caller, {
      target: deployment,
      namespace: 'team-a',
      agentNamespace: 'agents',
      envOverride: {},
    });
    expect(config).toEqual({
      target: { path: 'deployment/api/container/app', namespace: 'team-a' },
      operator: false,
      telemetry: false,
      agent: { namespace: 'agents' },
      feature: { fs: 'read' },
    });
  });

  it('sets agent.namespace only when an agent namespace is configured', () => {
    const without = buildMirrordConfig({}, { target: deployment, namespace: 'ns', envOverride: {} });
    expect(without).not.toHaveProperty('agent');
    const explicitUndefined = buildMirrordConfig(
      {},
      { target: deployment, namespace: 'ns', agentNamespace: undefined, envOverride: {} },
    );
    expect(explicitUndefined).not.toHaveProperty('agent');
    const withIt = buildMirrordConfig(
      {},
      { target: targetless, namespace: 'ns', agentNamespace: 'agents', envOverride: {} },
    );
    expect(withIt.agent).toEqual({ namespace: 'agents' });
  });

  it('keeps the rest of the caller config', () => {
    const caller: JsonObject = {
      feature: {
        network: { incoming: { mode: 'steal', ports: [8080] }, outgoing: true },
        fs: { mode: 'read' },
      },
      skip_processes: ['npm'],
    };
    const config = buildMirrordConfig(caller, { target: deployment, namespace: 'ns', envOverride: {} });
    expect(config.feature).toEqual(caller.feature);
    expect(config.skip_processes).toEqual(['npm']);
  });

  it('with no env to set, feature.env is left as the caller gave it', () => {
    const config = buildMirrordConfig(
      { feature: { env: false } },
      { target: deployment, namespace: 'ns', envOverride: {} },
    );
    expect(config.feature).toEqual({ env: false });
    expect(
      buildMirrordConfig({}, { target: deployment, namespace: 'ns', envOverride: {} }),
    ).not.toHaveProperty('feature');
  });

  it('puts the call env into feature.env.override', () => {
    const config = buildMirrordConfig(
      {},
      { target: deployment, namespace: 'ns', envOverride: { A: '1', B: '2' } },
    );
    expect(config.feature).toEqual({ env: { override: { A: '1', B: '2' } } });
  });

  it("merges with the caller's override; the call env wins on the same name", () => {
    const caller: JsonObject = {
      feature: { fs: 'read', env: { include: 'DB_*', override: { A: 'caller', KEEP: 'yes' } } },
    };
    const config = buildMirrordConfig(caller, {
      target: deployment,
      namespace: 'ns',
      envOverride: { A: 'call', NEW: 'n' },
    });
    expect(config.feature).toEqual({
      fs: 'read',
      env: { include: 'DB_*', override: { A: 'call', KEEP: 'yes', NEW: 'n' } },
    });
  });

  it('feature.env false becomes exclude "*" plus the override', () => {
    const config = buildMirrordConfig(
      { feature: { env: false, fs: 'local' } },
      { target: deployment, namespace: 'ns', envOverride: { A: '1' } },
    );
    expect(config.feature).toEqual({ fs: 'local', env: { exclude: '*', override: { A: '1' } } });
  });

  it('feature.env true becomes an object holding the override', () => {
    const config = buildMirrordConfig(
      { feature: { env: true } },
      { target: deployment, namespace: 'ns', envOverride: { A: '1' } },
    );
    expect(config.feature).toEqual({ env: { override: { A: '1' } } });
  });

  it('a non-object override from the caller is replaced', () => {
    const config = buildMirrordConfig(
      { feature: { env: { override: 'nonsense' } } },
      { target: deployment, namespace: 'ns', envOverride: { A: '1' } },
    );
    expect(config.feature).toEqual({ env: { override: { A: '1' } } });
  });

  it('does not mutate the caller object', () => {
    const caller: JsonObject = {
      feature: { env: { override: { A: 'caller' } }, network: { incoming: 'mirror' } },
      agent: { image: 'x' },
    };
    const snapshot = structuredClone(caller);
    const config = buildMirrordConfig(caller, {
      target: deployment,
      namespace: 'ns',
      agentNamespace: 'agents',
      envOverride: { A: 'call', B: 'b' },
    });
    expect(caller).toEqual(snapshot);
    expect(config.feature).not.toBe(caller.feature);
    // The result shares nothing with the caller: changing it leaves the caller alone.
    ((config.feature as JsonObject).network as JsonObject).incoming = 'steal';
    expect(caller).toEqual(snapshot);
  });

  it('does not mutate the env override it was given', () => {
    const envOverride = { A: '1' };
    const config = buildMirrordConfig({}, { target: deployment, namespace: 'ns', envOverride });
    (((config.feature as JsonObject).env as JsonObject).override as Record<string, string>).B = '2';
    expect(envOverride).toEqual({ A: '1' });
  });
});

describe('createTempFiles', () => {
  let base: string;
  let files: TempFiles | undefined;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'config-file-test-'));
  });

  afterEach(async () => {
    await files?.dispose();
    files = undefined;
    await rm(base, { recursive: true, force: true });
  });

  it('creates a private 0700 directory under the base', async () => {
    files = await createTempFiles(base);
    expect(dirname(files.dir)).toBe(base);
    expect(basename(files.dir)).toMatch(/^mirrord-mcp-/);
    const info = await stat(files.dir);
    expect(info.isDirectory()).toBe(true);
    expect(info.mode & 0o777).toBe(0o700);
  });

  it('defaults to the OS temp directory', async () => {
    files = await createTempFiles();
    expect(dirname(files.dir)).toBe(tmpdir());
    expect((await stat(files.dir)).mode & 0o777).toBe(0o700);
  });

  it('each call gets its own directory', async () => {
    files = await createTempFiles(base);
    const other = await createTempFiles(base);
    try {
      expect(other.dir).not.toBe(files.dir);
    } finally {
      await other.dispose();
    }
  });

  it('writes files with mode 0600 and the given contents', async () => {
    files = await createTempFiles(base);
    const oldMask = process.umask(0);
    let path: string;
    try {
      path = await files.write('run-1.json', '{"operator":false}');
    } finally {
      process.umask(oldMask);
    }
    expect(path).toBe(join(files.dir, 'run-1.json'));
    expect(await readFile(path, 'utf8')).toBe('{"operator":false}');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('refuses to overwrite an existing file (wx)', async () => {
    files = await createTempFiles(base);
    const path = await files.write('run.json', 'first');
    await expect(files.write('run.json', 'second')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path, 'utf8')).toBe('first');
  });

  it('refuses to write through a planted symlink or file', async () => {
    files = await createTempFiles(base);
    await writeFile(join(files.dir, 'planted.json'), 'attacker');
    await expect(files.write('planted.json', 'ours')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(join(files.dir, 'planted.json'), 'utf8')).toBe('attacker');
    const victim = join(base, 'victim');
    await symlink(victim, join(files.dir, 'link.json'));
    await expect(files.write('link.json', 'ours')).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(stat(victim)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('remove deletes one file and tolerates a missing one', async () => {
    files = await createTempFiles(base);
    const a = await files.write('a.json', 'a');
    const b = await files.write('b.json', 'b');
    await files.remove(a);
    expect((await readdir(files.dir)).sort()).toEqual(['b.json']);
    await expect(files.remove(a)).resolves.toBeUndefined();
    await files.remove(b);
    expect(await readdir(files.dir)).toEqual([]);
    // The name is free again once removed.
    await expect(files.write('a.json', 'again')).resolves.toBe(a);
  });

  it('dispose removes the directory with its files and may be called twice', async () => {
    files = await createTempFiles(base);
    await files.write('a.json', 'a');
    await files.dispose();
    await expect(stat(files.dir)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(files.dispose()).resolves.toBeUndefined();
    expect(await readdir(base)).toEqual([]);
  });

  it('a missing base directory is an error', async () => {
    await expect(createTempFiles(join(base, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
