/**
 * Planning the mid-registrar's own REGISTERs for one AoR: De-REGISTERs (SPEC DRG-1..7) and proactive
 * upstream refreshes (DRG-8..10), claimed in the record before they are sent.
 */
import type { MidRegistrarConfig } from '../config';
import type { HeaderField } from '../contract';
import { isBindingValid, bindingLapsesAtMs, type UpstreamRegistration, isRelayLive } from '../model';
import type { IdGenerator } from '../random';
import { ourPathValue } from '../register/upstream-contact';
import { parseUri } from '../../../sip-gateway/src/sip/uri';
import { findWork, forceRefresh, settleAttempt } from './apply-timed-work-outcome';
import { collectEndedWork } from './collect-ended-work';
import { digestAuthorization, parseDigestChallenge } from './digest';
import type {
  AttemptState,
  DeregisterWorkState,
  OutgoingRegister,
  RefreshWork,
  TimedWorkFailure,
  TimedWorkRecord,
  TimedWorkResult,
} from './timed-work-types';
import {
  bindingsCoveredBy,
  liveRelayForTarget,
  liveRelayNamesUpstreamContact,
  refreshPointMs,
  refreshTargetRegistration,
  refreshTargets,
  relayedUpstreamContacts,
  sameUri,
} from './work-queries';

/** Max-Forwards of the requests we originate (RFC 3261 §8.1.1.6, DRG-5). */
const MAX_FORWARDS = '70';

/**
 * A claim lasts the transaction timeout plus as much again for the sender to report; after that the
 * sender is presumed dead and the attempt counts as a timeout (DRG-6), so the work survives a crash (GEN-1).
 */
function claimUntilMs(config: MidRegistrarConfig, nowMs: number): number {
  return nowMs + 2 * config.upstreamTimeoutMs;
}

/** The Authorization header answering a pending challenge (DRG-11), if it can be computed. */
function authorizationHeader(
  config: MidRegistrarConfig,
  state: AttemptState,
  requestUri: string,
  ids: IdGenerator,
): HeaderField | undefined {
  const pending = state.pendingChallenge;
  const auth = config.upstreamAuth;
  if (pending === undefined || auth === undefined) return undefined;
  const challenge = parseDigestChallenge(pending.challenge);
  if (challenge === undefined) return undefined;
  const value = digestAuthorization(challenge, auth, { method: 'REGISTER', uri: requestUri, cnonce: ids.randomId(), nonceCount: 1 });
  if (value === undefined) return undefined;
  return [pending.status === 407 ? 'Proxy-Authorization' : 'Authorization', value];
}

/** Claims the next transmission of a work item: a new attempt, or the challenge answer within one (DRG-11). */
function claim(config: MidRegistrarConfig, state: AttemptState, nowMs: number, ids: IdGenerator): { attemptId: string; cseq: number } {
  const answering = state.pendingChallenge !== undefined;
  const cseq = state.lastCseq + 1;
  const attemptId = ids.randomId();
  state.lastCseq = cseq;
  if (!answering) state.attempts += 1;
  state.inFlight = { attemptId, sentAtMs: nowMs, claimUntilMs: claimUntilMs(config, nowMs), cseq, answeredChallenge: answering };
  return { attemptId, cseq };
}

function advertisedHost(config: MidRegistrarConfig): string {
  return parseUri(config.advertisedUri).host;
}

/** DRG-5 / DRG-9 shape. */
function shape(
  config: MidRegistrarConfig,
  upstream: UpstreamRegistration,
  fields: { workId: string; attemptId: string; purpose: OutgoingRegister['purpose']; callId: string; cseq: number; expiresSec: number },
  extra: HeaderField[],
  ids: IdGenerator,
): OutgoingRegister {
  const headers: HeaderField[] = [
    ['From', `<${upstream.fromUri}>;tag=${ids.randomTag()}`],
    ['To', `<${upstream.toUri}>`],
    ['Call-ID', fields.callId],
    ['CSeq', `${fields.cseq} REGISTER`],
    ['Contact', `<${upstream.contactUri}>;expires=${fields.expiresSec}`],
    ['Max-Forwards', MAX_FORWARDS],
    ...extra,
  ];
  return {
    workId: fields.workId,
    attemptId: fields.attemptId,
    purpose: fields.purpose,
    requestUri: upstream.requestUri,
    ...(upstream.outboundProxy === undefined ? {} : { outboundProxy: upstream.outboundProxy }),
    sourceUri: config.advertisedUri,
    timeoutMs: config.upstreamTimeoutMs,
    headers,
    contactUri: upstream.contactUri,
    expiresSec: fields.expiresSec,
  };
}

