import {
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Observable,
  VersionApi,
  type ConfigurationOptions,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { translateKubeError, type KubeRequest } from './errors.js';

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where the client's credentials came from. */
export type KubeSource = 'in-cluster' | 'kubeconfig' | 'none';

export interface KubeClient {
  readonly source: KubeSource;
  /** API server URL, when configured. */
  readonly server: string | undefined;
  /** kubeconfig context in use (locally). */
  readonly context: string | undefined;
  /** The namespace the kubeconfig context (or the service account) defaults to. */
  readonly contextNamespace: string | undefined;
  /** Why the client is not configured (source "none"). */
  readonly problem: string | undefined;
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly authorization: AuthorizationV1Api;
  readonly authentication: AuthenticationV1Api;
  readonly versionApi: VersionApi;
  readonly requestTimeoutMs: number;
  /**
   * Runs one API request bounded by kube.requestTimeoutMs and the caller's signal; any failure
   * comes back as an AppError naming the request.
   */
  request<T>(
    request: KubeRequest,
    send: (options: ConfigurationOptions) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>;
}

export interface KubeClientOptions {
  env: NodeJS.ProcessEnv;
  context?: string | undefined;
  requestTimeoutMs: number;
}

/** Sets an abort signal on every request it sees. */
function signalMiddleware(signal: AbortSignal): ObservableMiddleware {
  return {
    pre: (context) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
}

function kubeconfigPaths(env: NodeJS.ProcessEnv): string[] {
  if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') {
    return env.KUBECONFIG.split(':').filter((path) => path !== '' && existsSync(path));
  }
  const home = env.HOME;
  const fallback = home ? join(home, '.kube', 'config') : undefined;
  return fallback && existsSync(fallback) ? [fallback] : [];
}

function load(options: KubeClientOptions): {
  kubeConfig: KubeConfig;
  source: KubeSource;
  problem?: string;
} {
  const { env } = options;
  const kubeConfig = new KubeConfig();
  // In a pod the service account wins, as for mirrord itself (MIRRORD.md §6).
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(serviceAccountDir, 'token'))) {
    kubeConfig.loadFromCluster();
    return { kubeConfig, source: 'in-cluster' };
  }
  const paths = kubeconfigPaths(env);
  if (paths.length === 0) {
    return {
      kubeConfig,
      source: 'none',
      problem:
        env.KUBECONFIG !== undefined && env.KUBECONFIG !== ''
          ? `no kubeconfig file found at KUBECONFIG=${env.KUBECONFIG}`
          : 'no kubeconfig (KUBECONFIG is unset and ~/.kube/config does not exist) and not running in a pod',
    };
  }
  try {
    const [first, ...rest] = paths;
    kubeConfig.loadFromFile(first ?? '');
    for (const path of rest) {
      const other = new KubeConfig();
      other.loadFromFile(path);
      kubeConfig.mergeConfig(other, true);
    }
  } catch (error) {
    return {
      kubeConfig: new KubeConfig(),
      source: 'none',
      problem: `cannot read kubeconfig ${paths.join(':')}: ${(error as Error).message}`,
    };
  }
  if (options.context !== undefined) {
    if (!kubeConfig.getContextObject(options.context)) {
      return {
        kubeConfig,
        source: 'none',
        problem: `kube.context "${options.context}" is not in the kubeconfig (contexts: ${kubeConfig
          .getContexts()
          .map((c) => c.name)
          .join(', ')})`,
      };
    }
    kubeConfig.setCurrentContext(options.context);
  }
  if (!kubeConfig.getCurrentCluster()) {
    return {
      kubeConfig,
      source: 'none',
      problem: `the kubeconfig ${paths.join(':')} names no current cluster`,
    };
  }
  return { kubeConfig, source: 'kubeconfig' };
}

/**
 * The Kubernetes client: the service account in a pod, the kubeconfig (and an optional context)
 * elsewhere. Without either, every request fails with KUBE_NOT_CONFIGURED.
 */
export function createKubeClient(options: KubeClientOptions): KubeClient {
  const { kubeConfig, source, problem } = load(options);
  if (source === 'none') {
    // makeApiClient needs a cluster; requests never reach it (request() refuses first).
    kubeConfig.loadFromClusterAndUser(
      { name: 'unconfigured', server: 'https://unconfigured.invalid', skipTLSVerify: false },
      { name: 'none' },
    );
  }
  const server = source === 'none' ? undefined : kubeConfig.getCurrentCluster()?.server;
  const contextObject = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  const contextNamespace =
    source === 'in-cluster'
      ? readServiceAccountNamespace()
      : (contextObject?.namespace ?? (source === 'none' ? undefined : 'default'));
  const timeoutMs = options.requestTimeoutMs;

  async function request<T>(
    what: KubeRequest,
    send: (options: ConfigurationOptions) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (source === 'none') {
      throw new AppError('KUBE_NOT_CONFIGURED', `no Kubernetes cluster is configured: ${problem ?? ''}`);
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    try {
      return await send({ middleware: [signalMiddleware(combined)], middlewareMergeStrategy: 'append' });
    } catch (error) {
      throw translateKubeError(error, what, { server, timeoutMs, timedOut: timeout.aborted });
    }
  }

  return {
    source,
    server,
    context: source === 'kubeconfig' ? kubeConfig.getCurrentContext() : undefined,
    contextNamespace,
    problem,
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    apps: kubeConfig.makeApiClient(AppsV1Api),
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    authorization: kubeConfig.makeApiClient(AuthorizationV1Api),
    authentication: kubeConfig.makeApiClient(AuthenticationV1Api),
    versionApi: kubeConfig.makeApiClient(VersionApi),
    requestTimeoutMs: timeoutMs,
    request,
  };
}

function readServiceAccountNamespace(): string | undefined {
  try {
    // Synchronous on purpose: read once at start-up, a few bytes from a local file.
    return readFileSync(join(serviceAccountDir, 'namespace'), 'utf8').trim();
  } catch {
    return undefined;
  }
}
