import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import * as z from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, staticTokenSchema } from '../../src/config.js';
import { renderChart } from './helm.js';
import { configFileText, only, secretData } from './objects.js';
import { valuesSets } from './values-sets.js';

const dir = mkdtempSync(join(tmpdir(), 'chart-config-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Loads the rendered config file the way the server does at start-up (file, empty environment). */
function loadRendered(text: string, name: string): ReturnType<typeof loadConfig> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return loadConfig({ file, env: {} });
}

const tokensFileSchema = z.object({ tokens: z.array(staticTokenSchema).min(1) }).strict();

describe("the rendered config file is valid for the server's own loadConfig", () => {
  for (const [name, values] of Object.entries(valuesSets)) {
    it(name, async () => {
      const objects = await renderChart(values, { namespace: 'mirrord' });
      const config = loadRendered(configFileText(objects), name);
      expect(config.host).toBe('0.0.0.0');
      expect(config.port).toBe(3000);
      expect(config.mirrordBin).toBe('/opt/mirrord/bin/mirrord');
      expect(config.allowedHosts).toEqual(
        expect.arrayContaining([
          'mcp-mirrord-mcp-server.mirrord.svc',
          'mcp-mirrord-mcp-server.mirrord.svc.cluster.local',
        ]),
      );
      const deployment = only(objects, 'Deployment');
      const env = (deployment as any).spec.template.spec.containers[0].env as {
        name: string;
        value: string;
      }[];
      expect(env).toContainEqual({
        name: 'MIRRORD_MCP_CONFIG',
        value: '/etc/mirrord-mcp-server/config/config.yaml',
      });
      if (config.auth.tokensFile) {
        expect(config.auth.tokensFile).toBe('/etc/mirrord-mcp-server/auth/tokens.yaml');
      }
      if (config.workspaces.dataDir) {
        const mounts = (deployment as any).spec.template.spec.containers[0].volumeMounts as {
          mountPath: string;
        }[];
        expect(mounts.map((m) => m.mountPath)).toContain(config.workspaces.dataDir);
      }
    });
  }

  it('defaults: the release namespace is the target, agents get their own namespace, one generated token', async () => {
    const objects = await renderChart(valuesSets.defaults!, { namespace: 'staging' });
    const config = loadRendered(configFileText(objects), 'defaults-staging');
    expect(config.namespaces.allowed).toEqual(['staging']);
    expect(config.defaultNamespace).toBe('staging');
    expect(config.agentNamespace).toBe('mcp-mirrord-mcp-server-agents');
    expect(config.workspaces.dataDir).toBe('/var/lib/mirrord-mcp-server/workspaces');
    const data = secretData(only(objects, 'Secret', '-tokens'));
    const tokens = tokensFileSchema.parse(parse(data['tokens.yaml']!));
    expect(tokens.tokens).toEqual([{ identity: 'team', token: data.token, groups: [] }]);
    expect(data.token).toMatch(/^[A-Za-z0-9]{48}$/);
  });

  it('a new token is generated on each render without a cluster (helm upgrade keeps the one it finds)', async () => {
    const first = secretData(only(await renderChart({}), 'Secret', '-tokens'));
    const second = secretData(only(await renderChart({}), 'Secret', '-tokens'));
    expect(first.token).not.toBe(second.token);
  });

  it('static tokens from values land in the tokens file as given', async () => {
    const objects = await renderChart(valuesSets['static-tokens']!);
    const data = secretData(only(objects, 'Secret', '-tokens'));
    expect(Object.keys(data)).toEqual(['tokens.yaml']);
    const tokens = tokensFileSchema.parse(parse(data['tokens.yaml']!));
    expect(tokens.tokens.map((t) => t.identity)).toEqual(['alice', 'ci']);
    expect(tokens.tokens[1]).toMatchObject({ sha256: 'a'.repeat(64), namespaces: ['staging'] });
  });

  it("an existing Secret replaces the chart's, mounted under the key it names", async () => {
    const objects = await renderChart(valuesSets['existing-secret']!);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const volumes = (only(objects, 'Deployment') as any).spec.template.spec.volumes as any[];
    expect(volumes.find((v) => v.name === 'tokens').secret).toMatchObject({
      secretName: 'team-tokens',
      items: [{ key: 'team.yaml', path: 'tokens.yaml' }],
    });
  });

  it('each authentication mode reaches the server config', async () => {
    const oidc = loadRendered(configFileText(await renderChart(valuesSets.oidc!)), 'oidc-mode');
    expect(oidc.auth.tokensFile).toBeUndefined();
    expect(oidc.auth.oidc).toMatchObject({
      issuer: 'https://login.example.com',
      audience: ['mirrord-mcp'],
      identityPrefix: 'oidc:',
      namespacesClaim: 'mirrord_namespaces',
    });
    const review = loadRendered(
      configFileText(await renderChart(valuesSets['token-review']!)),
      'review-mode',
    );
    expect(review.auth.tokenReview).toEqual({ enabled: true, audiences: ['mirrord-mcp'], cacheS: 60 });
    const sar = loadRendered(
      configFileText(await renderChart(valuesSets['subject-access-review']!)),
      'sar-mode',
    );
    expect(sar.auth).toMatchObject({ subjectAccessReview: true, publicMetrics: true });
  });

  it('`config` values and the Ingress reach the server config', async () => {
    const net = loadRendered(
      configFileText(await renderChart(valuesSets['network-policy']!)),
      'config-values',
    );
    expect(net).toMatchObject({ logLevel: 'debug', drainTimeoutS: 120, run: { maxConcurrent: 16 } });
    expect(net.policy.namespaces).toEqual({ 'preview-*': { fsWrite: true } });
    const ingress = loadRendered(configFileText(await renderChart(valuesSets['ingress-tls']!)), 'ingress');
    expect(ingress.basePath).toBe('/mirrord');
    expect(ingress.allowedHosts[0]).toBe('mirrord.example.com');
    expect(ingress.auth.resourceUrl).toBe('https://mirrord.example.com/mirrord/mcp');
    const pvc = loadRendered(configFileText(await renderChart(valuesSets.pvc!)), 'pvc');
    expect(pvc.workspaces).toMatchObject({ maxBytes: 4 * 1024 ** 3, maxTotalBytes: 40 * 1024 ** 3 });
  });
});
