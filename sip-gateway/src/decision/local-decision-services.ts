/**
 * The decision services of the local mode: the same service functions the Lambda handlers run, over
 * the embedded store (GEN-1).
 */
import type { MidRegistrarConfig } from '../../../functions/core/config';
import type { AorRecord } from '../../../functions/core/model';
import { createIdGenerator } from '../../../functions/core/random';
import type { BindingStore } from '../../../functions/store/binding-store';
import type { DecisionServices } from './in-process-decision-invoker';
import { decideLookup } from './lookup-service';
import { createPooledRandomBytes } from './pooled-random-bytes';
import { decideRegisterReplyWithStore, decideRegisterWithStore } from './register-service';

/**
 * Builds the services for {@link InProcessDecisionInvoker}.
 *
 * @example
 * const invoker = new InProcessDecisionInvoker({ services: createLocalDecisionServices(config, store), retryAfterMs });
 */
export function createLocalDecisionServices(config: MidRegistrarConfig, store: BindingStore<AorRecord>): DecisionServices {
  const ids = createIdGenerator(createPooledRandomBytes());
  const deps = { config, store, ids };
  return {
    register: (request) => decideRegisterWithStore(deps, request),
    registerReply: (request) => decideRegisterReplyWithStore(deps, request),
    lookup: (request) => decideLookup(config, store, request, ids.randomTag()),
  };
}
