import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { AppError } from '../errors.js';
import type { Target } from '../mirrord/target.js';
import type { Discovery } from './discovery.js';
import { nearMisses } from './suggest.js';
import { isPodReady, podNotReadyReason, podOwner, podsSelectedBy, rolloutTemplate } from './workloads.js';

/** What the pre-spawn check found: the target to pass to mirrord and what to tell the caller. */
export interface CheckedTarget {
  target: Target;
  /** The container mirrord will target, when known. */
  container: string | null;
  notes: string[];
  /** For a pod target, the workload that owns it (`deployment/api`), when it has one. */
  owner: string | null;
}

/**
 * Sidecars mirrord itself skips when it picks a container (service meshes, secret injectors).
 * Keeping the same list means the container we report is the one mirrord uses.
 */
const sidecarNames = new Set([
  'istio-proxy',
  'istio-init',
  'linkerd-proxy',
  'linkerd-init',
  'vault-agent',
  'vault-agent-init',
  'consul-dataplane',
  'envoy-sidecar',
  'kuma-sidecar',
  'kuma-init',
]);

/** The container mirrord picks when none is named: the first that is not a known sidecar. */
export function pickContainer(containers: readonly V1Container[]): string | undefined {
  return (containers.find((c) => !sidecarNames.has(c.name)) ?? containers[0])?.name;
}

function didYouMean(wanted: string, candidates: Iterable<string>): string {
  const close = nearMisses(wanted, candidates);
  return close.length > 0 ? `; did you mean ${close.map((name) => `'${name}'`).join(' or ')}?` : '';
}

/**
 * Checks a run's target against the cluster before mirrord starts an agent: the workload exists,
 * it has a ready pod, the named container exists. Pins the container when a multi-container pod
 * has none named, so the result can say which one mirrord targets.
 */
export async function checkTarget(
  discovery: Discovery,
  target: Target,
  namespace: string,
  signal?: AbortSignal,
): Promise<CheckedTarget> {
  if (target.kind === 'targetless') return { target, container: null, notes: [], owner: null };
  const { objects } = await discovery.objects(namespace, signal);
  const named = (items: readonly { metadata?: { name?: string } }[]): string[] =>
    items.map((item) => item.metadata?.name ?? '');

  let containers: readonly V1Container[];
  let candidatesPods: readonly V1Pod[];
  let label: string;
  let owner: string | null = null;
  if (target.kind === 'pod') {
    const pod = objects.pods.find((p) => p.metadata?.name === target.name);
    if (!pod) {
      throw new AppError(
        'TARGET_NOT_FOUND',
        `no pod '${target.name}' in '${namespace}'${didYouMean(target.name, named(objects.pods))}`,
        {
          kind: 'pod',
          name: target.name,
          namespace,
          suggestions: nearMisses(target.name, named(objects.pods)),
        },
      );
    }
    if (pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) {
      throw new AppError(
        'TARGET_NOT_READY',
        `pod '${target.name}' in '${namespace}' is not running (${podNotReadyReason(pod) ?? 'unknown'}); mirrord can only attach to a running pod`,
        { kind: 'pod', name: target.name, namespace },
      );
    }
    containers = pod.spec?.containers ?? [];
    candidatesPods = [pod];
    label = `pod '${target.name}'`;
    owner = podOwner(pod) ?? null;
  } else {
    const list = target.kind === 'deployment' ? objects.deployments : objects.rollouts;
    const workload = list.find((w) => w.metadata?.name === target.name);
    if (!workload) {
      const suggestions = nearMisses(target.name, named(list));
      const other =
        target.kind === 'deployment'
          ? objects.rollouts.some((r) => r.metadata?.name === target.name)
            ? `; there is a rollout '${target.name}': use target 'rollout/${target.name}'`
            : ''
          : objects.deployments.some((d) => d.metadata?.name === target.name)
            ? `; there is a deployment '${target.name}': use target 'deployment/${target.name}'`
            : '';
      throw new AppError(
        'TARGET_NOT_FOUND',
        `no ${target.kind} '${target.name}' in '${namespace}'${other || didYouMean(target.name, named(list))}`,
        { kind: target.kind, name: target.name, namespace, suggestions },
      );
    }
    const template =
      target.kind === 'deployment'
        ? objects.deployments.find((d) => d.metadata?.name === target.name)?.spec?.template
        : rolloutTemplate(
            objects.rollouts.find((r) => r.metadata?.name === target.name) ?? {},
            objects.deployments,
          );
    containers = template?.spec?.containers ?? [];
    candidatesPods = podsSelectedBy(workload.spec?.selector, objects.pods);
    label = `${target.kind} '${target.name}'`;
    const ready = candidatesPods.filter(isPodReady);
    if (ready.length === 0) {
      const why = candidatesPods
        .slice(0, 3)
        .map((pod) => `${pod.metadata?.name ?? '?'}: ${podNotReadyReason(pod) ?? 'not ready'}`)
        .join(', ');
      throw new AppError(
        'TARGET_NOT_READY',
        `${label} in '${namespace}' has no ready pod (${ready.length}/${candidatesPods.length} ready${why ? `; ${why}` : ''})`,
        { kind: target.kind, name: target.name, namespace, pods: candidatesPods.length },
      );
    }
  }

  const notes: string[] = [];
  const names = containers.map((c) => c.name);
  if (target.container !== undefined) {
    if (names.length > 0 && !names.includes(target.container)) {
      throw new AppError(
        'CONTAINER_NOT_FOUND',
        `${label} in '${namespace}' has no container '${target.container}' (containers: ${names.join(', ')})${didYouMean(target.container, names)}`,
        { container: target.container, containers: names, namespace },
      );
    }
    return { target, container: target.container, notes, owner };
  }
  if (names.length > 1) {
    const picked = pickContainer(containers) ?? names[0] ?? '';
    notes.push(
      `${label} has ${names.length} containers (${names.join(', ')}); mirrord targets '${picked}'. Add /container/NAME to the target to choose another.`,
    );
    return {
      target: { ...target, container: picked, path: `${target.kind}/${target.name}/container/${picked}` },
      container: picked,
      notes,
      owner,
    };
  }
  if (target.kind === 'pod' && candidatesPods[0] && !isPodReady(candidatesPods[0])) {
    notes.push(
      `pod '${target.name}' is running but not Ready (${podNotReadyReason(candidatesPods[0]) ?? ''})`,
    );
  }
  return { target, container: names[0] ?? null, notes, owner };
}
