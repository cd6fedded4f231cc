/**
 * Timed work of the mid-registrar (SPEC §8): De-REGISTERs, proactive upstream refreshes, retries.
 *
 * The sweep handler calls {@link planTimedWork} for each due AoR, commits the plan (the claim), sends
 * the planned REGISTERs, and reports each outcome with {@link applyTimedWorkOutcome}. The store indexes
 * records by {@link nextDueAtMs} and deletes those for which {@link isRecordDeletable} holds.
 */
export { planTimedWork, type TimedWorkDeps } from './plan-timed-work';
export { applyTimedWorkOutcome } from './apply-timed-work-outcome';
export { timedWorkOutcomeFromResponse, type TimedWorkResponse } from './outcome-from-response';
export { collectEndedWork } from './collect-ended-work';
export { nextDueAtMs, isRecordDeletable } from './next-due';
export { digestAuthorization, parseDigestChallenge, type DigestChallenge } from './digest';
export { retryDelayMs, classifyFailure } from './retry-delay';
export type {
  OutgoingRegister,
  TimedWorkOutcome,
  TimedWorkResult,
  TimedWorkFailure,
  TimedWorkRecord,
  RefreshWork,
  DeregisterWorkState,
} from './timed-work-types';
