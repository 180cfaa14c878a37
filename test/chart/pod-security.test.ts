import { describe, expect, it } from 'vitest';
import { type KubeObject, renderChart } from './helm.js';
import { only } from './objects.js';
import { valuesSets } from './values-sets.js';

interface PodSpec {
  securityContext?: Record<string, any>;
  containers: { name: string; securityContext?: Record<string, any> }[];
  initContainers?: { name: string; securityContext?: Record<string, any> }[];
  hostPID?: boolean;
  hostNetwork?: boolean;
}

function podSpecs(objects: KubeObject[]): { name: string; spec: PodSpec }[] {
  return objects.flatMap((o) => {
    if (o.kind === 'Pod') return [{ name: `Pod/${o.metadata.name}`, spec: o.spec as PodSpec }];
    if (o.kind === 'Deployment') {
      return [{ name: `Deployment/${o.metadata.name}`, spec: (o as any).spec.template.spec as PodSpec }];
    }
    return [];
  });
}

describe('pods run non-root with every capability dropped (restricted PodSecurity)', () => {
  for (const [name, values] of Object.entries(valuesSets)) {
    it(name, async () => {
      const pods = podSpecs(await renderChart(values));
      expect(pods.map((p) => p.name)).toEqual([
        'Deployment/mcp-mirrord-mcp-server',
        'Pod/mcp-mirrord-mcp-server-test-healthz',
      ]);
      for (const { name: pod, spec } of pods) {
        expect(spec.hostPID, pod).toBeUndefined();
        expect(spec.hostNetwork, pod).toBeUndefined();
        expect(spec.securityContext, pod).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
          expect(container.securityContext, `${pod} ${container.name}`).toEqual({
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
          });
        }
      }
    });
  }

  it('the read-only root filesystem leaves /tmp and $HOME writable (emptyDir: exec allowed)', async () => {
    const deployment = only(await renderChart({}), 'Deployment') as any;
    const spec = deployment.spec.template.spec;
    const mounts = spec.containers[0].volumeMounts as {
      name: string;
      mountPath: string;
      readOnly?: boolean;
    }[];
    const volumes = spec.volumes as { name: string; emptyDir?: unknown }[];
    for (const path of ['/tmp', '/home/mirrord']) {
      const mount = mounts.find((m) => m.mountPath === path);
      expect(mount?.readOnly, path).toBeUndefined();
      expect(volumes.find((v) => v.name === mount?.name)?.emptyDir, path).toBeDefined();
    }
    expect(spec.containers[0].env).toEqual(
      expect.arrayContaining([
        { name: 'HOME', value: '/home/mirrord' },
        { name: 'TMPDIR', value: '/tmp' },
      ]),
    );
  });

  it('probes call /healthz and /readyz under the base path', async () => {
    const deployment = only(await renderChart(valuesSets['ingress-tls']!), 'Deployment') as any;
    const container = deployment.spec.template.spec.containers[0];
    expect(container.livenessProbe.httpGet).toEqual({ path: '/mirrord/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/mirrord/readyz', port: 'http' });
  });

  it('the helm test hook calls /healthz through the Service and is not selected by it', async () => {
    const objects = await renderChart(valuesSets['ingress-tls']!);
    const test = only(objects, 'Pod', '-test-healthz') as any;
    expect(test.metadata.annotations['helm.sh/hook']).toBe('test');
    expect(test.spec.containers[0].command.at(-1)).toBe(
      'http://mcp-mirrord-mcp-server.mirrord.svc:80/mirrord/healthz',
    );
    const selector = (only(objects, 'Service') as any).spec.selector as Record<string, string>;
    const labels = test.metadata.labels as Record<string, string>;
    expect(Object.entries(selector).every(([k, v]) => labels[k] === v)).toBe(false);
  });

  it('a PVC switches the Deployment to Recreate and mounts the claim', async () => {
    const objects = await renderChart(valuesSets.pvc!);
    const claim = only(objects, 'PersistentVolumeClaim');
    expect(claim.spec).toMatchObject({
      storageClassName: 'fast',
      resources: { requests: { storage: '50Gi' } },
    });
    const deployment = only(objects, 'Deployment') as any;
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const volume = deployment.spec.template.spec.volumes.find((v: any) => v.name === 'workspaces');
    expect(volume).toEqual({ name: 'workspaces', persistentVolumeClaim: { claimName: claim.metadata.name } });
  });

  it('without a PVC the workspaces are an emptyDir', async () => {
    const deployment = only(await renderChart({}), 'Deployment') as any;
    const volume = deployment.spec.template.spec.volumes.find((v: any) => v.name === 'workspaces');
    expect(volume).toEqual({ name: 'workspaces', emptyDir: {} });
  });

  it('the grace period covers the drain', async () => {
    const deployment = only(await renderChart(valuesSets['network-policy']!), 'Deployment') as any;
    // drainTimeoutS 120 + shutdownTimeoutMs 10 s + 15
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(145);
  });
});
