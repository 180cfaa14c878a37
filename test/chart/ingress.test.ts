import { describe, expect, it } from 'vitest';
import { renderChart } from './helm.js';
import { only } from './objects.js';
import { valuesSets } from './values-sets.js';

describe('the Ingress', () => {
  it('carries the annotations that keep SSE streams open', async () => {
    const ingress = only(await renderChart(valuesSets['ingress-tls']!), 'Ingress');
    expect(ingress.metadata.annotations).toEqual({
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-body-size': '64m',
    });
  });

  it('serves the hosts over TLS under the base path, to the Service', async () => {
    const ingress = only(await renderChart(valuesSets['ingress-tls']!), 'Ingress') as any;
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ secretName: 'mirrord-tls', hosts: ['mirrord.example.com'] }]);
    expect(ingress.spec.rules).toEqual([
      {
        host: 'mirrord.example.com',
        http: {
          paths: [
            {
              path: '/mirrord',
              pathType: 'Prefix',
              backend: { service: { name: 'mcp-mirrord-mcp-server', port: { number: 80 } } },
            },
          ],
        },
      },
    ]);
  });

  it('own annotations win over the SSE ones; the SSE ones can be turned off', async () => {
    const tuned = only(
      await renderChart({
        ingress: {
          enabled: true,
          hosts: ['m.example.com'],
          streamTimeoutS: 7200,
          annotations: {
            'nginx.ingress.kubernetes.io/proxy-body-size': '128m',
            'cert-manager.io/cluster-issuer': 'le',
          },
        },
      }),
      'Ingress',
    );
    expect(tuned.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '7200',
      'nginx.ingress.kubernetes.io/proxy-body-size': '128m',
      'cert-manager.io/cluster-issuer': 'le',
    });
    const plain = only(
      await renderChart({ ingress: { enabled: true, hosts: ['m.example.com'], sseAnnotations: false } }),
      'Ingress',
    );
    expect(plain.metadata.annotations).toBeUndefined();
  });

  it('is not rendered by default', async () => {
    expect((await renderChart({})).filter((o) => o.kind === 'Ingress')).toEqual([]);
  });
});
