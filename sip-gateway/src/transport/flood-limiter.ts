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
  /** The message count when the key was (re)placed at the end of the Map's order. */
  placedAt: number;
}

/**
 * A per-key token bucket. A key that has been idle long enough to refill its bucket is equivalent to
 * a new key, so forgetting it loses nothing.
 *
 * Memory is bounded by forgetting the least recently seen key when a new one would exceed `maxKeys`. The Map's
 * insertion order is the recency order, but a key is moved to its end only once it has fallen `maxKeys / 2`
 * messages behind, not on every message (a delete and set per message cost ~1 µs): a key seen within the last
 * `maxKeys / 2` messages is never the one forgotten.
 *
 * @example
 * const perSource = new FloodLimiter({ ratePerSec: 200, burst: 400 });
 * if (!perSource.allow(remoteAddress, nowMs)) metrics.increment('flood_limited');
 */
export class FloodLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;
  private readonly refreshAfter: number;
  /** Messages seen so far (the recency clock of {@link Bucket.placedAt}). */
  private messages = 0;

  constructor(private readonly options: FloodLimiterOptions) {
    this.maxKeys = options.maxKeys ?? 100_000;
    this.refreshAfter = Math.max(1, Math.floor(this.maxKeys / 2));
  }

  /** Takes one token for `key` at `nowMs`; false when the key is over its rate. */
  allow(key: string, nowMs: number): boolean {
    const count = ++this.messages;
    let bucket = this.buckets.get(key);
    if (bucket) {
      const refill = ((nowMs - bucket.updatedMs) / 1000) * this.options.ratePerSec;
      bucket.tokens = Math.min(this.options.burst, bucket.tokens + Math.max(0, refill));
      bucket.updatedMs = Math.max(bucket.updatedMs, nowMs);
      if (count - bucket.placedAt > this.refreshAfter) {
        // Back to the end of the Map's order (see the class remarks).
        this.buckets.delete(key);
        this.buckets.set(key, bucket);
        bucket.placedAt = count;
      }
    } else {
      bucket = { tokens: this.options.burst, updatedMs: nowMs, placedAt: count };
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
      this.buckets.set(key, bucket);
    }
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
