import type { Config } from '../config.js';
import type { NamespaceRules } from './caller-config.js';

/** `*` and `?` globs over a whole name. */
export function globMatches(pattern: string, name: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return regex.test(name);
}

/** The rules for a namespace: the server-wide policy, with the first matching namespace entry laid over it. */
export function rulesFor(config: Config, namespace: string): NamespaceRules {
  const { namespaces, ...defaults } = config.policy;
  const entry = Object.entries(namespaces).find(([pattern]) => globMatches(pattern, namespace))?.[1] ?? {};
  return {
    steal: entry.steal ?? defaults.steal,
    fsWrite: entry.fsWrite ?? defaults.fsWrite,
    envImport: entry.envImport ?? defaults.envImport,
    hidePodSecrets: entry.hidePodSecrets ?? defaults.hidePodSecrets,
  };
}
