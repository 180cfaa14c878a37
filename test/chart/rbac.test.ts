import { describe, expect, it } from 'vitest';
import { permissionNeeds, type PermissionScope } from '../../src/kube/permissions.js';
import { type KubeObject, renderChart } from './helm.js';
import { valuesSets } from './values-sets.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Rules flattened to "group/resource verb" (plus "@name" for resourceNames), sorted: exact comparison. */
function grants(rules: Rule[]): string[] {
  const out = new Set<string>();
  for (const rule of rules) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        for (const verb of rule.verbs) {
          const names = rule.resourceNames?.length ? rule.resourceNames.map((n) => `@${n}`) : [''];
          for (const name of names) out.add(`${group}/${resource}${name} ${verb}`);
        }
      }
    }
  }
  return [...out].sort();
}

/** What src/kube/permissions.ts (MIRRORD.md §6 plus the server's watch caches) says a scope needs. */
function documented(scope: PermissionScope): string[] {
  return permissionNeeds
    .filter((need) => need.scope === scope)
    .flatMap((need) =>
      need.verbs.map(
        (verb) => `${need.group}/${need.resource}${need.subresource ? `/${need.subresource}` : ''} ${verb}`,
      ),
    );
}

// The server's watch cache also watches rollouts (src/kube/discovery.ts), which permissions.ts does not list.
const targetGrants = [...new Set([...documented('target'), 'argoproj.io/rollouts watch'])].sort();
const agentGrants = [...new Set(documented('agent'))].sort();
const nodeCapacityGrants = [...new Set(documented('cluster'))].sort();

function rulesOf(
  objects: KubeObject[],
  kind: string,
  suffix: string,
): { namespace?: string; grants: string[] }[] {
  return objects
    .filter((o) => o.kind === kind && o.metadata.name.endsWith(suffix))
    .map((o) => ({ namespace: o.metadata.namespace, grants: grants(o.rules as Rule[]) }));
}

function bindingsOf(
  objects: KubeObject[],
): { kind: string; name: string; namespace?: string; role: string; subjects: unknown }[] {
  return objects
    .filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')
    .map((o) => ({
      kind: o.kind,
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      role: (o.roleRef as { name: string }).name,
      subjects: o.subjects,
    }));
}

describe('RBAC grants exactly the documented verbs', () => {
  it('named namespaces: a target Role in each, an agent Role, and a ClusterRole reading only the agent namespace', async () => {
    const objects = await renderChart(valuesSets['ingress-tls']!, { namespace: 'mirrord' });
    expect(rulesOf(objects, 'Role', '-target')).toEqual([
      { namespace: 'staging', grants: targetGrants },
      { namespace: 'preview', grants: targetGrants },
    ]);
    expect(rulesOf(objects, 'Role', '-agent')).toEqual([
      { namespace: 'mcp-mirrord-mcp-server-agents', grants: agentGrants },
    ]);
    expect(rulesOf(objects, 'ClusterRole', '')).toEqual([
      { namespace: undefined, grants: ['/namespaces@mcp-mirrord-mcp-server-agents get'] },
    ]);
    const subject = [{ kind: 'ServiceAccount', name: 'mcp-mirrord-mcp-server', namespace: 'mirrord' }];
    expect(bindingsOf(objects)).toEqual([
      {
        kind: 'ClusterRoleBinding',
        name: 'mcp-mirrord-mcp-server-mirrord-cluster',
        role: 'mcp-mirrord-mcp-server-mirrord-cluster',
        subjects: subject,
      },
      {
        kind: 'RoleBinding',
        name: 'mcp-mirrord-mcp-server-target',
        namespace: 'staging',
        role: 'mcp-mirrord-mcp-server-target',
        subjects: subject,
      },
      {
        kind: 'RoleBinding',
        name: 'mcp-mirrord-mcp-server-target',
        namespace: 'preview',
        role: 'mcp-mirrord-mcp-server-target',
        subjects: subject,
      },
      {
        kind: 'RoleBinding',
        name: 'mcp-mirrord-mcp-server-agent',
        namespace: 'mcp-mirrord-mcp-server-agents',
        role: 'mcp-mirrord-mcp-server-agent',
        subjects: subject,
      },
    ]);
  });

  it('all namespaces: the target rules (and namespace listing) become a ClusterRole, with no target Roles', async () => {
    const objects = await renderChart(valuesSets['cluster-wide']!, { namespace: 'mirrord' });
    expect(rulesOf(objects, 'Role', '-target')).toEqual([]);
    expect(rulesOf(objects, 'ClusterRole', '-targets')).toEqual([
      { namespace: undefined, grants: [...targetGrants, '/namespaces list', '/namespaces watch'].sort() },
    ]);
    expect(rulesOf(objects, 'ClusterRole', '-cluster')).toEqual([
      {
        namespace: undefined,
        grants: ['/namespaces@mcp-mirrord-mcp-server-agents get', ...nodeCapacityGrants].sort(),
      },
    ]);
    expect(rulesOf(objects, 'Role', '-agent')[0]?.grants).toEqual(agentGrants);
    expect(bindingsOf(objects).map((b) => `${b.kind} ${b.role}`)).toEqual([
      'ClusterRoleBinding mcp-mirrord-mcp-server-mirrord-targets',
      'ClusterRoleBinding mcp-mirrord-mcp-server-mirrord-cluster',
      'RoleBinding mcp-mirrord-mcp-server-agent',
    ]);
  });

  it('a glob other than "*" is cluster-wide too; an existing agent namespace is not created', async () => {
    const objects = await renderChart(valuesSets['team-globs']!);
    expect(rulesOf(objects, 'Role', '-target')).toEqual([]);
    expect(rulesOf(objects, 'ClusterRole', '-targets')).toHaveLength(1);
    expect(objects.filter((o) => o.kind === 'Namespace')).toEqual([]);
    expect(rulesOf(objects, 'Role', '-agent')).toEqual([
      { namespace: 'mirrord-agents', grants: agentGrants },
    ]);
  });

  it('TokenReview and SubjectAccessReview add exactly their create verb', async () => {
    const review = await renderChart(valuesSets['token-review']!);
    expect(rulesOf(review, 'ClusterRole', '-cluster')[0]?.grants).toEqual([
      '/namespaces@mcp-mirrord-mcp-server-agents get',
      'authentication.k8s.io/tokenreviews create',
    ]);
    const sar = await renderChart(valuesSets['subject-access-review']!);
    expect(rulesOf(sar, 'ClusterRole', '-cluster')[0]?.grants).toEqual([
      '/namespaces@mcp-mirrord-mcp-server-agents get',
      'authorization.k8s.io/subjectaccessreviews create',
    ]);
  });

  it('the agent namespace admits privileged pods', async () => {
    const objects = await renderChart({});
    const ns = objects.find((o) => o.kind === 'Namespace');
    expect(ns?.metadata.name).toBe('mcp-mirrord-mcp-server-agents');
    expect(ns?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });

  it('rbac.create=false renders no RBAC at all', async () => {
    const objects = await renderChart({ rbac: { create: false } });
    expect(objects.filter((o) => /Role/.test(o.kind))).toEqual([]);
  });
});
