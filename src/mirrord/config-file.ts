import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '../policy/mirrord-config.js';
import type { Target } from './target.js';

export interface ServerDecisions {
  target: Target;
  namespace: string;
  agentNamespace?: string | undefined;
  /** Variables the program must see; they win over the pod's own values. */
  envOverride: Record<string, string>;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The config file the server writes: the caller's (already vetted) config with the server's
 * decisions laid over it. `env` goes into `feature.env.override`, because mirrord lets the pod's
 * value replace a local variable of the same name.
 */
export function buildMirrordConfig(caller: JsonObject, decisions: ServerDecisions): JsonObject {
  const config: JsonObject = structuredClone(caller);
  config.target =
    decisions.target.kind === 'targetless'
      ? { namespace: decisions.namespace }
      : { path: decisions.target.path, namespace: decisions.namespace };
  config.operator = false;
  config.telemetry = false;
  if (decisions.agentNamespace !== undefined) config.agent = { namespace: decisions.agentNamespace };

  if (Object.keys(decisions.envOverride).length > 0) {
    const feature = isObject(config.feature) ? config.feature : {};
    const env = feature.env;
    let envConfig: JsonObject;
    if (env === false)
      envConfig = { exclude: '*' }; // import nothing from the pod, but still override
    else envConfig = isObject(env) ? env : {};
    const previous = isObject(envConfig.override) ? envConfig.override : {};
    envConfig.override = { ...previous, ...decisions.envOverride };
    feature.env = envConfig;
    config.feature = feature;
  }
  return config;
}

/** A private directory for this server's temp files; each config file inside it is 0600. */
export interface TempFiles {
  readonly dir: string;
  write(name: string, contents: string): Promise<string>;
  remove(path: string): Promise<void>;
  /** Removes the whole directory (shutdown). */
  dispose(): Promise<void>;
}

export async function createTempFiles(base: string = tmpdir()): Promise<TempFiles> {
  // mkdtemp creates the directory with mode 0700.
  const dir = await mkdtemp(join(base, 'mirrord-mcp-'));
  return {
    dir,
    async write(name, contents) {
      const path = join(dir, name);
      await writeFile(path, contents, { mode: 0o600, flag: 'wx' });
      return path;
    },
    async remove(path) {
      await unlink(path).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
    },
    async dispose() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