/** DRG-5: the next De-REGISTER transmission, claimed. No credentials unless answering a challenge (DRG-11). */
function sendDeregister(config: MidRegistrarConfig, work: DeregisterWorkState, nowMs: number, ids: IdGenerator): OutgoingRegister {
  const state = work as DeregisterWorkState & AttemptState;
  state.attempts ??= 0;
  state.lastCseq ??= work.upstream.highestCseq;
  const authorization = authorizationHeader(config, state, work.upstream.requestUri, ids);
  const { attemptId, cseq } = claim(config, state, nowMs, ids);
  delete state.pendingChallenge;
  return shape(
    config,
    work.upstream,
    { workId: work.workId, attemptId, purpose: 'deregister', callId: work.upstream.callId, cseq, expiresSec: 0 },
    authorization === undefined ? [] : [authorization],
    ids,
  );
}

/** DRG-9: the next refresh transmission, claimed, with our own Call-ID and CSeq, expires=O and our Path. */
function sendRefresh(
  config: MidRegistrarConfig,
  record: TimedWorkRecord,
  work: RefreshWork,
  upstream: UpstreamRegistration,
  nowMs: number,
  ids: IdGenerator,
): OutgoingRegister {
  const authorization = authorizationHeader(config, work, upstream.requestUri, ids);
  // The Call-ID is generated once per upstream registration and kept across its refreshes (DRG-9).
  upstream.refreshCallId ??= `${ids.randomId()}@${advertisedHost(config)}`;
  work.lastCseq = Math.max(work.lastCseq, upstream.refreshCseq ?? 0);
  const { attemptId, cseq } = claim(config, work, nowMs, ids);
  delete work.pendingChallenge;
  upstream.refreshCseq = cseq;
  const extra: HeaderField[] = [];
  if (config.insertion === 'path' && 'contactId' in work.target) {
    // FWD-5: upstream routes to the UA through our Path, which names the AoR (PTH-7).
    extra.push(['Path', ourPathValue(config, record.aor)], ['Supported', 'path']);
  }
  if (authorization !== undefined) extra.push(authorization);
  return shape(
    config,
    upstream,
    { workId: work.workId, attemptId, purpose: 'refresh', callId: upstream.refreshCallId, cseq, expiresSec: config.outgoingExpiresSec },
    extra,
    ids,
  );
}

/** Attempts whose sender never reported back: counted as timeouts (DRG-6). */
function expireClaims(config: MidRegistrarConfig, record: TimedWorkRecord, nowMs: number): TimedWorkFailure[] {
  const failures: TimedWorkFailure[] = [];
  const expired = [
    ...record.deregisterWork.filter((w) => w.inFlight !== undefined && nowMs >= w.inFlight.claimUntilMs),
    ...(record.refreshWork ?? []).filter((w) => w.inFlight !== undefined && nowMs >= w.inFlight.claimUntilMs),
  ].map((work) => work.workId);
  for (const workId of expired) {
    const item = findWork(record, workId);
    const failure = item === undefined ? undefined : settleAttempt(config, record, item, { kind: 'timeout' }, nowMs);
    if (failure !== undefined) failures.push(failure);
  }
  return failures;
}

/** DRG-10: bindings whose relay overlapped a De-REGISTER of their URI get a forced refresh once committed. */
function resolveOverlaps(record: TimedWorkRecord, nowMs: number): void {
  if (record.pathOverlaps === undefined) return;
  record.pathOverlaps = record.pathOverlaps.filter((overlap) => {
    const bindings = record.bindings.filter((binding) => {
      const upstream = binding.upstream;
      return (
        upstream !== undefined &&
        upstream.sentAtMs >= overlap.fromMs &&
        upstream.sentAtMs <= overlap.untilMs &&
        sameUri(upstream.relayedContactUri, overlap.contactUri) &&
        isBindingValid(binding, bindingLapsesAtMs(binding, record), nowMs)
      );
    });
    for (const binding of bindings) {
      forceRefresh(record, binding.contactId, binding.upstream!.lapsesAtMs, binding.upstream!.refreshCseq ?? 0, nowMs);
    }
    const stillPending = record.pendingRelays.some(
      (relay) =>
        isRelayLive(relay, nowMs) &&
        relay.createdAtMs >= overlap.fromMs &&
        relay.createdAtMs <= overlap.untilMs &&
        relayedUpstreamContacts(relay).some((contact) => sameUri(contact.contactUri, overlap.contactUri)),
    );
    return bindings.length === 0 && stillPending;
  });
  if (record.pathOverlaps.length === 0) delete record.pathOverlaps;
}

