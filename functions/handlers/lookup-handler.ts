/**
 * The `lookup` decision function (SPEC §9, DESIGN §3): for each request of a batch, resolve the key
 * (LKP-1, LKP-2, LKP-10), read the AoR record once, and answer targets or a status (LKP-3..5).
 *
 * The decision itself is `decideLookup`, the same code the gateway runs in-process (local mode), so
 * both modes answer identically (GEN-1).
 */
import type { MidRegistrarConfig } from '../core/config';
import type { LookupDecision, LookupRequest } from '../core/contract';
import type { AorRecord } from '../core/model';
import type { BindingStore } from '../store/binding-store';
import { StoreError } from '../store/errors';
import { decideLookup } from '../../sip-gateway/src/decision/lookup-service';
import type { DecisionBatchResult } from '../../sip-gateway/src/decision/decision-batch';
import { DECISION_STORE_BUDGET_MS, DYNAMODB_CALL_BOUND_MS } from './dynamodb-client';
import {
  HANDLER_METRIC,
  InvocationCounters,
  decideEach,
  failureResponse,
  newToTag,
  readBatchEvent,
  type HandlerLogger,
  type HandlerMetrics,
} from './decision-batch-handler';

/** What the lookup handler runs on. */
export interface LookupHandlerDeps {
  config: MidRegistrarConfig;
  store: BindingStore<AorRecord>;
  logger: HandlerLogger;
  metrics: HandlerMetrics;
  /** Store time of one invocation (default DECISION_STORE_BUDGET_MS); reads that could outlast it answer 500 + Retry-After at once. */
  storeBudgetMs?: number;
  /** Worst case of one store call (default DYNAMODB_CALL_BOUND_MS). */
  storeCallBoundMs?: number;
  /** Wall clock (default Date.now). */
  nowMs?: () => number;
}

/** The metric a lookup decision counts as. */
function outcomeMetric(decision: LookupDecision): string {
  switch (decision.kind) {
    case 'targets':
      return HANDLER_METRIC.lookupHit;
    case 'relay-upstream':
      return HANDLER_METRIC.lookupRelayed;
    case 'respond':
      // LKP-3: 404 nothing retained, 480 no valid binding; LKP-10 403; OPTIONS 200.
      return decision.response.status === 404 || decision.response.status === 480 ? HANDLER_METRIC.lookupMiss : HANDLER_METRIC.lookupRejected;
  }
}

/**
 * Builds the Lambda handler.
 *
 * @example
 * ```ts
 * export const handler = createLookupHandler({ config, store, logger, metrics });
 * ```
 */
export function createLookupHandler(deps: LookupHandlerDeps): (event: unknown) => Promise<DecisionBatchResult<'lookup'>> {
  const nowMs = deps.nowMs ?? Date.now;
  const storeBudgetMs = deps.storeBudgetMs ?? DECISION_STORE_BUDGET_MS;
  const storeCallBoundMs = deps.storeCallBoundMs ?? DYNAMODB_CALL_BOUND_MS;
  return async (event) => {
    const batch = readBatchEvent(event, ['lookup'] as const);
    const counters = new InvocationCounters();
    // The batch's lookups run at once and share the invocation's store time (under the gateway's deadline).
    const storeBudget = { deadlineMs: nowMs() + storeBudgetMs, callBoundMs: storeCallBoundMs, nowMs };
    deps.store.resetStats();
    try {
      return await decideEach(
        batch,
        async (request: LookupRequest) => {
          const decision = await decideLookup(deps.config, deps.store, request, newToTag(), storeBudget);
          counters.increment(outcomeMetric(decision));
          return decision;
        },
        (err, request) => {
          const storeFailure = err instanceof StoreError;
          counters.increment(storeFailure ? HANDLER_METRIC.storeErrors : HANDLER_METRIC.decisionErrors);
          deps.logger.error(storeFailure ? 'lookup: store failure' : 'lookup: decision failed', {
            error: err as Error,
            requestUri: request.requestUri,
            method: request.method,
          });
          return { kind: 'respond', response: failureResponse(err, deps.config.retryAfterMs) };
        },
      );
    } finally {
      counters.addStoreStats(deps.store.stats());
      counters.publish(deps.metrics);
    }
  };
}
