/** Edit distance (insertions, deletions, substitutions), for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Names close to `wanted`: a small edit distance, or one containing the other (user-svc vs
 * user-service, api vs api-v2). Best first, at most `max`.
 */
export function nearMisses(wanted: string, candidates: Iterable<string>, max = 3): string[] {
  const scored: { name: string; score: number }[] = [];
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  const stem = (name: string): string =>
    name.replace(/-(svc|service|srv|server|app|api|deploy|deployment)$/, '');
  for (const name of new Set(candidates)) {
    if (name === wanted) continue;
    const distance = editDistance(wanted, name);
    const related =
      name.includes(wanted) ||
      wanted.includes(name) ||
      (stem(name) === stem(wanted) && stem(wanted).length >= 2);
    // An abbreviation (user-svc of user-service) ranks first, then related names, then by distance.
    const abbreviation = isSubsequence(wanted, name);
    const score = abbreviation ? 0.5 : related ? Math.min(distance, 1.5) : distance;
    if (distance <= limit || related || abbreviation) scored.push({ name, score });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, max)
    .map((entry) => entry.name);
}

/** True when every character of `short` appears in `long`, in order. */
function isSubsequence(short: string, long: string): boolean {
  let i = 0;
  for (const char of long) if (char === short[i]) i += 1;
  return i === short.length && short.length >= 3;
}
