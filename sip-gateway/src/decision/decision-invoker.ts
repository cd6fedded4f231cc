/**
 * The port through which the gateway asks for decisions (DESIGN §3): it never decides registration
 * policy itself.
 *
 * @remarks
 * Two implementations: {@link InProcessDecisionInvoker} (local mode, calls the core and the embedded
 * store directly) and {@link LambdaDecisionInvoker} (AWS, batched Lambda Invoke). Both resolve every
 * call exactly once and never reject: an unavailable decision service yields a local 500 with
 * Retry-After (ERR-2), so the gateway always has something to answer (never silence, never a second
 * decision for one transaction, GEN-6).
 */
import type {
  LookupDecision,
  LookupRequest,
  RegisterDecision,
  RegisterReplyDecision,
  RegisterReplyRequest,
  RegisterRequest,
} from '../../../functions/core/contract';

/** Asks the decision functions; every promise resolves, none rejects. */
export interface DecisionInvoker {
  /** `register`: absorb, forward or reject one REGISTER (SPEC §4–6). */
  decideRegister(request: RegisterRequest): Promise<RegisterDecision>;
  /** `register-reply`: the UA's response for a relay's outcome; commits only on 2xx (SPEC §7). */
  decideRegisterReply(request: RegisterReplyRequest): Promise<RegisterReplyDecision>;
  /** `lookup`: targets, relay upstream, or a local answer for an initial request (SPEC §9). */
  lookup(request: LookupRequest): Promise<LookupDecision>;
  /** Resolves once every call already made has resolved; later calls are still served. */
  drain(): Promise<void>;
}

/** The operations of the contract, as named on the wire (DESIGN §3). */
export type DecisionOperation = 'register' | 'register-reply' | 'lookup';

/** Request type of each operation. */
export interface DecisionRequests {
  register: RegisterRequest;
  'register-reply': RegisterReplyRequest;
  lookup: LookupRequest;
}

/** Decision type of each operation. */
export interface DecisionResults {
  register: RegisterDecision;
  'register-reply': RegisterReplyDecision;
  lookup: LookupDecision;
}
