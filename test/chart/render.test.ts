import { beforeAll, describe, expect, it } from 'vitest';
import { ensureHelm, type KubeObject, renderChart } from './helm.js';
import { kubeSchemaErrors } from './kube-schemas.js';
import { valuesSets } from './values-sets.js';

beforeAll(() => {
  ensureHelm();
});

describe('the chart renders, and every object is valid Kubernetes v1.36', () => {
  for (const [name, values] of Object.entries(valuesSets)) {
    it(name, async () => {
      const objects = await renderChart(values);
      const kinds = new Set(objects.map((o) => o.kind));
      for (const kind of [
        'Deployment',
        'Service',
        'ConfigMap',
        'Role',
        'RoleBinding',
        'ClusterRole',
        'Pod',
      ]) {
        expect(kinds, kind).toContain(kind);
      }
      const problems: string[] = [];
      for (const object of objects) {
        for (const problem of await kubeSchemaErrors(object)) {
          problems.push(`${object.kind}/${object.metadata.name}: ${problem}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});

describe('the schema check itself', () => {
  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'x', labels: { a: 'b' } },
    data: { 'config.yaml': 'host: 0.0.0.0' },
  };
  const deployment = (container: Record<string, unknown>): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [container] } },
    },
  });

  it('accepts a valid object, maps included', async () => {
    expect(await kubeSchemaErrors(configMap)).toEqual([]);
    expect(await kubeSchemaErrors(deployment({ name: 'app', image: 'x' }))).toEqual([]);
  });

  it('refuses an unknown field, however deep', async () => {
    expect(await kubeSchemaErrors({ ...configMap, spec: {} })).toEqual(['/spec: unknown field']);
    expect(
      await kubeSchemaErrors(deployment({ name: 'app', image: 'x', securityContext: { dropAll: true } })),
    ).toEqual(['/spec/template/spec/containers/0/securityContext/dropAll: unknown field']);
  });

  it('refuses a wrong type and a missing required field', async () => {
    const errors = await kubeSchemaErrors(deployment({ image: 'x', ports: [{ containerPort: 'http' }] }));
    expect(errors).toContain('/spec/template/spec/containers/0: required {"missingProperty":"name"}');
    expect(errors).toContain(
      '/spec/template/spec/containers/0/ports/0/containerPort: type {"type":"integer"}',
    );
  });

  it('refuses a kind it has no schema for', async () => {
    await expect(
      kubeSchemaErrors({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } }),
    ).rejects.toThrow(/no Kubernetes schema for example.com\/v1 Widget/);
  });
});
