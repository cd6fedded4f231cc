/**
 * The payload of one batched decision invocation (DESIGN §3 "Batching").
 *
 * @remarks
 * One invocation carries up to N requests of ONE operation; the function answers with one decision per
 * request, in the same order. The Lambda handlers read {@link DecisionBatchEvent} and return
 * {@link DecisionBatchResult}.
 */
import { CONTRACT_VERSION } from '../../../functions/core/contract';
import type { DecisionOperation, DecisionRequests, DecisionResults } from './decision-invoker';

/** Event of one batched invocation. */
export interface DecisionBatchEvent<O extends DecisionOperation = DecisionOperation> {
  version: typeof CONTRACT_VERSION;
  operation: O;
  requests: DecisionRequests[O][];
}

/** Result of one batched invocation: `decisions[i]` answers `requests[i]`. */
export interface DecisionBatchResult<O extends DecisionOperation = DecisionOperation> {
  version: typeof CONTRACT_VERSION;
  decisions: DecisionResults[O][];
}

/** Builds the event for `requests`. */
export function buildDecisionBatchEvent<O extends DecisionOperation>(operation: O, requests: DecisionRequests[O][]): DecisionBatchEvent<O> {
  return { version: CONTRACT_VERSION, operation, requests };
}

/**
 * Reads a batch result, checking version and count; returns undefined when it does not answer
 * exactly `expectedCount` requests, so the caller treats the whole batch as failed.
 */
export function readDecisionBatchResult<O extends DecisionOperation>(value: unknown, expectedCount: number): DecisionResults[O][] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const result = value as Partial<DecisionBatchResult<O>>;
  if (result.version !== CONTRACT_VERSION || !Array.isArray(result.decisions)) return undefined;
  if (result.decisions.length !== expectedCount) return undefined;
  const wellFormed = result.decisions.every((d) => typeof d === 'object' && d !== null && typeof (d as { kind?: unknown }).kind === 'string');
  return wellFormed ? result.decisions : undefined;
}
