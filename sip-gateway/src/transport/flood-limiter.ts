/**
 * Token buckets keyed by source address or connection, to cap how many messages one peer can make
 * the gateway parse per second. Pure: the caller passes `nowMs`.
 */

/** Options for {@link FloodLimiter}. */
export interface FloodLimiterOptions {
  /** Sustained messages per second per key. */
  ratePerSec: number;
  /** Burst size: messages accepted at once after a quiet period. */
  burst: number;
  /** Keys tracked at most; the stalest are forgotten beyond it (bounded memory under spoofing). */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * A per-key token bucket. A key that has been idle long enough to refill its bucket is equivalent to
 * a new key, so forgetting it loses nothing.
 *
 * @example
 * const perSource = new FloodLimiter({ ratePerSec: 200, burst: 400 });
 * if (!perSource.allow(remoteAddress, nowMs)) metrics.increment('flood_limited');
 */
export class FloodLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;

  constructor(private readonly options: FloodLimiterOptions) {
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** Takes one token for `key` at `nowMs`; false when the key is over its rate. */
  allow(key: string, nowMs: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket) {
      const refill = ((nowMs - bucket.updatedMs) / 1000) * this.options.ratePerSec;
      bucket.tokens = Math.min(this.options.burst, bucket.tokens + Math.max(0, refill));
      bucket.updatedMs = Math.max(bucket.updatedMs, nowMs);
      // Re-insert so Map order stays least-recently-used first.
      this.buckets.delete(key);
    } else {
      bucket = { tokens: this.options.burst, updatedMs: nowMs };
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets a key (e.g. when its connection closes). */
  forget(key: string): void {
    this.buckets.delete(key);
  }

  /** Number of keys tracked. */
  get size(): number {
    return this.buckets.size;
  }
}
