/**
 * The DynamoDB client of the decision functions, created once per Lambda instance (module scope).
 *
 * Bounded timeouts turn a hung or slow DynamoDB call into a store failure quickly, so the function
 * still answers 503 + Retry-After (ERR-5) before the gateway's decision deadline turns the request into
 * a 500 (DESIGN §3). Without them the SDK waits on a silent connection indefinitely. A decision makes at
 * most three store calls in a row (read, contact-id claim, write); each is bounded by
 * `maxAttempts × (connection + request timeout)` plus the SDK's short backoff.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/** Timeouts and attempts of the functions' DynamoDB calls (in-region latency is single-digit ms). */
export const DYNAMODB_CLIENT_LIMITS = {
  /** TCP (and TLS) connection set-up. */
  connectionTimeoutMs: 300,
  /** One request and its response. */
  requestTimeoutMs: 500,
  /** Attempts per call, retries of throttling and timeouts included. */
  maxAttempts: 2,
} as const;

/**
 * A DynamoDB client with the limits above; `overrides` (endpoint, region, credentials in tests) win.
 *
 * @example
 * ```ts
 * const client = createDynamoDbClient(); // module scope of a handler
 * ```
 */
export function createDynamoDbClient(overrides: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    maxAttempts: DYNAMODB_CLIENT_LIMITS.maxAttempts,
    requestHandler: {
      connectionTimeout: DYNAMODB_CLIENT_LIMITS.connectionTimeoutMs,
      requestTimeout: DYNAMODB_CLIENT_LIMITS.requestTimeoutMs,
      // Without this the SDK only logs a breached requestTimeout and keeps waiting.
      throwOnRequestTimeout: true,
    },
    ...overrides,
  });
}
