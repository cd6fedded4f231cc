/**
 * The DynamoDB client of the decision functions, created once per Lambda instance (module scope).
 *
 * Bounded timeouts turn a hung or slow DynamoDB call into a store failure quickly, so the function
 * still answers 503 + Retry-After (ERR-5) before the gateway's decision deadline turns the request into
 * a 500 (DESIGN §3). Without them the SDK waits on a silent connection indefinitely. One call is bounded
 * by {@link DYNAMODB_CALL_BOUND_MS}; a decision makes several in a row (read, contact-id claims, write,
 * again after a conflict), so the handlers also give each invocation {@link DECISION_STORE_BUDGET_MS}:
 * a store call starts only while its worst case still ends within the budget, else the decision answers
 * 503 at once (`sip-gateway/src/decision/store-time-budget.ts`).
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
  /** Allowance for the SDK's backoff before its retry (standard strategy: a jittered delay of ~100 ms). */
  retryBackoffMs: 200,
} as const;

/** The worst case of one DynamoDB call: every attempt spends its connection and request timeouts, plus the backoff. */
export const DYNAMODB_CALL_BOUND_MS =
  DYNAMODB_CLIENT_LIMITS.maxAttempts * (DYNAMODB_CLIENT_LIMITS.connectionTimeoutMs + DYNAMODB_CLIENT_LIMITS.requestTimeoutMs) +
  DYNAMODB_CLIENT_LIMITS.retryBackoffMs;

/**
 * The store time of one decision invocation, from its start: the gateway's decision deadline (3 s by
 * default, `DECISION_DEADLINE_MS`) must exceed it by the Invoke round trip, so the function's own 503
 * (ERR-5) reaches the gateway before the gateway gives up with 500 (DESIGN §3).
 */
export const DECISION_STORE_BUDGET_MS = 2_000;

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
