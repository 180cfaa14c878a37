import type { Config } from '../config.js';
import { toAppError } from '../errors.js';
import { canI, whoAmI } from '../kube/access-review.js';
import type { KubeClient } from '../kube/client.js';
import type { Discovery } from '../kube/discovery.js';
import {
  authPermissionNeeds,
  grantCommand,
  permissionNeeds,
  resourceLabel,
  type PermissionNeed,
} from '../kube/permissions.js';
import { probeMirrord, type MirrordVersion } from '../mirrord/version.js';
import type { NamespacePolicy } from '../policy/namespaces.js';

export type CheckLevel = 'ok' | 'warn' | 'fail';

export interface CheckLine {
  level: CheckLevel;
  /** Short name, e.g. "mirrord", "cluster", "pods in staging". */
  check: string;
  detail: string;
  /** A concrete fix, for warn and fail lines. */
  fix?: string;
  namespace?: string;
}

export interface DoctorReport {
  ok: boolean;
  serverVersion: string;
  mirrord: MirrordVersion;
  cluster: {
    source: KubeClient['source'];
    server: string | null;
    context: string | null;
    reachable: boolean;
    version: string | null;
    error: string | null;
  };
  identity: { username: string; groups: string[] } | null;
  namespaces: string[];
  agentNamespace: string | null;
  checks: CheckLine[];
}

export interface DoctorDeps {
  config: Config;
  kube: KubeClient;
  policy: NamespacePolicy;
  discovery: Discovery;
  env: NodeJS.ProcessEnv;
  version: string;
}

/** Namespaces checked at most in one report (each costs a dozen access reviews). */
const maxCheckedNamespaces = 10;

async function inPool<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      out[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return out;
}

/**
 * Everything that must be right for `run` to work: mirrord, the cluster, the server's identity,
 * each permission mirrord needs per allowed namespace, and the agent namespace's PodSecurity level.
 * Every failing line carries a fix. Shared by `mirrord-mcp-server doctor` and the server_info tool.
 */
