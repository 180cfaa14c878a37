import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { globToRegExp, isGlob } from '../glob.js';
import { parseNamespace } from '../mirrord/target.js';

export interface NamespacePolicy {
  /** The patterns from `namespaces.allowed`, as configured. */
  readonly patterns: readonly string[];
  /** Allowed names that are not globs (known without listing the cluster's namespaces). */
  readonly exactNames: readonly string[];
  /** True when some pattern is a glob, so the full set depends on the cluster's namespaces. */
  readonly hasGlobs: boolean;
  readonly defaultNamespace: string;
  isAllowed(namespace: string): boolean;
  /** The namespace of a call (its own or the default), validated and allowed; throws otherwise. */
  resolve(namespace: string | undefined): string;
}

/** Which namespaces callers may touch: `namespaces.allowed` (names or globs) and `defaultNamespace`. */
export function createNamespacePolicy(
  config: Pick<Config, 'defaultNamespace'> & { namespaces: { allowed: readonly string[] } },
): NamespacePolicy {
  const patterns = [...config.namespaces.allowed];
  const matchers = patterns.map(globToRegExp);
  const isAllowed = (namespace: string): boolean => matchers.some((matcher) => matcher.test(namespace));
  const exactNames = [...new Set([config.defaultNamespace, ...patterns.filter((p) => !isGlob(p))])].filter(
    isAllowed,
  );
  return {
    patterns,
    exactNames,
    hasGlobs: patterns.some(isGlob),
    defaultNamespace: config.defaultNamespace,
    isAllowed,
    resolve(namespace) {
      const name = parseNamespace(namespace ?? config.defaultNamespace);
      if (!isAllowed(name)) {
        throw new AppError(
          'NAMESPACE_NOT_ALLOWED',
          `namespace "${name}" is not allowed on this server (allowed: ${patterns.join(', ')})`,
          { namespace: name, allowed: patterns },
        );
      }
      return name;
    },
  };
}
