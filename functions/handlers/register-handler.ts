/**
 * The `register` decision function (DESIGN §3): answers batches of `register` and `register-reply`
 * requests (the gateway invokes one function for both). Each message is decided and committed
 * independently by the same services the local mode runs (`sip-gateway/src/decision/register-service`,
 * GEN-1): load the record, decide with the pure core, claim new contact ids, commit on the version read,
 * re-decide on conflicts (GEN-5), 503 on a store failure (ERR-5, RPL-10).
 *
 * Metrics per invocation (EMF): `register_absorbed`, `register_forwarded`, `register_rejected`,
 * `store_errors` (REGISTERs answered 503 Service unavailable), `decision_errors`, the core's reply
 * events (`upstream_contact_missing`, `upstream_interval_too_brief`, `stale_relay`), and the store's
 * counters (`store_reads`, `store_writes`, capacity units, `version_conflicts`, `store_call_failures`).
 */
import type { MidRegistrarConfig } from '../core/config';
import type { RegisterDecision, RegisterReplyRequest, RegisterRequest } from '../core/contract';
import { REGISTRAR_ERRORS } from '../core/errors';
import type { AorRecord } from '../core/model';
import type { IdGenerator } from '../core/random';
import type { BindingStore } from '../store/binding-store';
import type { DecisionBatchResult } from '../../sip-gateway/src/decision/decision-batch';
import { DECISION_STORE_BUDGET_MS, DYNAMODB_CALL_BOUND_MS } from './dynamodb-client';
import {
  decideRegisterReplyWithStore,
  decideRegisterWithStore,
  REPLY_EVENT_MESSAGES,
  type RegisterServiceDeps,
} from '../../sip-gateway/src/decision/register-service';
import {
  HANDLER_METRIC,
  InvocationCounters,
  decideEach,
  failureResponse,
  readBatchEvent,
  type HandlerLogger,
  type HandlerMetrics,
} from './decision-batch-handler';

/** What the register handler runs on. */
export interface RegisterHandlerDeps {
  config: MidRegistrarConfig;
  store: BindingStore<AorRecord>;
  ids: IdGenerator;
  logger: HandlerLogger;
  metrics: HandlerMetrics;
  /** Store time of one invocation (default DECISION_STORE_BUDGET_MS); store calls that could outlast it answer 503. */
  storeBudgetMs?: number;
  /** Worst case of one store call (default DYNAMODB_CALL_BOUND_MS). */
  storeCallBoundMs?: number;
  /** Wall clock (default Date.now). */
  nowMs?: () => number;
}

const DECISION_METRIC: Record<RegisterDecision['kind'], string> = {
  absorb: HANDLER_METRIC.registerAbsorbed,
  forward: HANDLER_METRIC.registerForwarded,
  reject: HANDLER_METRIC.registerRejected,
};

/** ERR-5: the service answers a store failure (or conflicts that never settled) with 503 Service unavailable. */
function isStoreFailureAnswer(decision: RegisterDecision): boolean {
  return decision.kind === 'reject' && decision.response.status === 503 && decision.response.reason === REGISTRAR_ERRORS.serviceUnavailable.text;
}

/**
 * Builds the Lambda handler.
 *
 * @example
 * ```ts
 * export const handler = createRegisterHandler({ config, store, ids, logger, metrics });
 * ```
 */
export function createRegisterHandler(
  deps: RegisterHandlerDeps,
): (event: unknown) => Promise<DecisionBatchResult<'register'> | DecisionBatchResult<'register-reply'>> {
  const nowMs = deps.nowMs ?? Date.now;
  const storeBudgetMs = deps.storeBudgetMs ?? DECISION_STORE_BUDGET_MS;
  const storeCallBoundMs = deps.storeCallBoundMs ?? DYNAMODB_CALL_BOUND_MS;

  function unexpected(counters: InvocationCounters, operation: string, err: unknown): void {
    counters.increment(HANDLER_METRIC.decisionErrors);
    deps.logger.error(`${operation}: decision failed`, { error: err as Error });
  }

  return async (event) => {
    const batch = readBatchEvent(event, ['register', 'register-reply'] as const);
    const counters = new InvocationCounters();
    // The core's reply events are logged and counted with the invocation's other metrics (RPL-5).
    const service: RegisterServiceDeps = {
      config: deps.config,
      store: deps.store,
      ids: deps.ids,
      // All decisions of the batch run at once and share the invocation's store time (under the gateway's deadline).
      storeBudget: { deadlineMs: nowMs() + storeBudgetMs, callBoundMs: storeCallBoundMs, nowMs },
      reportReplyEvent: (replyEvent) => {
        counters.increment(replyEvent.kind);
        deps.logger.warn(REPLY_EVENT_MESSAGES[replyEvent.kind], { ...replyEvent });
      },
    };
    deps.store.resetStats();
    try {
      if (batch.operation === 'register') {
        return await decideEach<'register'>(
          { ...batch, operation: 'register', requests: batch.requests as RegisterRequest[] },
          async (request) => {
            const decision = await decideRegisterWithStore(service, request);
            counters.increment(DECISION_METRIC[decision.kind]);
            if (isStoreFailureAnswer(decision)) {
              counters.increment(HANDLER_METRIC.storeErrors);
              deps.logger.error('register: store failure, answered 503', { callId: request.callId, to: request.to });
            }
            return decision;
          },
          (err) => {
            unexpected(counters, 'register', err);
            counters.increment(HANDLER_METRIC.registerRejected);
            return { kind: 'reject', response: failureResponse(err, deps.config.retryAfterMs) };
          },
        );
      }
      return await decideEach<'register-reply'>(
        { ...batch, operation: 'register-reply', requests: batch.requests as RegisterReplyRequest[] },
        (request) => decideRegisterReplyWithStore(service, request),
        (err) => {
          unexpected(counters, 'register-reply', err);
          return { kind: 'respond', response: failureResponse(err, deps.config.retryAfterMs) };
        },
      );
    } finally {
      counters.addStoreStats(deps.store.stats());
      counters.publish(deps.metrics);
    }
  };
}
