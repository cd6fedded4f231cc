/**
 * What the end of one timed-work transmission does to the record (SPEC DRG-6, DRG-9, DRG-10, DRG-11).
 */
import type { MidRegistrarConfig } from '../config';
import { CORE_METRICS } from '../core-metrics';
import { bindingLapsesAtMs, isBindingValid, isRelayLive } from '../model';
import { parseDigestChallenge } from './digest';
import { classifyFailure, retryDelayMs } from './retry-delay';
import type {
  DeregisterWorkState,
  RefreshWork,
  TimedWorkFailure,
  TimedWorkOutcome,
  TimedWorkRecord,
  TimedWorkResult,
} from './timed-work-types';
import { refreshTargetRegistration, relayedUpstreamContacts, sameUri } from './work-queries';

/** The configuration keys outcomes read. */
export type OutcomeConfig = Pick<
  MidRegistrarConfig,
  | 'insertion'
  | 'outgoingExpiresSec'
  | 'retryBackoffBaseMs'
  | 'retryBackoffMaxMs'
  | 'retryMaxAttempts'
  | 'upstreamAuth'
>;

function describeOutcome(outcome: TimedWorkOutcome): string {
  switch (outcome.kind) {
    case '2xx':
      return '2xx';
    case 'failure':
      return String(outcome.status);
    case 'timeout':
      return 'timeout';
    case 'transport-error':
      return 'transport error';
  }
}

/** DRG-11: a 401/407 is answered once per attempt when `upstreamAuth` can answer it. */
function answerableChallenge(
  config: OutcomeConfig,
  outcome: Extract<TimedWorkOutcome, { kind: 'failure' }>,
  alreadyAnswered: boolean,
): { status: 401 | 407; challenge: string } | undefined {
  const auth = config.upstreamAuth;
  if ((outcome.status !== 401 && outcome.status !== 407) || auth === undefined || alreadyAnswered) return undefined;
  if (outcome.challenge === undefined) return undefined;
  const challenge = parseDigestChallenge(outcome.challenge);
  if (challenge === undefined || (auth.realm !== undefined && auth.realm !== challenge.realm)) return undefined;
  return { status: outcome.status, challenge: outcome.challenge };
}

type WorkItem = { kind: 'deregister'; work: DeregisterWorkState } | { kind: 'refresh'; work: RefreshWork };

function contactOf(item: WorkItem, record: TimedWorkRecord): string {
  if (item.kind === 'deregister') return item.work.upstream.contactUri;
  return refreshTargetRegistration(record, item.work.target)?.contactUri ?? '';
}

function finalFailure(item: WorkItem, record: TimedWorkRecord, lastFailure: string, nowMs: number): TimedWorkFailure {
  const work = item.work;
  const target = item.kind === 'refresh' ? item.work.target : undefined;
  const contactId = item.kind === 'deregister' ? item.work.contactId : target !== undefined && 'contactId' in target ? target.contactId : undefined;
  const incarnationId =
    item.kind === 'deregister' ? item.work.incarnationId : target !== undefined && 'incarnationId' in target ? target.incarnationId : undefined;
  return {
    metric: item.kind === 'deregister' ? CORE_METRICS.deregisterFailed : CORE_METRICS.upstreamRefreshFailed,
    aor: record.aor,
    kind: item.kind === 'deregister' ? 'deregister' : 'upstream-refresh',
    atMs: nowMs,
    detail: {
      workId: work.workId,
      contactUri: contactOf(item, record),
      attempts: work.attempts ?? 0,
      lastFailure,
      ...(contactId === undefined ? {} : { contactId }),
      ...(incarnationId === undefined ? {} : { incarnationId }),
    },
  };
}

/**
 * DRG-10: with path insertion, a relay for the De-REGISTERed URI that went out while the De-REGISTER
 * was in flight may have been processed upstream before it; its binding gets a proactive refresh.
 */
