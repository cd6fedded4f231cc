/**
 * The store time of one decision invocation (Lambda handlers): store calls start only while their worst
 * case still ends within it, so the function answers its own 503 (ERR-5, RPL-10) before the gateway's
 * decision deadline would turn the request into a 500 (DESIGN §3).
 */
import { StoreUnavailableError } from '../../../functions/store/errors';

/**
 * The time a decision may spend on store calls. A call starts only if its worst case still ends by
 * `deadlineMs`; otherwise the decision answers 503 (ERR-5) instead of outliving the caller's deadline.
 */
export interface StoreTimeBudget {
  /** When the last store call must have ended (epoch ms). */
  readonly deadlineMs: number;
  /** The worst case of one store call (every attempt timing out). */
  readonly callBoundMs: number;
  nowMs(): number;
}

/** A store call was not started: its worst case would end after the decision's {@link StoreTimeBudget}. */
export class StoreBudgetExhaustedError extends StoreUnavailableError {
  constructor(message: string) {
    super(message);
    this.name = 'StoreBudgetExhaustedError';
  }
}

/** @throws StoreBudgetExhaustedError when a store call could outlast the budget */
export function ensureStoreTime(budget: StoreTimeBudget | undefined): void {
  if (budget === undefined) return;
  const nowMs = budget.nowMs();
  if (nowMs + budget.callBoundMs > budget.deadlineMs) {
    throw new StoreBudgetExhaustedError(`store budget: ${budget.deadlineMs - nowMs} ms left, a call may take ${budget.callBoundMs} ms`);
  }
}
