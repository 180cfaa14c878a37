// Writes the `config` part of charts/mirrord-mcp-server/values.schema.json from src/config.ts:
//   npx tsx test/chart/write-config-schema.ts && npx prettier --write charts/mirrord-mcp-server/values.schema.json
// test/chart/values-schema.test.ts fails while the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { chartConfigSchema } from './config-schema.js';
import { valuesSchemaPath } from './paths.js';

const schema = JSON.parse(readFileSync(valuesSchemaPath, 'utf8')) as { properties: Record<string, unknown> };
schema.properties.config = chartConfigSchema();
writeFileSync(valuesSchemaPath, `${JSON.stringify(schema, null, 2)}\n`);
process.stdout.write(`wrote ${valuesSchemaPath}\n`);
