/**
 * Translates AWS SDK v3 DynamoDB exceptions into store errors (ERR-5): transient ones (throttling,
 * timeouts, network, server faults) become {@link StoreUnavailableError}, the rest
 * {@link StoreFailureError}. Conditional-check failures are handled by the adapter before this.
 */
import { StoreError, StoreFailureError, StoreUnavailableError } from './errors';

const TRANSIENT_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
]);

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
}

/** True when retrying later may succeed. */
export function isTransientSdkError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as SdkErrorShape;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  return e.$fault === 'server' || (typeof e.$retryable === 'object' && e.$retryable !== null);
}

/**
 * The store error for an SDK failure of `operation` (e.g. `PutItem alice@example.com`).
 * Store errors pass through unchanged.
 */
export function toStoreError(err: unknown, operation: string): StoreError {
  if (err instanceof StoreError) return err;
  const name = typeof err === 'object' && err !== null && 'name' in err ? String((err as { name: unknown }).name) : 'Error';
  return isTransientSdkError(err)
    ? new StoreUnavailableError(`${operation}: DynamoDB unavailable (${name})`, { cause: err })
    : new StoreFailureError(`${operation}: DynamoDB failed (${name})`, { cause: err });
}