/** DRG-8: from P = U − m on, a registration whose bindings outlive P and rely on us gets a refresh. */
function createDueRefreshes(config: MidRegistrarConfig, record: TimedWorkRecord, nowMs: number): void {
  if (config.mode === 0) return;
  for (const { target, upstream, workId } of refreshTargets(record)) {
    if (record.refreshWork?.some((work) => work.workId === workId)) continue;
    const covered = bindingsCoveredBy(record, target, nowMs);
    const refreshAtMs = refreshPointMs(config, upstream, covered);
    if (refreshAtMs === undefined || nowMs < refreshAtMs || liveRelayForTarget(record, target, nowMs)) continue;
    const work: RefreshWork = {
      workId,
      target,
      forLapsesAtMs: upstream.lapsesAtMs,
      forced: false,
      attempts: 0,
      nextAttemptAtMs: nowMs,
      lastCseq: upstream.refreshCseq ?? 0,
    };
    record.refreshWork = [...(record.refreshWork ?? []), work];
  }
}

/** Randomness for tags, Call-IDs, cnonces and attempt ids. */
export interface TimedWorkDeps {
  ids: IdGenerator;
}

/**
 * Plans the timed work of one AoR at `nowMs` (SPEC DRG-1..11, GEN-3).
 *
 * Brings the record up to date (ended bindings, closed incarnation, orphaned relays, expired claims),
 * then claims every transmission that is due: De-REGISTERs no earlier than due (DRG-4) and not while
 * a live relay carries the same upstream contact, proactive refreshes from P = U − m (DRG-8). The
 * caller commits {@link TimedWorkResult.nextRecord} with a conditional put on the version it read (the
 * claim), sends {@link TimedWorkResult.sends} only if that succeeded, and reports each outcome with
 * `applyTimedWorkOutcome`. A version conflict means another sweep or decision won: re-read and re-plan.
 *
 * @example
 * ```ts
 * const plan = planTimedWork(config, stored.record, nowMs, { ids });
 * if (plan.changed) await store.put(plan.nextRecord, stored.version, { dueAtMs: nextDueAtMs(config, plan.nextRecord), ttlEpochSec });
 * for (const send of plan.sends) report(send, await sendRegister(send));
 * ```
 */
export function planTimedWork(
  config: MidRegistrarConfig,
  record: TimedWorkRecord,
  nowMs: number,
  deps: TimedWorkDeps,
): TimedWorkResult {
  const claimed = structuredClone(record);
  const failures = expireClaims(config, claimed, nowMs);
  const next = collectEndedWork(config, claimed, nowMs);
  resolveOverlaps(next, nowMs);
  createDueRefreshes(config, next, nowMs);
  const sends: OutgoingRegister[] = [];

  for (const work of next.deregisterWork) {
    if (work.inFlight !== undefined || (work.nextAttemptAtMs ?? work.dueAtMs) > nowMs) continue;
    // DRG-4: a live relay carrying the same upstream contact is awaited.
    if (liveRelayNamesUpstreamContact(next, work.upstream.relayedContactUri, nowMs)) continue;
    sends.push(sendDeregister(config, work, nowMs, deps.ids));
  }
  for (const work of next.refreshWork ?? []) {
    if (work.inFlight !== undefined || work.abandoned === true || work.nextAttemptAtMs > nowMs) continue;
    const upstream = refreshTargetRegistration(next, work.target);
    if (upstream === undefined || liveRelayForTarget(next, work.target, nowMs)) continue;
    sends.push(sendRefresh(config, next, work, upstream, nowMs, deps.ids));
  }

  const changed = sends.length > 0 || failures.length > 0 || JSON.stringify(next) !== JSON.stringify(record);
  return { nextRecord: changed ? next : record, changed, sends, failures };
}
