import type { Target } from '../mirrord/target.js';
import type { JsonObject } from '../policy/mirrord-config.js';

/** An exclusive claim on a target: two runs with the same key never run at once. */
export interface TargetLock {
  /** `NAMESPACE/KIND/NAME`, e.g. `staging/deployment/api`. */
  readonly key: string;
  /** For a reader: `deployment/api in staging`. */
  readonly label: string;
}

export type IncomingMode = 'mirror' | 'steal' | 'off';

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What mirrord does with the target's incoming traffic under this config. The schema allows
 * `feature` null or an object; `feature.network` null, a boolean or an object; `incoming` null, a
 * boolean, "mirror" | "steal" | "off", or an object whose `mode` is one of those or null. `false`
 * turns a toggleable section off, `true` and null keep the default, and the default is "mirror".
 * An unknown value counts as "mirror": a lock too many only serializes, a lock too few breaks runs.
 */
export function incomingMode(config: JsonObject): IncomingMode {
  const feature = config.feature;
  if (!isObject(feature)) return 'mirror';
  const network = feature.network;
  if (network === false) return 'off';
  if (!isObject(network)) return 'mirror';
  const incoming = network.incoming;
  if (incoming === false) return 'off';
  const mode = isObject(incoming) ? incoming.mode : incoming;
  return mode === 'off' || mode === 'steal' ? mode : 'mirror';
}

/** Pod owners whose pods mirrord may pick for a workload target without the operator. */
const targetableOwner = /^(deployment|rollout)\/[^/]+$/;

/**
 * The lock a run must hold, or undefined when it needs none. Without mirrord's operator a second
 * agent that redirects traffic on a pod fails ("Detected dirty iptables"), so a run locks its
 * target whenever incoming traffic is mirrored or stolen; targetless runs and `incoming: off` lock
 * nothing. mirrord picks a pod of a deployment or rollout by itself, so those lock the workload
 * (the container does not matter: the iptables are the pod's). A pod target locks the workload
 * that owns it when that is a deployment or rollout (`owner`, from the pre-spawn target check), so
 * it never runs beside a run on its workload; otherwise (no owner, another kind, or the check is
 * off) it locks the pod itself.
 */
export function targetLockFor(
  target: Target,
  namespace: string,
  config: JsonObject,
  owner?: string | null,
): TargetLock | undefined {
  if (target.kind === 'targetless' || incomingMode(config) === 'off') return undefined;
  const workload =
    target.kind === 'pod' && owner && targetableOwner.test(owner) ? owner : `${target.kind}/${target.name}`;
  return { key: `${namespace}/${workload}`, label: `${workload} in ${namespace}` };
}