function noteOverlaps(config: OutcomeConfig, record: TimedWorkRecord, work: DeregisterWorkState, nowMs: number): void {
  if (config.insertion !== 'path' || work.inFlight === undefined) return;
  const fromMs = work.inFlight.sentAtMs;
  const contactUri = work.upstream.relayedContactUri;
  for (const binding of record.bindings) {
    const upstream = binding.upstream;
    if (
      upstream !== undefined &&
      upstream.sentAtMs >= fromMs &&
      sameUri(upstream.relayedContactUri, contactUri) &&
      isBindingValid(binding, bindingLapsesAtMs(binding, record), nowMs)
    ) {
      forceRefresh(record, binding.contactId, upstream.lapsesAtMs, upstream.refreshCseq ?? 0, nowMs);
    }
  }
  const overlapping = record.pendingRelays.some(
    (relay) =>
      isRelayLive(relay, nowMs) &&
      relay.createdAtMs >= fromMs &&
      relayedUpstreamContacts(relay).some((contact) => sameUri(contact.contactUri, contactUri)),
  );
  if (overlapping) record.pathOverlaps = [...(record.pathOverlaps ?? []), { contactUri, fromMs, untilMs: nowMs }];
}

/** DRG-10: a refresh of this binding's registration, due now, whatever DRG-8 says. */
export function forceRefresh(record: TimedWorkRecord, contactId: string, lapsesAtMs: number, lastCseq: number, nowMs: number): void {
  const workId = `refresh:${contactId}`;
  const others = (record.refreshWork ?? []).filter((work) => work.workId !== workId || work.inFlight !== undefined);
  if (others.some((work) => work.workId === workId)) {
    record.refreshWork = others;
    return;
  }
  others.push({ workId, target: { contactId }, forLapsesAtMs: lapsesAtMs, forced: true, attempts: 0, nextAttemptAtMs: nowMs, lastCseq });
  record.refreshWork = others;
}

/** DRG-9: a refresh 2xx moves U to sentAt + g; the bindings are unchanged. */
function applyRefreshSuccess(
  config: OutcomeConfig,
  record: TimedWorkRecord,
  work: RefreshWork,
  sentAtMs: number,
  outcome: Extract<TimedWorkOutcome, { kind: '2xx' }>,
): void {
  const upstream = refreshTargetRegistration(record, work.target);
  if (upstream === undefined) return;
  // RPL-4: g from our contact or the Expires header, else the E we sent (O).
  const grantedExpiresSec = outcome.grantedExpiresSec ?? config.outgoingExpiresSec;
  const lapsesAtMs = sentAtMs + grantedExpiresSec * 1000;
  // A relay sent after this refresh and confirmed meanwhile is newer upstream state: keep it.
  if (upstream.sentAtMs > sentAtMs) return;
  upstream.sentAtMs = sentAtMs;
  upstream.grantedExpiresSec = grantedExpiresSec;
  upstream.requestedExpiresSec = config.outgoingExpiresSec;
  // g = 0: upstream removed it; U is now past and the bindings end without De-REGISTER (RPL-5, DRG-3).
  upstream.lapsesAtMs = lapsesAtMs;
  if (outcome.contactAsReturned !== undefined) upstream.contactUri = outcome.contactAsReturned;
}

/**
 * Settles the in-flight transmission of one work item with its outcome. Mutates `record`.
 *
 * @returns a final failure to report, if the work failed finally.
 */
