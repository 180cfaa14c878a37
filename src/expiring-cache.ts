/**
 * A bounded map whose entries expire: answers worth remembering for a while (token reviews, access
 * reviews). When full, the oldest entry makes room; an expired entry reads as absent.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { until: number; value: V }>();

  constructor(private readonly maxEntries: number) {}

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > now) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, ttlMs: number, now = Date.now()): void {
    if (ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { until: now + ttlMs, value });
  }

  get size(): number {
    return this.entries.size;
  }
}
