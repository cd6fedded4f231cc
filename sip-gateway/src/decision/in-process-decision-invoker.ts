/**
 * Decisions in the gateway's own process (local mode, `npm start`): the twin of the Lambda handlers,
 * calling the same decision services directly (GEN-1).
 */
import type {
  LookupDecision,
  LookupRequest,
  RegisterDecision,
  RegisterReplyDecision,
  RegisterReplyRequest,
  RegisterRequest,
} from '../../../functions/core/contract';
import type { Logger } from '../observability/logger';
import type { MetricsRegistry } from '../observability/metrics-registry';
import type { DecisionInvoker, DecisionOperation, DecisionRequests, DecisionResults } from './decision-invoker';
import { buildFailureDecision } from './failure-decision';
import { createPooledRandomBytes } from './pooled-random-bytes';

/** The decision functions as services: load state, decide, commit (they may reject on failure). */
export interface DecisionServices {
  register(request: RegisterRequest): Promise<RegisterDecision>;
  registerReply(request: RegisterReplyRequest): Promise<RegisterReplyDecision>;
  lookup(request: LookupRequest): Promise<LookupDecision>;
}

/** Options of {@link InProcessDecisionInvoker}. */
export interface InProcessDecisionInvokerOptions {
  services: DecisionServices;
  /** ERR-2 `retryAfter` for the failure decision. */
  retryAfterMs: number;
  newToTag?: () => string;
  logger?: Logger;
  metrics?: MetricsRegistry;
}

/**
 * {@link DecisionInvoker} over in-process services. A service that throws yields the failure decision
 * (500 + Retry-After), as a failed Lambda invocation does.
 *
 * @example
 * const invoker = new InProcessDecisionInvoker({ services, retryAfterMs: config.retryAfterMs });
 */
export class InProcessDecisionInvoker implements DecisionInvoker {
  private readonly outstanding = new Set<Promise<unknown>>();
  private readonly newToTag: () => string;

  constructor(private readonly options: InProcessDecisionInvokerOptions) {
    const randomBytes = createPooledRandomBytes();
    this.newToTag = options.newToTag ?? (() => randomBytes(6).toString('hex'));
  }

  decideRegister(request: RegisterRequest): Promise<RegisterDecision> {
    return this.call('register', request, (r) => this.options.services.register(r));
  }

  decideRegisterReply(request: RegisterReplyRequest): Promise<RegisterReplyDecision> {
    return this.call('register-reply', request, (r) => this.options.services.registerReply(r));
  }

  lookup(request: LookupRequest): Promise<LookupDecision> {
    return this.call('lookup', request, (r) => this.options.services.lookup(r));
  }

  async drain(): Promise<void> {
    while (this.outstanding.size > 0) await Promise.all([...this.outstanding]);
  }

  private call<O extends DecisionOperation>(
    operation: O,
    request: DecisionRequests[O],
    run: (request: DecisionRequests[O]) => Promise<DecisionResults[O]>,
  ): Promise<DecisionResults[O]> {
    const promise = (async (): Promise<DecisionResults[O]> => {
      try {
        return await run(request);
      } catch (error) {
        this.options.logger?.error({ err: error, operation }, 'decision failed');
        this.options.metrics?.increment('decision_failed_error');
        return buildFailureDecision(operation, this.options.retryAfterMs, this.newToTag());
      }
    })();
    this.outstanding.add(promise);
    void promise.then(() => this.outstanding.delete(promise));
    return promise;
  }
}
