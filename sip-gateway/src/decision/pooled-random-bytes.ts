/**
 * Random bytes for tags, branches and ids on the hot path, drawn from a pool that one `randomFillSync`
 * call refills (benchmarks showed one synchronous `randomBytes` system call per tag at ~4 % of the CPU
 * per REGISTER). The bytes are the same cryptographic random bytes, only fetched in bulk.
 *
 * @remarks
 * Each refill fills a new buffer, so a slice handed out earlier is never overwritten.
 */
import { randomFillSync } from 'node:crypto';

/** Bytes fetched per refill. */
const DEFAULT_POOL_BYTES = 4096;

/**
 * Creates a `(length) => Buffer` source of cryptographically random bytes served from a pool.
 *
 * @example
 * const randomBytes = createPooledRandomBytes();
 * const tag = randomBytes(6).toString('hex');
 */
export function createPooledRandomBytes(poolBytes: number = DEFAULT_POOL_BYTES): (length: number) => Buffer {
  let pool = Buffer.alloc(0);
  let offset = 0;
  return (length) => {
    if (length > poolBytes) return randomFillSync(Buffer.allocUnsafe(length));
    if (offset + length > pool.length) {
      pool = randomFillSync(Buffer.allocUnsafeSlow(poolBytes));
      offset = 0;
    }
    offset += length;
    return pool.subarray(offset - length, offset);
  };
}
