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
  /** Each operation's service call and failure handler, built once so a call allocates no closure. */
  private readonly register: Operation<'register'>;
  private readonly registerReply: Operation<'register-reply'>;
  private readonly lookupOperation: Operation<'lookup'>;

  constructor(private readonly options: InProcessDecisionInvokerOptions) {
    const randomBytes = createPooledRandomBytes();
    this.newToTag = options.newToTag ?? (() => randomBytes(6).toString('hex'));
    const { services } = options;
    this.register = this.operation('register', (request) => services.register(request));
    this.registerReply = this.operation('register-reply', (request) => services.registerReply(request));
    this.lookupOperation = this.operation('lookup', (request) => services.lookup(request));
  }

  decideRegister(request: RegisterRequest): Promise<RegisterDecision> {
    return this.call(this.register, request);
  }

  decideRegisterReply(request: RegisterReplyRequest): Promise<RegisterReplyDecision> {
    return this.call(this.registerReply, request);
  }

  lookup(request: LookupRequest): Promise<LookupDecision> {
    return this.call(this.lookupOperation, request);
  }

  async drain(): Promise<void> {
    while (this.outstanding > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private operation<O extends DecisionOperation>(name: O, run: Operation<O>['run']): Operation<O> {
    return {
      run,
      failed: (error: unknown) => {
        this.release();
        this.options.logger?.error({ err: error, operation: name }, 'decision failed');
        this.options.metrics?.increment('decision_failed_error');
        return buildFailureDecision(name, this.options.retryAfterMs, this.newToTag());
      },
    };
  }

  private call<O extends DecisionOperation>(operation: Operation<O>, request: DecisionRequests[O]): Promise<DecisionResults[O]> {
    this.outstanding += 1;
    let decided: Promise<DecisionResults[O]>;
    try {
      decided = operation.run(request);
    } catch (error) {
      decided = Promise.reject(error);
    }
    return decided.then(this.settled, operation.failed);
  }

  private release(): void {
    this.outstanding -= 1;
    if (this.outstanding > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** One operation of the invoker: how to ask the service, and the failure decision when it throws or rejects. */
interface Operation<O extends DecisionOperation> {
  run(request: DecisionRequests[O]): Promise<DecisionResults[O]>;
  failed(error: unknown): DecisionResults[O];
}
