/**
 * The decision services of the local mode: the same service functions the Lambda handlers run, over
 * the embedded store (GEN-1).
 */
import type { MidRegistrarConfig } from '../../../functions/core/config';
import type { AorRecord } from '../../../functions/core/model';
import { createIdGenerator } from '../../../functions/core/random';
import type { BindingStore } from '../../../functions/store/binding-store';
import type { Logger } from '../observability/logger';
import type { MetricsRegistry } from '../observability/metrics-registry';
import type { DecisionServices } from './in-process-decision-invoker';
import { decideLookup } from './lookup-service';
import { createPooledRandomBytes } from './pooled-random-bytes';
import { decideRegisterReplyWithStore, decideRegisterWithStore, REPLY_EVENT_MESSAGES, type RegisterServiceDeps } from './register-service';

/**
 * Builds the services for {@link InProcessDecisionInvoker}; with `observability`, reply events are
 * logged and counted.
 *
 * @example
 * const invoker = new InProcessDecisionInvoker({ services: createLocalDecisionServices(config, store), retryAfterMs });
 */
export function createLocalDecisionServices(
  config: MidRegistrarConfig,
  store: BindingStore<AorRecord>,
  observability?: { logger: Logger; metrics: MetricsRegistry },
): DecisionServices {
  const ids = createIdGenerator(createPooledRandomBytes());
  const deps: RegisterServiceDeps = { config, store, ids };
  if (observability !== undefined) {
    // The core's reply events are logged and counted under their CORE_METRICS names (RPL-5).
    deps.reportReplyEvent = (event) => {
      observability.metrics.increment(event.kind);
      observability.logger.warn({ event }, REPLY_EVENT_MESSAGES[event.kind]);
    };
  }
  return {
    register: (request) => decideRegisterWithStore(deps, request),
    registerReply: (request) => decideRegisterReplyWithStore(deps, request),
    lookup: (request) => decideLookup(config, store, request, ids.randomTag()),
  };
}
