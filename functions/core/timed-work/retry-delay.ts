/**
 * DRG-6 retry policy of De-REGISTERs and proactive refreshes.
 */
import type { MidRegistrarConfig } from '../config';

/** The configuration keys the retry policy reads. */
export type RetryConfig = Pick<MidRegistrarConfig, 'retryBackoffBaseMs' | 'retryBackoffMaxMs' | 'retryMaxAttempts'>;

/** How a failed transmission is classified (DRG-6, DRG-11). */
export type FailureClass = 'retry' | 'final';

/**
 * DRG-6: 408, 5xx, timeouts and transport errors are retried; 3xx, other 4xx and 6xx are final.
 *
 * @param status the final status, or undefined for a timeout or transport error.
 */
export function classifyFailure(status: number | undefined): FailureClass {
  if (status === undefined || status === 408 || (status >= 500 && status < 600)) return 'retry';
  return 'final';
}

/**
 * DRG-6: delay after the n-th failure: min(base·2^(n−1), max), or Retry-After when that is larger
 * and within the max.
 *
 * @example
 * ```ts
 * retryDelayMs(config, 1); // 5000 with the defaults
 * retryDelayMs(config, 2); // 10000
 * retryDelayMs(config, 1, 60); // 60000: Retry-After is larger and within 300 s
 * ```
 */
export function retryDelayMs(config: RetryConfig, failures: number, retryAfterSec?: number): number {
  const backoffMs = Math.min(config.retryBackoffBaseMs * 2 ** Math.max(0, failures - 1), config.retryBackoffMaxMs);
  if (retryAfterSec === undefined) return backoffMs;
  const retryAfterMs = retryAfterSec * 1000;
  return retryAfterMs > backoffMs && retryAfterMs <= config.retryBackoffMaxMs ? retryAfterMs : backoffMs;
}
