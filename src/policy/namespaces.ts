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

/**
 * The namespace policy for one caller: `namespaces.allowed` narrowed by the namespaces the caller's
 * credential grants (a static token's `namespaces`, an OIDC namespaces claim). Without such a
 * limit the server's policy applies as it is.
 */
export function narrowForCaller(
  policy: NamespacePolicy,
  caller: { subject: string; namespaces?: readonly string[] | undefined },
): NamespacePolicy {
  const limit = caller.namespaces;
  if (limit === undefined) return policy;
  const matchers = limit.map(globToRegExp);
  const isAllowed = (namespace: string): boolean =>
    policy.isAllowed(namespace) && matchers.some((matcher) => matcher.test(namespace));
  // The caller's own names first: the first of them is its default when the server's is not its.
  const exactNames = [
    ...new Set([...limit.filter((pattern) => !isGlob(pattern)), ...policy.exactNames]),
  ].filter(isAllowed);
  const defaultNamespace = isAllowed(policy.defaultNamespace)
    ? policy.defaultNamespace
    : (exactNames[0] ?? policy.defaultNamespace);
  const describe = limit.length > 0 ? limit.join(', ') : 'none';
  return {
    // What to show the caller: its own limit, within the server's (a "*" grant shows the server's).
    patterns: limit.includes('*')
      ? policy.patterns
      : limit.filter((pattern) => isGlob(pattern) || isAllowed(pattern)),
    exactNames,
    hasGlobs: policy.hasGlobs || limit.some(isGlob),
    defaultNamespace,
    isAllowed,
    resolve(namespace) {
      const name = parseNamespace(namespace ?? defaultNamespace);
      if (!isAllowed(name)) {
        const why = policy.isAllowed(name)
          ? `your credential limits ${caller.subject} to: ${describe}`
          : `allowed on this server: ${policy.patterns.join(', ')}`;
        throw new AppError(
          'NAMESPACE_NOT_ALLOWED',
          `namespace "${name}" is not allowed for ${caller.subject} (${why})`,
          {
            namespace: name,
            allowed: limit,
          },
        );
      }
      return name;
    },
  };
}
