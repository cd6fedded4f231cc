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
  /** Calls not yet resolved, and the {@link drain} calls waiting for none to be left. */
  private outstanding = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly newToTag: () => string;
  /** Shared by every call: the decision passes through as is (no copy: the services build fresh objects). */
  private readonly settled = <R>(decision: R): R => {
    this.release();
    return decision;
  };

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
    while (this.outstanding > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private call<O extends DecisionOperation>(
    operation: O,
    request: DecisionRequests[O],
    run: (request: DecisionRequests[O]) => Promise<DecisionResults[O]>,
  ): Promise<DecisionResults[O]> {
    this.outstanding += 1;
    let decided: Promise<DecisionResults[O]>;
    try {
      decided = run(request);
    } catch (error) {
      decided = Promise.reject(error);
    }
    return decided.then(this.settled, (error: unknown) => {
      this.release();
      this.options.logger?.error({ err: error, operation }, 'decision failed');
      this.options.metrics?.increment('decision_failed_error');
      return buildFailureDecision(operation, this.options.retryAfterMs, this.newToTag());
    });
  }

  private release(): void {
    this.outstanding -= 1;
    if (this.outstanding > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
