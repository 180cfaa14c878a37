import { AppError } from '../errors.js';

/** Kinds mirrord can target without its operator. */
export type TargetKind = 'targetless' | 'pod' | 'deployment' | 'rollout';

export interface Target {
  kind: TargetKind;
  /** Workload name; empty for targetless. */
  name: string;
  container?: string;
  /** The canonical path passed to `mirrord exec -t`. */
  path: string;
}

const operatorOnlyKinds = new Set(['statefulset', 'job', 'cronjob', 'service', 'replicaset', 'label']);
const kindAliases: Record<string, Exclude<TargetKind, 'targetless'>> = {
  pod: 'pod',
  deployment: 'deployment',
  deploy: 'deployment',
  rollout: 'rollout',
};

/** A DNS-1123 subdomain (names of pods, deployments and rollouts). */
const resourceName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** A DNS-1123 label (container names). */
const labelName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Parses a target path as mirrord accepts it without the operator; anything else is refused. */
export function parseTarget(raw: string): Target {
  const text = raw.trim();
  if (text === 'targetless') return { kind: 'targetless', name: '', path: 'targetless' };
  const parts = text.split('/');
  const rawKind = (parts[0] ?? '').toLowerCase();
  if (operatorOnlyKinds.has(rawKind)) {
    throw new AppError(
      'OPERATOR_REQUIRED',
      `target kind "${rawKind}" needs the mirrord operator, which this server does not use ("${raw}")`,
      { target: raw },
    );
  }
  const kind = kindAliases[rawKind];
  if (!kind) {
    throw new AppError('INVALID_TARGET', `unknown target kind "${parts[0] ?? ''}" in "${raw}"`, {
      target: raw,
    });
  }
  const name = parts[1] ?? '';
  if (!resourceName.test(name) || name.length > 253) {
    throw new AppError('INVALID_TARGET', `"${name}" in target "${raw}" is not a valid Kubernetes name`, {
      target: raw,
    });
  }
  if (parts.length === 2) return { kind, name, path: `${kind}/${name}` };
  const container = parts[3] ?? '';
  if (parts.length !== 4 || parts[2] !== 'container' || !labelName.test(container) || container.length > 63) {
    throw new AppError(
      'INVALID_TARGET',
      `target "${raw}" must look like ${kind}/NAME or ${kind}/NAME/container/C`,
      {
        target: raw,
      },
    );
  }
  return { kind, name, container, path: `${kind}/${name}/container/${container}` };
}

/** The target of a call: `target` when given, else the original contract's `deployment` name. */
export function resolveCallTarget(args: {
  target?: string | undefined;
  deployment?: string | undefined;
}): Target {
  const { target, deployment } = args;
  if (deployment?.includes('/')) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"deployment" takes a bare deployment name, not a path ("${deployment}"); use "target" for "${deployment}"`,
    );
  }
  if (target !== undefined && target.trim() !== '') {
    const parsed = parseTarget(target);
    if (deployment !== undefined && deployment.trim() !== '') {
      const fromDeployment = parseTarget(`deployment/${deployment.trim()}`);
      if (parsed.kind !== 'deployment' || parsed.name !== fromDeployment.name) {
        throw new AppError(
          'INVALID_ARGUMENT',
          `both "deployment" ("${deployment}") and "target" ("${target}") were given and they disagree; pass only one`,
        );
      }
    }
    return parsed;
  }
  if (deployment !== undefined && deployment.trim() !== '') {
    return parseTarget(`deployment/${deployment.trim()}`);
  }
  throw new AppError(
    'INVALID_ARGUMENT',
    'name what to run against: "deployment" (a deployment name) or "target" (e.g. "pod/api-7d9f-abc", "targetless")',
  );
}

const namespacePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Validates a namespace name (a DNS-1123 label). */
export function parseNamespace(raw: string): string {
  if (!namespacePattern.test(raw) || raw.length > 63) {
    throw new AppError('INVALID_NAMESPACE', `"${raw}" is not a valid namespace name`, { namespace: raw });
  }
  return raw;
}
