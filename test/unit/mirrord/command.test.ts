import { describe, expect, it } from 'vitest';
import { buildChildEnv, buildExecArgs } from '../../../src/mirrord/command.js';
import { parseTarget } from '../../../src/mirrord/target.js';

const pod = parseTarget('pod/api-7d9f/container/app');
const targetless = parseTarget('targetless');

/** The argv after `--`, i.e. what mirrord runs. */
function program(args: string[]): string[] {
  return args.slice(args.indexOf('--') + 1);
}

/** The argv before `--`, i.e. what mirrord parses as its own flags. */
function mirrordFlags(args: string[]): string[] {
  return args.slice(0, args.indexOf('--'));
}

describe('buildExecArgs', () => {
  it('builds the full argv for a targeted run', () => {
    expect(
      buildExecArgs({
        configPath: '/tmp/m/run.json',
        target: pod,
        namespace: 'team-a',
        agentNamespace: 'agents',
        command: 'npm test',
      }),
    ).toEqual([
      'exec',
      '-f',
      '/tmp/m/run.json',
      '-t',
      'pod/api-7d9f/container/app',
      '-n',
      'team-a',
      '-a',
      'agents',
      '--disable-version-check',
      '--no-telemetry',
      '--',
      'sh',
      '-c',
      'npm test',
    ]);
  });

  it('targetless: no -t, still -n', () => {
    const args = buildExecArgs({
      configPath: '/c.json',
      target: targetless,
      namespace: 'ns',
      command: 'true',
    });
    expect(args).toEqual([
      'exec',
      '-f',
      '/c.json',
      '-n',
      'ns',
      '--disable-version-check',
      '--no-telemetry',
      '--',
      'sh',
      '-c',
      'true',
    ]);
    expect(args).not.toContain('-t');
  });

  it('-a only when an agent namespace is given', () => {
    const without = buildExecArgs({ configPath: '/c.json', target: pod, namespace: 'ns', command: 'x' });
    expect(without).not.toContain('-a');
    const explicitUndefined = buildExecArgs({
      configPath: '/c.json',
      target: pod,
      namespace: 'ns',
      agentNamespace: undefined,
      command: 'x',
    });
    expect(explicitUndefined).not.toContain('-a');
    const withIt = buildExecArgs({
      configPath: '/c.json',
      target: pod,
      namespace: 'ns',
      agentNamespace: 'ag',
      command: 'x',
    });
    expect(mirrordFlags(withIt)).toContain('-a');
    expect(withIt[withIt.indexOf('-a') + 1]).toBe('ag');
  });

  it('every mirrord flag comes before "--", and "--" appears once before sh -c', () => {
    const args = buildExecArgs({
      configPath: '/c.json',
      target: pod,
      namespace: 'ns',
      agentNamespace: 'ag',
      command: 'x',
    });
    const flags = mirrordFlags(args);
    for (const flag of ['-f', '-t', '-n', '-a', '--disable-version-check', '--no-telemetry'])
      expect(flags).toContain(flag);
    expect(flags[0]).toBe('exec');
    expect(program(args)).toEqual(['sh', '-c', 'x']);
  });

  it.each([
    '-v',
    '--help',
    '-- -e FOO=bar',
    'echo ${#PATH}',
    "docker ps --format '{{.Id}}'",
    'a; b && c | d > /tmp/x 2>&1',
    'printf "%s\\n" "$HOME" `id -u`',
    '',
    'line one\nline two',
    ' leading and trailing spaces ',
  ])('passes %j to sh -c as one argv element, unchanged', (command) => {
    const args = buildExecArgs({ configPath: '/c.json', target: pod, namespace: 'ns', command });
    expect(program(args)).toEqual(['sh', '-c', command]);
    expect(args[args.length - 1]).toBe(command);
    // The command never leaks into the flags mirrord parses.
    expect(mirrordFlags(args)).toHaveLength(args.length - 4);
  });

  it('paths and namespaces with unusual characters stay single elements', () => {
    const args = buildExecArgs({
      configPath: '/tmp/dir with space/c.json',
      target: pod,
      namespace: 'ns',
      command: 'x',
    });
    expect(args[2]).toBe('/tmp/dir with space/c.json');
  });
});

