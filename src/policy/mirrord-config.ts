import { AppError } from '../errors.js';
import { describeOffset, jsonErrorOffset } from './json-error.js';

export type JsonObject = Record<string, unknown>;

/**
 * Config keys that only the server decides (MIRRORD.md §5): they reach node-root (agent.*), another
 * cluster or a MITM (kubeconfig, kube_context, accept_invalid_certificates), local files
 * (internal_proxy, env_file, fs.mapping), or the server's own choices (operator, telemetry, target...).
 */
const serverOnlyKeys: readonly (readonly string[])[] = [
  ['agent'],
  ['kubeconfig'],
  ['kube_context'],
  ['accept_invalid_certificates'],
  ['internal_proxy'],
  ['external_proxy'],
  ['experimental'],
  ['profile'],
  ['operator'],
  ['telemetry'],
  ['target'],
  ['key'],
  ['ci'],
  ['multi_cluster'],
  ['container'],
  ['use_proxy'],
  ['sip_binaries'],
  ['feature', 'env', 'env_file'],
  ['feature', 'fs', 'mapping'],
];

const templateDelimiter = /\{\{|\{%|\{#/;

/** Parses `mirrord_config` (a JSON string as in the original prototype, or an object). */
export function parseCallerConfig(input: string | JsonObject | undefined): JsonObject {
  if (input === undefined) return {};
  let value: unknown = input;
  if (typeof input === 'string') {
    if (input.trim() === '') return {};
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new AppError(
        'INVALID_MIRRORD_CONFIG',
        `mirrord_config is not valid JSON: ${describeJsonError(input, error)}`,
      );
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError(
      'INVALID_MIRRORD_CONFIG',
      'mirrord_config must be a JSON object, such as {"feature":{"fs":"read"}}',
    );
  }
  const config = value as JsonObject;
  rejectTemplateDelimiters(config, 'mirrord_config');
  rejectServerOnlyKeys(config);
  return config;
}

/** Points at the line and column of a JSON syntax error. */
function describeJsonError(text: string, error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error))
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/ at position \d+.*$/s, '');
  const offset = jsonErrorOffset(text);
  return offset === -1 ? message : `${message} at ${describeOffset(text, offset)}`;
}

/** Walks every key and string value; mirrord renders its config file as a Tera template. */
export function rejectTemplateDelimiters(value: unknown, where: string): void {
  if (typeof value === 'string') {
    if (templateDelimiter.test(value)) {
      throw new AppError('TEMPLATE_DELIMITER', `${where} contains a template delimiter ({{, {% or {#)`, {
        key: where,
      });
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      rejectTemplateDelimiters(item, `${where}[${index}]`);
    });
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      // No mirrord key is named so; in our own code such a key could replace an object's prototype.
      if (key === '__proto__') {
        throw new AppError(
          'INVALID_MIRRORD_CONFIG',
          `${where} holds a "__proto__" key, which is no mirrord config key`,
          {
            key: `${where}.__proto__`,
          },
        );
      }
      if (templateDelimiter.test(key)) {
        throw new AppError(
          'TEMPLATE_DELIMITER',
          `a key in ${where} contains a template delimiter ({{, {% or {#)`,
          {
            key: where,
          },
        );
      }
      rejectTemplateDelimiters(child, `${where}.${key}`);
    }
  }
}

function rejectServerOnlyKeys(config: JsonObject): void {
  for (const path of serverOnlyKeys) {
    let node: unknown = config;
    for (const key of path) {
      node =
        typeof node === 'object' && node !== null && !Array.isArray(node) && Object.hasOwn(node, key)
          ? (node as JsonObject)[key]
          : undefined;
    }
    if (node !== undefined) {
      const key = path.join('.');
      throw new AppError(
        'FORBIDDEN_CONFIG_KEY',
        `mirrord_config key "${key}" is decided by the server, not the caller`,
        {
          key,
          rule: 'server-only key (agent, cluster access, local files, operator, telemetry, target)',
        },
      );
    }
  }
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Validates the `env` argument: POSIX names, no NUL, no MIRRORD_* (mirrord's own controls). */
export function parseCallerEnv(env: Record<string, string> | undefined): Record<string, string> {
  if (env === undefined) return {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!envName.test(name)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `env name "${name}" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)`,
      );
    }
    if (name.toUpperCase().startsWith('MIRRORD_')) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `env name "${name}" is reserved: MIRRORD_* variables steer mirrord itself`,
      );
    }
    if (value.includes('\0'))
      throw new AppError('INVALID_ARGUMENT', `env value of "${name}" contains a NUL byte`);
    rejectTemplateDelimiters(value, `env.${name}`);
    out[name] = value;
  }
  return out;
}
