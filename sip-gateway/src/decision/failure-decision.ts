/**
 * The decision used when none could be obtained: 500 with Retry-After (SPEC ERR-1, ERR-2, ERR-6).
 */
import type { LocalResponse } from '../../../functions/core/contract';
import type { DecisionOperation, DecisionResults } from './decision-invoker';

/**
 * Builds the failure decision of `operation`: a local `500 Internal Server Error` carrying
 * `P-Registrar-Error: Internal error` and `Retry-After: <retryAfterSec>`.
 *
 * @example
 * buildFailureDecision('register', 30, 'a1b2c3'); // { kind: 'reject', response: { status: 500, … } }
 */
export function buildFailureDecision<O extends DecisionOperation>(
  operation: O,
  retryAfterSec: number,
  toTag: string,
): DecisionResults[O] {
  const response: LocalResponse = {
    status: 500,
    reason: 'Internal Server Error',
    headers: [
      ['P-Registrar-Error', 'Internal error'],
      ['Retry-After', String(retryAfterSec)],
    ],
    toTag,
  };
  const byOperation: DecisionResults = {
    register: { kind: 'reject', response },
    'register-reply': { kind: 'respond', response },
    lookup: { kind: 'respond', response },
  };
  return byOperation[operation];
}
