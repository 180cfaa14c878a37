/** The values sets every chart test renders: the defaults and each way the chart is meant to be installed. */
export const valuesSets: Record<string, Record<string, unknown>> = {
  defaults: {},
  'ingress-tls': {
    namespaces: { allowed: ['staging', 'preview'] },
    basePath: '/mirrord',
    ingress: {
      enabled: true,
      className: 'nginx',
      hosts: ['mirrord.example.com'],
      tls: [{ secretName: 'mirrord-tls', hosts: ['mirrord.example.com'] }],
    },
    auth: { resourceUrl: 'https://mirrord.example.com/mirrord/mcp' },
  },
  pvc: {
    namespaces: { allowed: ['staging'] },
    persistence: { enabled: true, storageClass: 'fast', size: '50Gi' },
    config: { workspaces: { maxBytes: 4 * 1024 ** 3, maxTotalBytes: 40 * 1024 ** 3 } },
  },
  'cluster-wide': {
    namespaces: { allowed: ['*'] },
    rbac: { nodeCapacityCheck: true },
  },
  'team-globs': {
    namespaces: { allowed: ['team-*', 'shared'], default: 'shared' },
    agentNamespace: { name: 'mirrord-agents', create: false },
  },
  'static-tokens': {
    namespaces: { allowed: ['staging'] },
    auth: {
      tokens: {
        list: [
          { identity: 'alice', token: 'alice-token-0123456789', groups: ['dev'] },
          { identity: 'ci', sha256: 'a'.repeat(64), namespaces: ['staging'] },
        ],
      },
    },
  },
  'existing-secret': {
    auth: { tokens: { existingSecret: 'team-tokens', existingSecretKey: 'team.yaml' } },
  },
  oidc: {
    namespaces: { allowed: ['staging'] },
    auth: {
      tokens: { enabled: false },
      oidc: {
        enabled: true,
        issuer: 'https://login.example.com',
        audience: ['mirrord-mcp'],
        identityPrefix: 'oidc:',
        namespacesClaim: 'mirrord_namespaces',
      },
    },
  },
  'token-review': {
    namespaces: { allowed: ['staging'] },
    auth: { tokens: { enabled: false }, tokenReview: { enabled: true, audiences: ['mirrord-mcp'] } },
  },
  'subject-access-review': {
    namespaces: { allowed: ['staging'] },
    auth: { subjectAccessReview: true, publicMetrics: true },
  },
  'network-policy': {
    networkPolicy: {
      enabled: true,
      ingressFrom: [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
      ],
      egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }, { ports: [{ port: 443, protocol: 'TCP' }] }],
    },
    workspaces: { sizeLimit: '20Gi' },
    config: {
      logLevel: 'debug',
      drainTimeoutS: 120,
      run: { maxConcurrent: 16 },
      policy: { steal: 'with-filter', namespaces: { 'preview-*': { fsWrite: true } } },
    },
  },
};
