/**
 * Shell-style globs for names: `*` matches any run of characters, `?` one character; everything
 * else is literal. Used for namespace patterns in the config.
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** True when `glob` contains a wildcard. */
export const isGlob = (glob: string): boolean => /[*?]/.test(glob);

/** True when `name` matches at least one of the globs. */
export function matchesAnyGlob(name: string, globs: readonly string[]): boolean {
  return globs.some((glob) => globToRegExp(glob).test(name));
}