export function settleAttempt(
  config: OutcomeConfig,
  record: TimedWorkRecord,
  item: WorkItem,
  outcome: TimedWorkOutcome,
  nowMs: number,
): TimedWorkFailure | undefined {
  const work = item.work;
  const inFlight = work.inFlight;
  if (inFlight === undefined) return undefined;
  const remove = (): void => {
    if (item.kind === 'deregister') record.deregisterWork = record.deregisterWork.filter((w) => w.workId !== work.workId);
    else record.refreshWork = (record.refreshWork ?? []).filter((w) => w.workId !== work.workId);
  };
  if (item.kind === 'deregister') noteOverlaps(config, record, item.work, nowMs);
  delete work.inFlight;
  delete work.pendingChallenge;

  if (outcome.kind === '2xx') {
    // DRG-6: 2xx ends the work.
    if (item.kind === 'refresh') applyRefreshSuccess(config, record, item.work, inFlight.sentAtMs, outcome);
    remove();
    return undefined;
  }
  const failure = describeOutcome(outcome);
  work.lastFailure = failure;
  if (outcome.kind === 'failure') {
    const challenge = answerableChallenge(config, outcome, inFlight.answeredChallenge);
    if (challenge !== undefined) {
      // DRG-11: answered at once within the same attempt.
      work.pendingChallenge = challenge;
      work.nextAttemptAtMs = nowMs;
      return undefined;
    }
  }
  const status = outcome.kind === 'failure' ? outcome.status : undefined;
  const attempts = work.attempts ?? 0;
  const retryAfterSec = outcome.kind === 'failure' ? outcome.retryAfterSec : undefined;
  const nextAttemptAtMs = nowMs + retryDelayMs(config, attempts, retryAfterSec);
  const retryable = classifyFailure(status) === 'retry' && attempts < config.retryMaxAttempts;
  // DRG-9: a refresh is retried only while now < U; past U it would register anew, not refresh.
  const lapsesAtMs = item.kind === 'refresh' ? refreshTargetRegistration(record, item.work.target)?.lapsesAtMs : undefined;
  const beforeLapse = item.kind === 'deregister' || (lapsesAtMs !== undefined && nextAttemptAtMs < lapsesAtMs);
  if (retryable && beforeLapse) {
    work.nextAttemptAtMs = nextAttemptAtMs;
    return undefined;
  }
  if (item.kind === 'refresh') {
    // Kept, abandoned, until U so DRG-8 does not plan it again; the bindings lapse at U (DRG-9).
    item.work.abandoned = true;
  } else {
    remove();
  }
  return finalFailure(item, record, failure, nowMs);
}

/** Finds a work item by id. */
export function findWork(record: TimedWorkRecord, workId: string): WorkItem | undefined {
  const deregister = record.deregisterWork.find((work) => work.workId === workId);
  if (deregister !== undefined) return { kind: 'deregister', work: deregister };
  const refresh = record.refreshWork?.find((work) => work.workId === workId);
  return refresh === undefined ? undefined : { kind: 'refresh', work: refresh };
}

/**
 * Applies the outcome of one transmission planned by `planTimedWork` (SPEC DRG-6, DRG-9, DRG-10, DRG-11).
 *
 * @param attemptId the {@link OutgoingRegister.attemptId} it answers; an outcome for an attempt that is
 *   no longer in flight (its claim expired and it was retried) is ignored.
 * @returns the record to commit (on a version conflict: re-read and apply again) and any final failure
 *   to log, count and dead-letter.
 * @example
 * ```ts
 * const result = applyTimedWorkOutcome(config, stored.record, send.workId, send.attemptId, { kind: 'failure', status: 503 }, nowMs);
 * if (result.changed) await store.put(result.nextRecord, stored.version, index);
 * ```
 */
export function applyTimedWorkOutcome(
  config: OutcomeConfig,
  record: TimedWorkRecord,
  workId: string,
  attemptId: string,
  outcome: TimedWorkOutcome,
  nowMs: number,
): TimedWorkResult {
  const current = findWork(record, workId);
  if (current === undefined || current.work.inFlight?.attemptId !== attemptId) {
    return { nextRecord: record, changed: false, sends: [], failures: [] };
  }
  const next = structuredClone(record);
  const item = findWork(next, workId)!;
  const failure = settleAttempt(config, next, item, outcome, nowMs);
  if (next.refreshWork?.length === 0) delete next.refreshWork;
  return { nextRecord: next, changed: true, sends: [], failures: failure === undefined ? [] : [failure] };
}
