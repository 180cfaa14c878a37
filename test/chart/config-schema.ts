import * as z from 'zod';
import { configSchema } from '../../src/config.js';

/** Server config keys the chart sets itself; `config` in the chart's values may not hold them. */
export const chartOwnedKeys = [
  'host',
  'port',
  'basePath',
  'allowedHosts',
  'stdio',
  'mirrordBin',
  'defaultNamespace',
  'agentNamespace',
  'namespaces',
  'auth',
] as const;

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema> };

function without(object: JsonSchema, keys: readonly string[]): JsonSchema {
  return Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key)));
}

/**
 * The JSON Schema of the chart's `config` value, made from the server's own zod schema: every key
 * the server accepts in its config file except the chart's own (and workspaces.dataDir, the volume).
 */
export function chartConfigSchema(): JsonSchema {
  const full = z.toJSONSchema(configSchema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
  }) as JsonSchema;
  const properties = without(full.properties ?? {}, chartOwnedKeys) as Record<string, JsonSchema>;
  const workspaces = properties.workspaces;
  if (workspaces?.properties) {
    properties.workspaces = {
      ...workspaces,
      properties: without(workspaces.properties, ['dataDir']) as Record<string, JsonSchema>,
    };
  }
  return {
    type: 'object',
    additionalProperties: false,
    properties,
  };
}
