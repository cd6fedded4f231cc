/**
 * The decision used when none could be obtained: 500 with Retry-After (SPEC ERR-1, ERR-2, ERR-6).
 */
import { REGISTRAR_ERRORS, registrarErrorResponse } from '../../../functions/core/errors';
import type { DecisionOperation, DecisionResults } from './decision-invoker';

/**
 * Builds the failure decision of `operation`: the ERR-6 "internal failure" response, 500 with
 * `P-Registrar-Error: Internal error` and `Retry-After` (`retryAfter`, whole seconds).
 *
 * @example
 * buildFailureDecision('register', 30_000, 'a1b2c3'); // { kind: 'reject', response: { status: 500, … } }
 */
export function buildFailureDecision<O extends DecisionOperation>(
  operation: O,
  retryAfterMs: number,
  toTag: string,
): DecisionResults[O] {
  const response = registrarErrorResponse(REGISTRAR_ERRORS.internalError, retryAfterMs, toTag);
  const byOperation: DecisionResults = {
    register: { kind: 'reject', response },
    'register-reply': { kind: 'respond', response },
    lookup: { kind: 'respond', response },
  };
  return byOperation[operation];
}
