import type {
  KubernetesObject,
  V1Container,
  V1Deployment,
  V1LabelSelector,
  V1Pod,
  V1PodTemplateSpec,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { selectorMatches } from './selector.js';

/** Kinds list_targets reports. statefulset needs mirrord's operator. */
export type WorkloadKind = 'deployment' | 'rollout' | 'statefulset' | 'pod';

export const operatorKinds: ReadonlySet<WorkloadKind> = new Set(['statefulset']);

/** An Argo Rollout, as far as we read it. */
export interface Rollout extends KubernetesObject {
  spec?: {
    replicas?: number;
    selector?: V1LabelSelector;
    template?: V1PodTemplateSpec;
    workloadRef?: { apiVersion?: string; kind?: string; name?: string };
  };
  status?: { readyReplicas?: number; availableReplicas?: number; replicas?: number; phase?: string };
}

export interface ContainerInfo {
  name: string;
  ports: { port: number; protocol: string; name?: string }[];
}

export interface TargetInfo {
  kind: WorkloadKind;
  name: string;
  namespace: string;
  /** The exact string to pass to `run` as `target`. */
  target: string;
  requiresOperator: boolean;
  ready: number;
  desired: number;
  containers: ContainerInfo[];
  /** Pods only: phase and the workload that owns it. */
  phase?: string;
  owner?: string;
  /** Why a pod (or a workload's pods) is not ready, when known. */
  notReady?: string;
}

/** The objects of one namespace that discovery reads. */
export interface NamespaceObjects {
  deployments: readonly V1Deployment[];
  statefulsets: readonly V1StatefulSet[];
  rollouts: readonly Rollout[];
  pods: readonly V1Pod[];
}

function containerInfo(containers: readonly V1Container[] | undefined): ContainerInfo[] {
  return (containers ?? []).map((container) => ({
    name: container.name,
    ports: (container.ports ?? []).map((port) => ({
      port: port.containerPort,
      protocol: port.protocol ?? 'TCP',
      ...(port.name ? { name: port.name } : {}),
    })),
  }));
}

/** Running, Ready and not being deleted: what mirrord can attach to. */
export function isPodReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (pod.status?.phase !== 'Running') return false;
  return (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Why a pod is not ready: a container's waiting/terminated reason, or its phase. */
export function podNotReadyReason(pod: V1Pod): string | undefined {
  if (isPodReady(pod)) return undefined;
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  for (const status of pod.status?.containerStatuses ?? []) {
    const reason = status.state?.waiting?.reason ?? status.state?.terminated?.reason;
    if (reason) return reason;
  }
  return pod.status?.phase === 'Running' ? 'not Ready' : (pod.status?.phase ?? 'Unknown');
}

/** The workload owning a pod: deployment/NAME via its ReplicaSet, or KIND/NAME. */
export function podOwner(pod: V1Pod): string | undefined {
  const ref = pod.metadata?.ownerReferences?.find((owner) => owner.controller === true);
  if (!ref) return undefined;
  if (ref.kind === 'ReplicaSet') {
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (hash && ref.name.endsWith(`-${hash}`)) {
      const base = ref.name.slice(0, -hash.length - 1);
      // Argo Rollouts also own ReplicaSets; the pod labels tell them apart only by the rollout's own label.
      return pod.metadata?.labels?.['rollouts-pod-template-hash'] ? `rollout/${base}` : `deployment/${base}`;
    }
    return `replicaset/${ref.name}`;
  }
  return `${ref.kind.toLowerCase()}/${ref.name}`;
}

export function podsSelectedBy(selector: V1LabelSelector | undefined, pods: readonly V1Pod[]): V1Pod[] {
  return pods.filter((pod) => selectorMatches(selector, pod.metadata?.labels));
}

/** Containers of a rollout: its own template, or the deployment it references (workloadRef). */
export function rolloutTemplate(
  rollout: Rollout,
  deployments: readonly V1Deployment[],
): V1PodTemplateSpec | undefined {
  if (rollout.spec?.template?.spec) return rollout.spec.template;
  const ref = rollout.spec?.workloadRef;
  if (ref?.kind === 'Deployment' && ref.name) {
    return deployments.find((d) => d.metadata?.name === ref.name)?.spec?.template;
  }
  return undefined;
}

function firstNotReady(pods: readonly V1Pod[]): string | undefined {
  for (const pod of pods) {
    const reason = podNotReadyReason(pod);
    if (reason) return `${pod.metadata?.name ?? '?'}: ${reason}`;
  }
  return undefined;
}

/** Every target of one namespace, workloads first, each kind sorted by name. */
export function buildTargets(namespace: string, objects: NamespaceObjects): TargetInfo[] {
  const byName = <T extends KubernetesObject>(items: readonly T[]): T[] =>
    [...items].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const out: TargetInfo[] = [];
  const workload = (
    kind: WorkloadKind,
    name: string,
    desired: number,
    ready: number,
    template: V1PodTemplateSpec | undefined,
    selector: V1LabelSelector | undefined,
  ): void => {
    const info: TargetInfo = {
      kind,
      name,
      namespace,
      target: `${kind}/${name}`,
      requiresOperator: operatorKinds.has(kind),
      ready,
      desired,
      containers: containerInfo(template?.spec?.containers),
    };
    if (ready < desired || ready === 0) {
      const reason = firstNotReady(podsSelectedBy(selector, objects.pods));
      if (reason) info.notReady = reason;
    }
    out.push(info);
  };
  for (const d of byName(objects.deployments)) {
    workload(
      'deployment',
      d.metadata?.name ?? '',
      d.spec?.replicas ?? 1,
      d.status?.readyReplicas ?? 0,
      d.spec?.template,
      d.spec?.selector,
    );
  }
  for (const r of byName(objects.rollouts)) {
    workload(
      'rollout',
      r.metadata?.name ?? '',
      r.spec?.replicas ?? 1,
      r.status?.readyReplicas ?? 0,
      rolloutTemplate(r, objects.deployments),
      r.spec?.selector,
    );
  }
  for (const s of byName(objects.statefulsets)) {
    workload(
      'statefulset',
      s.metadata?.name ?? '',
      s.spec?.replicas ?? 1,
      s.status?.readyReplicas ?? 0,
      s.spec?.template,
      s.spec?.selector,
    );
  }
  for (const pod of byName(objects.pods)) {
    const name = pod.metadata?.name ?? '';
    const ready = isPodReady(pod);
    const owner = podOwner(pod);
    const reason = podNotReadyReason(pod);
    out.push({
      kind: 'pod',
      name,
      namespace,
      target: `pod/${name}`,
      requiresOperator: false,
      ready: ready ? 1 : 0,
      desired: 1,
      containers: containerInfo(pod.spec?.containers),
      phase: pod.status?.phase ?? 'Unknown',
      ...(owner ? { owner } : {}),
      ...(reason ? { notReady: reason } : {}),
    });
  }
  return out;
}
