/**
 * The `register` decision function (DESIGN §3): answers batches of `register` and `register-reply`
 * requests (the gateway invokes one function for both). Each message is decided and committed
 * independently by {@link serveRegister} / {@link serveRegisterReply}.
 *
 * Metrics per invocation (EMF): `register_absorbed`, `register_forwarded`, `register_rejected`,
 * `version_conflicts`, `store_errors`, `decision_errors`, and one counter per upstream-reply event
 * (`upstream_contact_missing`, `upstream_interval_too_brief`, `stale_relay`).
 */
import type { MidRegistrarConfig } from '../core/config';
import type { RegisterDecision, RegisterReplyRequest, RegisterRequest } from '../core/contract';
import type { AorRecord } from '../core/model';
import type { IdGenerator } from '../core/random';
import type { BindingStore } from '../store/binding-store';
import type { DecisionBatchResult } from '../../sip-gateway/src/decision/decision-batch';
import {
  HANDLER_METRIC,
  InvocationCounters,
  decideEach,
  failureResponse,
  readBatchEvent,
  type HandlerLogger,
  type HandlerMetrics,
} from './decision-batch-handler';
import { serveRegister, serveRegisterReply, type ServiceReport } from './register-service';

/** What the register handler runs on. */
export interface RegisterHandlerDeps {
  config: MidRegistrarConfig;
  store: BindingStore<AorRecord>;
  ids: IdGenerator;
  logger: HandlerLogger;
  metrics: HandlerMetrics;
}

const DECISION_METRIC: Record<RegisterDecision['kind'], string> = {
  absorb: HANDLER_METRIC.registerAbsorbed,
  forward: HANDLER_METRIC.registerForwarded,
  reject: HANDLER_METRIC.registerRejected,
};

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
  const service = { config: deps.config, store: deps.store, ids: deps.ids };

  function report(counters: InvocationCounters, result: ServiceReport, what: string, aor: string | undefined): void {
    if (result.conflicts > 0) counters.increment(HANDLER_METRIC.versionConflicts, result.conflicts);
    if (result.storeError !== undefined) {
      counters.increment(HANDLER_METRIC.storeErrors);
      deps.logger.error(`${what}: store failure, answered 503`, { error: result.storeError, aor });
    }
  }

  function unexpected(counters: InvocationCounters, what: string, err: unknown): void {
    counters.increment(HANDLER_METRIC.decisionErrors);
    deps.logger.error(`${what}: decision failed`, { error: err as Error });
  }

  return async (event) => {
    const batch = readBatchEvent(event, ['register', 'register-reply'] as const);
    const counters = new InvocationCounters();
    try {
      if (batch.operation === 'register') {
        return await decideEach<'register'>(
          { ...batch, operation: 'register', requests: batch.requests as RegisterRequest[] },
          async (request) => {
            const result = await serveRegister(service, request);
            counters.increment(DECISION_METRIC[result.decision.kind]);
            report(counters, result, 'register', undefined);
            return result.decision;
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
        async (request) => {
          const result = await serveRegisterReply(service, request);
          report(counters, result, 'register-reply', request.context.aor);
          for (const e of result.events) {
            counters.increment(e.kind);
            deps.logger.warn(`register-reply: ${e.kind}`, { ...e });
          }
          return result.decision;
        },
        (err) => {
          unexpected(counters, 'register-reply', err);
          return { kind: 'respond', response: failureResponse(err, deps.config.retryAfterMs) };
        },
      );
    } finally {
      counters.publish(deps.metrics);
    }
  };
}
