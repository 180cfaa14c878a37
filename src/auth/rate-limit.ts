export interface RateLimiter {
  /** Takes one request from the key's bucket: 0 when allowed, else the seconds to wait. */
  take(key: string): number;
  /** Buckets held now. */
  readonly size: number;
}

/** Buckets held at most; beyond it the fullest (idlest) are forgotten, which only ever favours callers. */
const maxBuckets = 10_000;

/**
 * A token bucket per key (identity, or client address for failed authentications): `burst` requests
 * at once, refilled at `perMinute`. A full bucket is the same as no bucket, so idle keys are dropped.
 */
export function createRateLimiter(options: {
  perMinute: number;
  burst: number;
  now?: () => number;
}): RateLimiter {
  const { perMinute, burst } = options;
  const now = options.now ?? (() => Date.now());
  const ratePerMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  const prune = (at: number): void => {
    for (const [key, bucket] of buckets) {
      if (bucket.tokens + (at - bucket.at) * ratePerMs >= burst) buckets.delete(key);
    }
    // Still full of busy callers: forget the oldest tenth at once (Map order = first seen), so a
    // flood of new keys costs one pass per thousand keys, not one per key.
    if (buckets.size >= maxBuckets) {
      let drop = Math.ceil(maxBuckets / 10);
      for (const key of buckets.keys()) {
        if (drop-- <= 0) break;
        buckets.delete(key);
      }
    }
  };

  return {
    take(key) {
      if (perMinute === 0) return 0;
      const at = now();
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= maxBuckets) prune(at);
        bucket = { tokens: burst, at };
        buckets.set(key, bucket);
      } else {
        bucket.tokens = Math.min(burst, bucket.tokens + (at - bucket.at) * ratePerMs);
        bucket.at = at;
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerMs / 1000));
    },
    get size() {
      return buckets.size;
    },
  };
}
