/**
 * The common shape of the batched decision handlers (DESIGN §3): one invocation carries up to N
 * requests of one operation; each is decided independently and answered in order, so one failing
 * message never fails the others.
 *
 * A store failure answers that message 503 + Retry-After (ERR-5: nothing was committed); any other
 * failure 500 + Retry-After (ERR-3). Both are logged and counted (`store_errors`, `decision_errors`).
 * What the store did in the invocation (calls, capacity units, conflicts, failed calls) is published
 * from its counters, so the cost per REGISTER can be read from the metrics (DESIGN §8).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CONTRACT_VERSION } from '../core/contract';
import { REGISTRAR_ERRORS, registrarErrorResponse } from '../core/errors';
import type { LocalResponse } from '../core/contract';
import { StoreError } from '../store/errors';
import type { StoreStats } from '../store/store-stats';
import type { DecisionBatchEvent, DecisionBatchResult } from '../../sip-gateway/src/decision/decision-batch';
import type { DecisionOperation, DecisionRequests, DecisionResults } from '../../sip-gateway/src/decision/decision-invoker';

/** The logging the handlers use (a Powertools Logger in Lambda). */
export type HandlerLogger = Pick<Logger, 'error' | 'warn' | 'info'>;
/** The metrics the handlers use (Powertools Metrics, EMF, in Lambda). */
export type HandlerMetrics = Pick<Metrics, 'addMetric' | 'publishStoredMetrics'>;

/** Metric names published by the decision functions. */
export const HANDLER_METRIC = {
  registerAbsorbed: 'register_absorbed',
  registerForwarded: 'register_forwarded',
  registerRejected: 'register_rejected',
  lookupHit: 'lookup_hit',
  lookupMiss: 'lookup_miss',
  lookupRejected: 'lookup_rejected',
  lookupRelayed: 'lookup_relayed',
  /** Messages answered 503 because the store failed (ERR-5, RPL-10). */
  storeErrors: 'store_errors',
  decisionErrors: 'decision_errors',
  /** Conditional writes that lost a race (GEN-5 re-decisions) or a contact-id collision. */
  versionConflicts: 'version_conflicts',
  /** Store calls and capacity units consumed, for the cost per REGISTER (DESIGN §8). */
  storeReads: 'store_reads',
  storeWrites: 'store_writes',
  storeReadUnits: 'store_read_capacity_units',
  storeWriteUnits: 'store_write_capacity_units',
  /** Store calls that failed (throttling, timeouts…), whatever the decision then answered. */
  storeCallFailures: 'store_call_failures',
} as const;

/** A message whose batch event is not one the handler can answer (the whole invocation fails). */
export class DecisionBatchEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecisionBatchEventError';
  }
}

/** Counts metrics over one invocation and publishes each name once (values summed). */
export class InvocationCounters {
  private readonly counts = new Map<string, number>();

  increment(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }

  /**
   * Adds what the store did during the invocation: calls, capacity units, lost conditional writes and
   * failed calls.
   */
  addStoreStats(stats: StoreStats): void {
    const add = (name: string, value: number): void => {
      if (value > 0) this.increment(name, value);
    };
    add(HANDLER_METRIC.storeReads, stats.reads);
    add(HANDLER_METRIC.storeWrites, stats.writes);
    add(HANDLER_METRIC.storeReadUnits, stats.readCapacityUnits);
    add(HANDLER_METRIC.storeWriteUnits, stats.writeCapacityUnits);
    add(HANDLER_METRIC.versionConflicts, stats.conflicts);
    add(HANDLER_METRIC.storeCallFailures, stats.failures);
  }

  /** Adds every counter to `metrics` and flushes them (one EMF line). */
  publish(metrics: HandlerMetrics): void {
    for (const [name, value] of this.counts) metrics.addMetric(name, MetricUnit.Count, value);
    if (this.counts.size > 0) metrics.publishStoredMetrics();
  }
}

/** A fresh To tag for a local response (RFC 3261 §19.3: at least 32 bits of randomness). */
export function newToTag(): string {
  return randomBytes(6).toString('hex');
}

/** The local response for a failed decision: 503 when the store failed (ERR-5), else 500 (ERR-3). */
export function failureResponse(err: unknown, retryAfterMs: number): LocalResponse {
  const row = err instanceof StoreError ? REGISTRAR_ERRORS.serviceUnavailable : REGISTRAR_ERRORS.internalError;
  return registrarErrorResponse(row, retryAfterMs, newToTag());
}

/**
 * Checks a batch event for `operation`.
 *
 * @throws DecisionBatchEventError when version, operation or requests are wrong
 */
export function readBatchEvent<O extends DecisionOperation>(event: unknown, operations: readonly O[]): DecisionBatchEvent<O> {
  if (typeof event !== 'object' || event === null) throw new DecisionBatchEventError('event is not an object');
  const e = event as Partial<DecisionBatchEvent>;
  if (e.version !== CONTRACT_VERSION) throw new DecisionBatchEventError(`unsupported contract version ${String(e.version)}`);
  if (!operations.includes(e.operation as O)) throw new DecisionBatchEventError(`operation ${String(e.operation)} is not handled here`);
  if (!Array.isArray(e.requests)) throw new DecisionBatchEventError('requests is not an array');
  return e as DecisionBatchEvent<O>;
}

/**
 * Decides every request of a batch independently, in order.
 *
 * @param decide decides one request (may throw)
 * @param onFailure the decision for a request whose `decide` threw
 */
export async function decideEach<O extends DecisionOperation>(
  event: DecisionBatchEvent<O>,
  decide: (request: DecisionRequests[O]) => Promise<DecisionResults[O]>,
  onFailure: (err: unknown, request: DecisionRequests[O]) => DecisionResults[O],
): Promise<DecisionBatchResult<O>> {
  const decisions = await Promise.all(
    event.requests.map(async (request) => {
      try {
        return await decide(request);
      } catch (err) {
        return onFailure(err, request);
      }
    }),
  );
  return { version: CONTRACT_VERSION, decisions };
}
