import { AppError } from '../errors.js';
import type { JsonObject } from './mirrord-config.js';

/** What a namespace allows callers to ask of mirrord. */
export interface NamespaceRules {
  /** `incoming: steal`: never, only with an http_filter (so health checks keep reaching the pod), or always. */
  steal: 'never' | 'with-filter' | 'always';
  /** `fs: write` (writes reach the pod's filesystem). */
  fsWrite: boolean;
  /** Importing the target's environment: all of it, all but secret-looking names, or nothing. */
  envImport: 'all' | 'non-secret' | 'none';
  /** Make the pod's service-account token and other secret mounts unreadable (`fs.not_found`). */
  hidePodSecrets: boolean;
}

type Spec = 'any' | { [key: string]: Spec };

/**
 * The mirrord config keys a caller may set: network traffic, DNS, fs mode and patterns, env
 * filters and overrides, hostname, skipped processes. Everything else is the server's.
 */
const callerSpec: Spec = {
  feature: {
    network: {
      incoming: 'any',
      outgoing: 'any',
      dns: 'any',
      ipv6: 'any',
    },
    fs: 'any', // mapping is refused before this (server-only)
    env: 'any', // env_file is refused before this (server-only)
    hostname: 'any',
  },
  skip_processes: 'any',
  skip_build_tools: 'any',
  skip_extra_build_tools: 'any',
  startup_retry: 'any',
};

function allowedKeys(spec: Spec): string {
  return spec === 'any' ? '' : Object.keys(spec).join(', ');
}

function checkAllowed(value: unknown, spec: Spec, path: string[]): void {
  if (spec === 'any' || typeof value !== 'object' || value === null || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    // Own keys only: "constructor" or "__proto__" must not find Object.prototype and pass.
    const childSpec = Object.hasOwn(spec, key) ? spec[key] : undefined;
    const keyPath = [...path, key].join('.');
    if (childSpec === undefined) {
      throw new AppError(
        'FORBIDDEN_CONFIG_KEY',
        `mirrord_config key "${keyPath}" may not come from a caller (allowed here: ${allowedKeys(spec)})`,
        { key: keyPath, rule: 'caller allow-list' },
      );
    }
    checkAllowed(child, childSpec, [...path, key]);
  }
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function modeOf(value: unknown): unknown {
  return isObject(value) ? value.mode : value;
}

/** Names that usually hold secrets: kept out of an imported environment by default. */
export const secretNamePatterns = [
  '*SECRET*',
  '*TOKEN*',
  '*PASSWORD*',
  '*PASSWD*',
  '*KEY*',
  '*CREDENTIAL*',
  '*AUTH*',
  '*PRIVATE*',
  '*DSN*',
  '*DATABASE_URL*',
  '*CONNECTION_STRING*',
  '*COOKIE*',
  '*SESSION*',
];
const secretName =
  /SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL|AUTH|PRIVATE|DSN|DATABASE_URL|CONNECTION_STRING|COOKIE|SESSION/i;

/** Paths whose contents are the pod's credentials (MIRRORD.md §5: fs read exposes them). */
export const podSecretPaths = ['^/var/run/secrets/.*', '^/run/secrets/.*'];

function splitList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return value.split(';').filter((item) => item !== '');
  return [];
}

/**
 * Applies a namespace's rules to a caller's (already parsed) mirrord config: refuses what the
 * rules forbid, naming the key and the rule, and adds the server's protections. Returns a new object.
 */
export function applyCallerRules(input: JsonObject, rules: NamespaceRules, namespace: string): JsonObject {
  checkAllowed(input, callerSpec, []);
  const config = structuredClone(input);
  const feature = isObject(config.feature) ? config.feature : {};
  const network = isObject(feature.network) ? feature.network : {};

  const incoming = network.incoming;
  if (modeOf(incoming) === 'steal') {
    const hasFilter =
      isObject(incoming) && isObject(incoming.http_filter) && Object.keys(incoming.http_filter).length > 0;
    if (rules.steal === 'never' || (rules.steal === 'with-filter' && !hasFilter)) {
      throw new AppError(
        'POLICY_DENIED',
        rules.steal === 'never'
          ? `feature.network.incoming "steal" is not allowed in namespace "${namespace}" (policy steal: never); use "mirror"`
          : `feature.network.incoming "steal" needs an http_filter in namespace "${namespace}" (policy steal: with-filter), so the pod keeps its other traffic`,
        { key: 'feature.network.incoming', rule: `steal: ${rules.steal}` },
      );
    }
  }

  if (modeOf(feature.fs) === 'write' && !rules.fsWrite) {
    throw new AppError(
      'POLICY_DENIED',
      `feature.fs "write" is not allowed in namespace "${namespace}" (policy fsWrite: false); use "read" or "local"`,
      { key: 'feature.fs', rule: 'fsWrite: false' },
    );
  }

  if (rules.hidePodSecrets) {
    const fs = isObject(feature.fs) ? feature.fs : feature.fs === undefined ? {} : { mode: feature.fs };
    fs.not_found = [...splitList(fs.not_found), ...podSecretPaths];
    feature.fs = fs;
  }

  const env = feature.env;
  if (rules.envImport === 'none') {
    feature.env = isObject(env) && isObject(env.override) ? { exclude: '*', override: env.override } : false;
  } else if (rules.envImport === 'non-secret' && env !== false) {
    const envConfig = isObject(env) ? env : {};
    const include = splitList(envConfig.include);
    if (include.length > 0) {
      const risky = include.filter((name) => /[*?]/.test(name) || secretName.test(name));
      if (risky.length > 0) {
        throw new AppError(
          'POLICY_DENIED',
          `feature.env.include ${risky.map((name) => `"${name}"`).join(', ')} could import secrets, which namespace "${namespace}" keeps from callers (policy envImport: non-secret); name the variables you need`,
          { key: 'feature.env.include', rule: 'envImport: non-secret' },
        );
      }
    } else {
      envConfig.exclude = [...splitList(envConfig.exclude), ...secretNamePatterns];
    }
    feature.env = envConfig;
  }

  config.feature = feature;
  return config;
}
