import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chartConfigSchema } from './config-schema.js';
import { renderChart, renderText } from './helm.js';
import { valuesSchemaPath } from './paths.js';

describe('values.schema.json', () => {
  it("describes `config` exactly as the server's schema does (src/config.ts)", () => {
    const schema = JSON.parse(readFileSync(valuesSchemaPath, 'utf8')) as { properties: { config: unknown } };
    // Out of date: npx tsx test/chart/write-config-schema.ts && npx prettier --write charts/mirrord-mcp-server/values.schema.json
    expect(schema.properties.config).toEqual(chartConfigSchema());
  });

  it('refuses an unknown value, at the top and deep down', async () => {
    await expect(renderChart({ replicas: 2 })).rejects.toThrow(
      /additional properties 'replicas' not allowed/,
    );
    await expect(renderChart({ ingress: { host: 'x' } })).rejects.toThrow(
      /additional properties 'host' not allowed/,
    );
  });

  it('refuses a server key the chart sets itself, and a typo in a server key', async () => {
    await expect(renderChart({ config: { host: '127.0.0.1' } })).rejects.toThrow(/'host' not allowed/);
    await expect(renderChart({ config: { workspaces: { dataDir: '/x' } } })).rejects.toThrow(
      /'dataDir' not allowed/,
    );
    await expect(renderChart({ config: { run: { maxTimeOutS: 10 } } })).rejects.toThrow(
      /'maxTimeOutS' not allowed/,
    );
    await expect(renderChart({ config: { policy: { steal: 'sometimes' } } })).rejects.toThrow(/steal/);
  });

  it('refuses a chart without authentication', async () => {
    await expect(renderChart({ auth: { tokens: { enabled: false } } })).rejects.toThrow(/anyOf/);
    // Past the schema (--skip-schema-validation) the templates refuse it too.
    await expect(
      renderText({ auth: { tokens: { enabled: false } } }, { extraArgs: ['--skip-schema-validation'] }),
    ).rejects.toThrow(/enable at least one of auth.tokens, auth.oidc and auth.tokenReview/);
  });

  it('refuses a bad token, OIDC without an issuer, and an Ingress without hosts', async () => {
    await expect(
      renderChart({ auth: { tokens: { list: [{ identity: 'a', token: 'short' }] } } }),
    ).rejects.toThrow(/minLength|length must be >= 16/);
    await expect(renderChart({ auth: { tokens: { list: [{ identity: 'a' }] } } })).rejects.toThrow(/oneOf/);
    await expect(renderChart({ auth: { oidc: { enabled: true, audience: ['x'] } } })).rejects.toThrow(
      /issuer/,
    );
    await expect(renderChart({ ingress: { enabled: true } })).rejects.toThrow(/hosts/);
  });

  it('needs namespaces.default when only globs other than "*" are allowed', async () => {
    await expect(renderChart({ namespaces: { allowed: ['team-*'] } })).rejects.toThrow(
      /namespaces.default is required when namespaces.allowed holds only globs/,
    );
  });
});
