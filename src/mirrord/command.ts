import type { Target } from './target.js';

/** `mirrord exec` argv: flags first, then `--`, so nothing in the command is read as a mirrord flag. */
export function buildExecArgs(options: {
  configPath: string;
  target: Target;
  namespace: string;
  agentNamespace?: string | undefined;
  command: string;
}): string[] {
  const args = ['exec', '-f', options.configPath];
  if (options.target.kind !== 'targetless') args.push('-t', options.target.path);
  args.push('-n', options.namespace);
  if (options.agentNamespace !== undefined) args.push('-a', options.agentNamespace);
  args.push('--disable-version-check', '--no-telemetry', '--', 'sh', '-c', options.command);
  return args;
}

/** Variables passed through from the server's environment when set (MIRRORD.md §1). */
const passThrough = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'KUBECONFIG',
  'KUBERNETES_SERVICE_HOST',
  'KUBERNETES_SERVICE_PORT',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
  'https_proxy',
  'http_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
] as const;

/**
 * A minimal, explicit environment: what mirrord needs to reach the cluster and nothing of the
 * server's own (no MIRRORD_* controls, no tokens). `extra` holds the caller's variables for a
 * process started without mirrord (setup_cmd).
 */
export function buildChildEnv(
  serverEnv: NodeJS.ProcessEnv,
  options: { mirrord: boolean; extra?: Record<string, string> },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of passThrough) {
    const value = serverEnv[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  if (!('PATH' in env)) env.PATH = '/usr/local/bin:/usr/bin:/bin';
  if (options.mirrord) {
    env.MIRRORD_PROGRESS_MODE = 'json';
    env.NO_GRAPHICS = '1';
  }
  return { ...env, ...(options.extra ?? {}) };
}
