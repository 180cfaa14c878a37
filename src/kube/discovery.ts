import type { KubernetesListObject, KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { NamespacePolicy } from '../policy/namespaces.js';
import type { KubeClient } from './client.js';
import type { KubeRequest } from './errors.js';
import { createReflector, type Reflector, type ReflectorState } from './reflector.js';
import { buildTargets, type NamespaceObjects, type Rollout, type TargetInfo } from './workloads.js';

type Kind = keyof NamespaceObjects;
const kinds: readonly Kind[] = ['deployments', 'rollouts', 'statefulsets', 'pods'];

/** Namespaces beyond this many are read directly instead of being watched (a `*` on a big cluster). */
const maxWatchedNamespaces = 64;

export interface TargetListing {
  targets: readonly TargetInfo[];
  /** True when every kind came from a synced watch cache (no API round trip). */
  fromCache: boolean;
  /** Things the caller should know, e.g. "rollouts: forbidden". */
  warnings: string[];
}

export interface Discovery {
  /** The allowed namespaces that exist (or, when they cannot be listed, those named in the config). */
  namespaces(signal?: AbortSignal): Promise<{ names: string[]; warnings: string[] }>;
  objects(
    namespace: string,
    signal?: AbortSignal,
  ): Promise<{ objects: NamespaceObjects; fromCache: boolean; warnings: string[] }>;
  targets(namespace: string, signal?: AbortSignal): Promise<TargetListing>;
  /** State of every watch cache, for server_info. */
  cacheStatus(): { namespace: string; kinds: Record<string, ReflectorState> }[];
  close(): Promise<void>;
}

export interface DiscoveryDeps {
  kube: KubeClient;
  policy: NamespacePolicy;
  logger: Logger;
  /** kube.watch: serve reads from watch caches. */
  watch: boolean;
}

const requests: Record<Kind, (namespace: string | undefined) => KubeRequest> = {
  deployments: (namespace) => ({ verb: 'list', resource: 'deployments', group: 'apps', namespace }),
  statefulsets: (namespace) => ({ verb: 'list', resource: 'statefulsets', group: 'apps', namespace }),
  rollouts: (namespace) => ({ verb: 'list', resource: 'rollouts', group: 'argoproj.io', namespace }),
  pods: (namespace) => ({ verb: 'list', resource: 'pods', namespace }),
};

const paths: Record<Kind, (namespace: string) => string> = {
  deployments: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments`,
  statefulsets: (ns) => `/apis/apps/v1/namespaces/${ns}/statefulsets`,
  rollouts: (ns) => `/apis/argoproj.io/v1alpha1/namespaces/${ns}/rollouts`,
  pods: (ns) => `/api/v1/namespaces/${ns}/pods`,
};

interface NamespaceCache {
  reflectors: Record<Kind, Reflector<KubernetesObject>>;
  /** The targets built from the caches at these generations (in `kinds` order). */
  memo?: { generations: readonly number[]; targets: readonly TargetInfo[] };
}

/**
 * Target discovery: per allowed namespace, watch caches of deployments, rollouts, statefulsets and
 * pods (started in the background), with direct reads (bounded by kube.requestTimeoutMs) while a
 * cache is not synced or where watching is forbidden.
 */
export function createDiscovery(deps: DiscoveryDeps): Discovery {
  const { kube, policy, logger } = deps;
  const caches = new Map<string, NamespaceCache>();
  const watching = deps.watch && kube.source !== 'none';

  function listKind(
    kind: Kind,
    namespace: string,
    signal?: AbortSignal,
  ): Promise<KubernetesListObject<KubernetesObject>> {
    const request = requests[kind](namespace);
    switch (kind) {
      case 'deployments':
        return kube.request(request, (o) => kube.apps.listNamespacedDeployment({ namespace }, o), signal);
      case 'statefulsets':
        return kube.request(request, (o) => kube.apps.listNamespacedStatefulSet({ namespace }, o), signal);
      case 'pods':
        return kube.request(request, (o) => kube.core.listNamespacedPod({ namespace }, o), signal);
      case 'rollouts':
        return kube.request(
          request,
          async (o) =>
            (await kube.custom.listNamespacedCustomObject(
              { group: 'argoproj.io', version: 'v1alpha1', namespace, plural: 'rollouts' },
              o,
            )) as KubernetesListObject<Rollout>,
          signal,
        );
    }
  }

  function cacheFor(namespace: string): NamespaceCache | undefined {
    if (!watching || !policy.isAllowed(namespace)) return undefined;
    const existing = caches.get(namespace);
    if (existing) return existing;
    if (caches.size >= maxWatchedNamespaces) return undefined;
    const make = (kind: Kind): Reflector<KubernetesObject> =>
      createReflector({
        kubeConfig: kube.kubeConfig,
        path: paths[kind](namespace),
        request: { ...requests[kind](namespace), verb: 'watch' },
        list: () => listKind(kind, namespace),
        logger,
        namespace,
      });
    const cache: NamespaceCache = {
      reflectors: {
        deployments: make('deployments'),
        rollouts: make('rollouts'),
        statefulsets: make('statefulsets'),
        pods: make('pods'),
      },
    };
    caches.set(namespace, cache);
    return cache;
  }

  // Namespaces that are known without listing start watching at once.
  for (const namespace of policy.exactNames) cacheFor(namespace);

  const namespaceReflector: Reflector<V1Namespace> | undefined =
    watching && policy.hasGlobs
      ? createReflector<V1Namespace>({
          kubeConfig: kube.kubeConfig,
          path: '/api/v1/namespaces',
          request: { verb: 'watch', resource: 'namespaces' },
          list: () =>
            kube.request({ verb: 'list', resource: 'namespaces' }, (o) => kube.core.listNamespace({}, o)),
          logger,
          namespace: undefined,
        })
      : undefined;

  async function namespaces(signal?: AbortSignal): Promise<{ names: string[]; warnings: string[] }> {
    if (!policy.hasGlobs) return { names: [...policy.exactNames].sort(), warnings: [] };
    let all: readonly V1Namespace[];
    try {
      all =
        namespaceReflector?.state === 'synced'
          ? namespaceReflector.items()
          : (
              await kube.request(
                { verb: 'list', resource: 'namespaces' },
                (o) => kube.core.listNamespace({}, o),
                signal,
              )
            ).items;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        names: [...policy.exactNames].sort(),
        warnings: [
          `cannot list the cluster's namespaces, so only the namespaces named in namespaces.allowed are shown (${message})`,
        ],
      };
    }
    const names = all
      .filter((ns) => ns.status?.phase !== 'Terminating')
      .map((ns) => ns.metadata?.name ?? '')
      .filter((name) => name !== '' && policy.isAllowed(name));
    return { names: [...new Set([...names, ...policy.exactNames])].sort(), warnings: [] };
  }

  async function objects(
    namespace: string,
    signal?: AbortSignal,
  ): Promise<{ objects: NamespaceObjects; fromCache: boolean; warnings: string[] }> {
    const cache = cacheFor(namespace);
    const warnings: string[] = [];
    let fromCache = true;
    const read = async (kind: Kind): Promise<readonly KubernetesObject[]> => {
      const reflector = cache?.reflectors[kind];
      if (reflector?.state === 'synced') return reflector.items();
      if (kind === 'rollouts' && reflector?.state === 'absent') return [];
      fromCache = false;
      try {
        return (await listKind(kind, namespace, signal)).items;
      } catch (error) {
        // Argo Rollouts are optional: no CRD is no error, and a refusal is only a warning.
        if (kind === 'rollouts' && error instanceof AppError) {
          if (error.code === 'KUBE_NOT_FOUND') return [];
          if (error.code === 'KUBE_FORBIDDEN') {
            warnings.push(`rollouts are not shown: ${error.message}`);
            return [];
          }
        }
        throw error;
      }
    };
    const [deployments, rollouts, statefulsets, pods] = await Promise.all(kinds.map(read));
    return {
      // Each list holds objects of its own kind (read() is keyed by kind).
      objects: {
        deployments: deployments ?? [],
        rollouts: rollouts ?? [],
        statefulsets: statefulsets ?? [],
        pods: pods ?? [],
      },
      fromCache,
      warnings,
    };
  }

  /** The memo, when it is still what the caches hold. Checked on every call, so it builds no strings. */
  function currentMemo(cache: NamespaceCache): readonly TargetInfo[] | undefined {
    const memo = cache.memo;
    if (!memo) return undefined;
    for (const [i, kind] of kinds.entries()) {
      const reflector = cache.reflectors[kind];
      // Every state change bumps the generation, except stopping (discovery is closing).
      if (reflector.generation !== memo.generations[i] || reflector.state === 'stopped') return undefined;
    }
    return memo.targets;
  }

  async function targets(namespace: string, signal?: AbortSignal): Promise<TargetListing> {
    const cache = cacheFor(namespace);
    const memo = cache && currentMemo(cache);
    if (memo) return { targets: memo, fromCache: true, warnings: [] };
    // Taken before reading: if a cache changes during the read, the generations no longer match and
    // the next call rebuilds.
    const generations = cache ? kinds.map((kind) => cache.reflectors[kind].generation) : [];
    const read = await objects(namespace, signal);
    const built = buildTargets(namespace, read.objects);
    if (cache && read.fromCache) cache.memo = { generations, targets: built };
    return { targets: built, fromCache: read.fromCache, warnings: read.warnings };
  }

  return {
    namespaces,
    objects,
    targets,
    cacheStatus: () =>
      [...caches.entries()].map(([namespace, cache]) => ({
        namespace,
        kinds: Object.fromEntries(kinds.map((kind) => [kind, cache.reflectors[kind].state])),
      })),
    close: async () => {
      await namespaceReflector?.stop();
      await Promise.all(
        [...caches.values()].flatMap((cache) => kinds.map((kind) => cache.reflectors[kind].stop())),
      );
      caches.clear();
    },
  };
}