describe('buildChildEnv', () => {
  const serverEnv: NodeJS.ProcessEnv = {
    PATH: '/opt/bin:/usr/bin',
    HOME: '/home/srv',
    USER: 'srv',
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    TMPDIR: '/tmp',
    KUBECONFIG: '/home/srv/.kube/config',
    KUBERNETES_SERVICE_HOST: '10.0.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    HTTPS_PROXY: 'http://proxy:3128',
    HTTP_PROXY: 'http://proxy:3128',
    NO_PROXY: '10.0.0.0/8',
    https_proxy: 'http://p:1',
    http_proxy: 'http://p:2',
    no_proxy: 'localhost',
    SSL_CERT_FILE: '/etc/ssl/ca.pem',
    SSL_CERT_DIR: '/etc/ssl/certs',
    // Everything below must be dropped.
    MIRRORD_CI_API_KEY: 'ci-key',
    MIRRORD_RESOLVED_CONFIG: 'x',
    MIRRORD_AGENT_IMAGE: 'evil',
    MIRRORD_MCP_AUTH_TOKEN: 'token',
    GITHUB_TOKEN: 'ghp_secret',
    AWS_SECRET_ACCESS_KEY: 'aws',
    NODE_OPTIONS: '--require /tmp/evil.js',
    LD_PRELOAD: '/tmp/evil.so',
    KUBERNETES_PORT: 'tcp://10.0.0.1:443',
    npm_config_registry: 'x',
  };

  it('keeps the pass-through variables and drops everything else (mirrord: false)', () => {
    const env = buildChildEnv(serverEnv, { mirrord: false });
    expect(env).toEqual({
      PATH: '/opt/bin:/usr/bin',
      HOME: '/home/srv',
      USER: 'srv',
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      TMPDIR: '/tmp',
      KUBECONFIG: '/home/srv/.kube/config',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      HTTPS_PROXY: 'http://proxy:3128',
      HTTP_PROXY: 'http://proxy:3128',
      NO_PROXY: '10.0.0.0/8',
      https_proxy: 'http://p:1',
      http_proxy: 'http://p:2',
      no_proxy: 'localhost',
      SSL_CERT_FILE: '/etc/ssl/ca.pem',
      SSL_CERT_DIR: '/etc/ssl/certs',
    });
  });

  it('for mirrord, adds MIRRORD_PROGRESS_MODE=json and NO_GRAPHICS=1, and still drops other MIRRORD_*', () => {
    const env = buildChildEnv(serverEnv, { mirrord: true });
    expect(env.MIRRORD_PROGRESS_MODE).toBe('json');
    expect(env.NO_GRAPHICS).toBe('1');
    const mirrordVars = Object.keys(env).filter((name) => name.startsWith('MIRRORD_'));
    expect(mirrordVars).toEqual(['MIRRORD_PROGRESS_MODE']);
    for (const name of [
      'GITHUB_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'NODE_OPTIONS',
      'LD_PRELOAD',
      'MIRRORD_CI_API_KEY',
    ]) {
      expect(env).not.toHaveProperty(name);
    }
    expect(env.KUBECONFIG).toBe('/home/srv/.kube/config');
    expect(env.KUBERNETES_SERVICE_HOST).toBe('10.0.0.1');
  });

  it('without mirrord, sets no progress mode', () => {
    const env = buildChildEnv(serverEnv, { mirrord: false });
    expect(env).not.toHaveProperty('MIRRORD_PROGRESS_MODE');
    expect(env).not.toHaveProperty('NO_GRAPHICS');
  });

  it('drops unset and empty pass-through variables', () => {
    const env = buildChildEnv({ PATH: '/bin', HOME: '', KUBECONFIG: undefined }, { mirrord: false });
    expect(env).toEqual({ PATH: '/bin' });
  });

  it('gives a default PATH when the server has none', () => {
    expect(buildChildEnv({}, { mirrord: false })).toEqual({ PATH: '/usr/local/bin:/usr/bin:/bin' });
    expect(buildChildEnv({ PATH: '' }, { mirrord: false }).PATH).toBe('/usr/local/bin:/usr/bin:/bin');
  });

  it('merges extra variables over the base', () => {
    const env = buildChildEnv(
      { PATH: '/bin', HOME: '/h', SECRET: 's' },
      { mirrord: false, extra: { DEBUG: '1', HOME: '/caller-home' } },
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/caller-home', DEBUG: '1' });
  });

  it('merges extra for mirrord runs too', () => {
    const env = buildChildEnv({ PATH: '/bin' }, { mirrord: true, extra: { DEBUG: '1' } });
    expect(env).toEqual({ PATH: '/bin', MIRRORD_PROGRESS_MODE: 'json', NO_GRAPHICS: '1', DEBUG: '1' });
  });

  it('does not modify the server env or the extra object', () => {
    const server = { PATH: '/bin', X: '1' };
    const extra = { A: 'a' };
    const env = buildChildEnv(server, { mirrord: true, extra });
    env.PATH = '/changed';
    expect(server).toEqual({ PATH: '/bin', X: '1' });
    expect(extra).toEqual({ A: 'a' });
  });
});