export async function runDoctor(
  deps: DoctorDeps,
  options: { namespace?: string | undefined; signal?: AbortSignal } = {},
): Promise<DoctorReport> {
  const { config, kube, policy, discovery, env } = deps;
  const { signal } = options;
  const checks: CheckLine[] = [];

  const mirrord = await probeMirrord(config.mirrordBin, env.PATH);
  checks.push(
    mirrord.version
      ? { level: 'ok', check: 'mirrord', detail: `mirrord ${mirrord.version} at ${mirrord.path ?? '?'}` }
      : {
          level: 'fail',
          check: 'mirrord',
          detail: mirrord.error ?? 'mirrord not found',
          fix: 'Install mirrord (https://mirrord.dev/docs/overview/quick-start/) or set mirrordBin (--mirrord-bin PATH, MIRRORD_MCP_MIRRORD_BIN).',
        },
  );

  const cluster: DoctorReport['cluster'] = {
    source: kube.source,
    server: kube.server ?? null,
    context: kube.context ?? null,
    reachable: false,
    version: null,
    error: null,
  };
  const report = (
    identity: DoctorReport['identity'],
    namespaces: string[],
    agentNamespace: string | null,
  ) => ({
    ok: checks.every((line) => line.level !== 'fail'),
    serverVersion: deps.version,
    mirrord,
    cluster,
    identity,
    namespaces,
    agentNamespace,
    checks,
  });

  if (kube.source === 'none') {
    cluster.error = kube.problem ?? 'not configured';
    checks.push({
      level: config.kube.checkTargets ? 'fail' : 'warn',
      check: 'cluster',
      detail: `no cluster configured: ${cluster.error}`,
      fix: 'Set KUBECONFIG to a kubeconfig that reaches the cluster (or create ~/.kube/config), or run the server in a pod with a service account.',
    });
    return report(null, [], null);
  }
  try {
    const info = await kube.request(
      { verb: 'get', resource: 'version' },
      (o) => kube.versionApi.getCode({}, o),
      signal,
    );
    cluster.reachable = true;
    cluster.version = info.gitVersion;
    checks.push({
      level: 'ok',
      check: 'cluster',
      detail: `${kube.server ?? '?'} (Kubernetes ${info.gitVersion}${kube.context ? `, context ${kube.context}` : ', in-cluster'})`,
    });
  } catch (error) {
    const appError = toAppError(error);
    cluster.error = appError.message;
    checks.push({ level: 'fail', check: 'cluster', detail: appError.message, fix: appError.hint });
    return report(null, [], null);
  }

  let identity: DoctorReport['identity'] = null;
  try {
    identity = (await whoAmI(kube, signal)) ?? null;
  } catch {
    identity = null; // older clusters have no SelfSubjectReview; not a failure
  }
  checks.push({
    level: 'ok',
    check: 'identity',
    detail: identity
      ? `${identity.username} (groups: ${identity.groups.join(', ') || 'none'})`
      : 'unknown (the cluster does not answer SelfSubjectReview, Kubernetes < 1.28)',
  });

  let namespaces: string[];
  if (options.namespace !== undefined) {
    namespaces = [policy.resolve(options.namespace)];
  } else {
    const listed = await discovery.namespaces(signal);
    for (const warning of listed.warnings) {
      checks.push({
        level: 'warn',
        check: 'namespaces',
        detail: warning,
        fix: grantCommand(
          { group: '', resource: 'namespaces' },
          ['list', 'watch'],
          undefined,
          identity?.username,
        ),
      });
    }
    namespaces = listed.names;
    if (namespaces.length > maxCheckedNamespaces) {
      const preferred = [...new Set([policy.defaultNamespace, ...policy.exactNames, ...namespaces])];
      checks.push({
        level: 'warn',
        check: 'namespaces',
        detail: `${namespaces.length} namespaces are allowed; checked the first ${maxCheckedNamespaces}`,
        fix: 'Run `mirrord-mcp-server doctor --namespace NS` (or server_info with a namespace) for another one, or narrow namespaces.allowed.',
      });
      namespaces = preferred.slice(0, maxCheckedNamespaces);
    }
  }
  const agentNamespace = config.agentNamespace ?? kube.contextNamespace ?? 'default';
  if (!config.agentNamespace) {
    checks.push({
      level: 'warn',
      check: 'agent namespace',
      detail: `agentNamespace is not set: mirrord puts its agents in "${agentNamespace}" (the ${kube.source === 'in-cluster' ? "server pod's" : "kubeconfig context's"} namespace)`,
      fix: 'Set agentNamespace (MIRRORD_MCP_AGENT_NAMESPACE) to a namespace labelled pod-security.kubernetes.io/enforce=privileged, e.g. "mirrord-agents".',
    });
  }

  type Job = { need: PermissionNeed; namespace: string | undefined };
  const jobs: Job[] = [];
  for (const need of [...permissionNeeds, ...authPermissionNeeds(config.auth)]) {
    if (need.scope === 'target') for (const namespace of namespaces) jobs.push({ need, namespace });
    else if (need.scope === 'agent') jobs.push({ need, namespace: agentNamespace });
    else jobs.push({ need, namespace: undefined });
  }
  const results = await inPool(jobs, 8, async ({ need, namespace }) => {
    const missing: string[] = [];
    let error: string | undefined;
    for (const verb of need.verbs) {
      try {
        const allowed = await canI(
          kube,
          { verb, group: need.group, resource: need.resource, subresource: need.subresource, namespace },
          signal,
        );
        if (!allowed) missing.push(verb);
      } catch (caught) {
        error = toAppError(caught).message;
        break;
      }
    }
    return { need, namespace, missing, error };
  });
  for (const { need, namespace, missing, error } of results) {
    const where = namespace ? ` in ${namespace}` : ' (cluster-wide)';
    const label = `${resourceLabel(need)}${where}`;
    if (error) {
      checks.push({
        level: 'fail',
        check: label,
        detail: `cannot review access: ${error}`,
        fix: 'Check that the API server is reachable and allows SelfSubjectAccessReviews (every authenticated identity may create them by default).',
        ...(namespace ? { namespace } : {}),
      });
    } else if (missing.length === 0) {
      checks.push({
        level: 'ok',
        check: label,
        detail: `${need.verbs.join(', ')}: granted (${need.why})`,
        ...(namespace ? { namespace } : {}),
      });
    } else {
      checks.push({
        level: need.optional ? 'warn' : 'fail',
        check: label,
        detail: `missing ${missing.join(', ')}: ${need.why}`,
        fix: grantCommand(need, missing, namespace, identity?.username),
        ...(namespace ? { namespace } : {}),
      });
    }
  }

  checks.push(await podSecurityCheck(kube, agentNamespace, identity?.username, signal));
  return report(identity, namespaces, agentNamespace);
}

async function podSecurityCheck(
  kube: KubeClient,
  namespace: string,
  username: string | undefined,
  signal?: AbortSignal,
): Promise<CheckLine> {
  const check = `PodSecurity of ${namespace}`;
  const fix = `kubectl label namespace ${namespace} pod-security.kubernetes.io/enforce=privileged --overwrite`;
  try {
    const ns = await kube.request(
      { verb: 'get', resource: 'namespaces', name: namespace },
      (o) => kube.core.readNamespace({ name: namespace }, o),
      signal,
    );
    const level = ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'];
    if (level === 'privileged') {
      return {
        level: 'ok',
        check,
        detail: 'enforce=privileged: the agent (hostPID, SYS_ADMIN) is admitted',
        namespace,
      };
    }
    if (level === undefined) {
      return {
        level: 'warn',
        check,
        detail:
          'no pod-security.kubernetes.io/enforce label: the cluster default applies (privileged unless the admission configuration says otherwise)',
        fix,
        namespace,
      };
    }
    return {
      level: 'fail',
      check,
      detail: `enforce=${level}: the mirrord agent (hostPID, host paths, SYS_ADMIN) will be refused`,
      fix,
      namespace,
    };
  } catch (error) {
    const appError = toAppError(error);
    return {
      level: 'warn',
      check,
      detail: `cannot read the namespace: ${appError.message}`,
      fix:
        appError.code === 'KUBE_NOT_FOUND'
          ? `kubectl create namespace ${namespace} && ${fix}`
          : `${grantCommand({ group: '', resource: 'namespaces' }, ['get'], undefined, username)} (or check the label by hand)`,
      namespace,
    };
  }
}
