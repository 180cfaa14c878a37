/** Where a permission is needed. */
export type PermissionScope = 'target' | 'agent' | 'cluster';

/** One resource and the verbs on it that mirrord (or this server) needs. */
export interface PermissionNeed {
  group: string;
  resource: string;
  subresource?: string;
  verbs: readonly string[];
  scope: PermissionScope;
  /** Who needs it and for what: shown in doctor's output. */
  why: string;
  /** Missing = a warning, not a failure (the server falls back, or mirrord can be told to skip it). */
  optional?: boolean;
}

/** What mirrord needs without its operator (MIRRORD.md §6), plus what the server's own caches use. */
export const permissionNeeds: readonly PermissionNeed[] = [
  {
    group: '',
    resource: 'pods',
    verbs: ['get', 'list', 'watch'],
    scope: 'target',
    why: 'mirrord finds the target pod',
  },
  {
    group: 'apps',
    resource: 'deployments',
    verbs: ['get', 'list'],
    scope: 'target',
    why: 'mirrord resolves deployment targets',
  },
  {
    group: 'argoproj.io',
    resource: 'rollouts',
    verbs: ['get', 'list'],
    scope: 'target',
    why: 'mirrord resolves rollout targets',
    optional: true,
  },
  {
    group: 'apps',
    resource: 'replicasets',
    verbs: ['get'],
    scope: 'target',
    why: "mirrord follows a rollout's workloadRef",
    optional: true,
  },
  {
    group: 'apps',
    resource: 'statefulsets',
    verbs: ['get'],
    scope: 'target',
    why: "mirrord follows a rollout's workloadRef",
    optional: true,
  },
  {
    group: '',
    resource: 'podtemplates',
    verbs: ['get'],
    scope: 'target',
    why: "mirrord follows a rollout's workloadRef",
    optional: true,
  },
  {
    group: 'apps',
    resource: 'deployments',
    verbs: ['watch'],
    scope: 'target',
    why: "the server's watch cache (without it, every read goes to the API)",
    optional: true,
  },
  {
    group: 'apps',
    resource: 'statefulsets',
    verbs: ['list', 'watch'],
    scope: 'target',
    why: 'list_targets shows statefulsets',
    optional: true,
  },
  {
    group: 'batch',
    resource: 'jobs',
    verbs: ['create'],
    scope: 'agent',
    why: 'mirrord creates its agent as a Job',
  },
  {
    group: '',
    resource: 'pods',
    verbs: ['get', 'list', 'watch'],
    scope: 'agent',
    why: 'mirrord waits for its agent pod',
  },
  {
    group: '',
    resource: 'pods',
    subresource: 'log',
    verbs: ['get'],
    scope: 'agent',
    why: "mirrord reads its agent's log on failure",
  },
  {
    group: '',
    resource: 'pods',
    subresource: 'portforward',
    verbs: ['create'],
    scope: 'agent',
    why: 'mirrord reaches its agent through a port-forward',
  },
  {
    group: '',
    resource: 'nodes',
    verbs: ['get'],
    scope: 'cluster',
    why: "mirrord checks the target node's capacity (skip with agent.check_out_of_pods: false)",
    optional: true,
  },
  {
    group: '',
    resource: 'pods',
    verbs: ['list'],
    scope: 'cluster',
    why: "mirrord counts the target node's pods (skip with agent.check_out_of_pods: false)",
    optional: true,
  },
];

/** What the server needs for the authentication options it is configured with (cluster-wide). */
export function authPermissionNeeds(auth: {
  tokenReview: { enabled: boolean };
  subjectAccessReview: boolean;
}): PermissionNeed[] {
  return [
    ...(auth.tokenReview.enabled
      ? [
          {
            group: 'authentication.k8s.io',
            resource: 'tokenreviews',
            verbs: ['create'],
            scope: 'cluster' as const,
            why: "auth.tokenReview: the server asks the cluster about callers' tokens",
          },
        ]
      : []),
    ...(auth.subjectAccessReview
      ? [
          {
            group: 'authorization.k8s.io',
            resource: 'subjectaccessreviews',
            verbs: ['create'],
            scope: 'cluster' as const,
            why: 'auth.subjectAccessReview: the server asks the cluster what each caller may do',
          },
        ]
      : []),
  ];
}

/** "pods/portforward", "deployments.apps" */
export function resourceLabel(need: Pick<PermissionNeed, 'group' | 'resource' | 'subresource'>): string {
  const base = need.group ? `${need.resource}.${need.group}` : need.resource;
  return need.subresource ? `${base}/${need.subresource}` : base;
}

/** A kubectl command pair that grants the missing verbs to the identity. */
export function grantCommand(
  need: Pick<PermissionNeed, 'group' | 'resource' | 'subresource'>,
  verbs: readonly string[],
  namespace: string | undefined,
  username: string | undefined,
): string {
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username ?? '');
  const subject = sa ? `--serviceaccount=${sa[1] ?? ''}:${sa[2] ?? ''}` : `--user=${username ?? 'USER'}`;
  const resource = need.subresource
    ? `${need.resource}/${need.subresource}${need.group ? `.${need.group}` : ''}`
    : resourceLabel(need);
  const role = `mirrord-mcp-${need.resource}${need.subresource ? `-${need.subresource}` : ''}`;
  if (namespace === undefined) {
    return `kubectl create clusterrole ${role} --verb=${verbs.join(',')} --resource=${resource} && kubectl create clusterrolebinding ${role} --clusterrole=${role} ${subject}`;
  }
  return `kubectl -n ${namespace} create role ${role} --verb=${verbs.join(',')} --resource=${resource} && kubectl -n ${namespace} create rolebinding ${role} --role=${role} ${subject}`;
}
