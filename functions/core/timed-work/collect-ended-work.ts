/**
 * Turns what ended in an AoR record into De-REGISTER work and drops what is finished
 * (SPEC GEN-3, DRG-1, DRG-2, DRG-3, DRG-4, DRG-7).
 */
import type { MidRegistrarConfig } from '../config';
import { type Binding, type DeregisterCause, type UpstreamRegistration, bindingLapsesAtMs, isBindingValid, isIncarnationOpen, isRelayLive } from '../model';
import type { DeregisterWorkState, TimedWorkRecord } from './timed-work-types';
import {
  isUpstreamContactCovered,
  liveUpstreamRegistrations,
  refreshTargetRegistration,
  relayEndedAtMs,
  relayNamesBinding,
  relayedUpstreamContacts,
  sameUri,
} from './work-queries';

/** The configuration keys ending work reads. */
export type CollectConfig = Pick<MidRegistrarConfig, 'mode'>;

function newWork(
  workId: string,
  cause: DeregisterCause,
  upstream: UpstreamRegistration,
  dueAtMs: number,
  ids: { contactId?: string; incarnationId?: string },
): DeregisterWorkState {
  return {
    workId,
    cause,
    upstream,
    dueAtMs,
    attempts: 0,
    nextAttemptAtMs: dueAtMs,
    lastCseq: upstream.highestCseq,
    ...ids,
  };
}

/**
 * One De-REGISTER per upstream contact: a second work item for a contact already queued is dropped,
 * but its later U is kept, so DRG-3 does not give up while upstream may still hold the contact.
 */
function addWork(record: TimedWorkRecord, work: DeregisterWorkState): void {
  const duplicate = record.deregisterWork.find(
    (existing) => existing.workId === work.workId || sameUri(existing.upstream.relayedContactUri, work.upstream.relayedContactUri),
  );
  if (duplicate === undefined) record.deregisterWork.push(work);
  else if (work.upstream.lapsesAtMs > duplicate.upstream.lapsesAtMs) {
    duplicate.upstream = { ...duplicate.upstream, lapsesAtMs: work.upstream.lapsesAtMs };
  }
}

/** When an ended binding ended: explicitly, at its expiry, or at U, whichever came first. */
function bindingEndMs(binding: Binding, lapsesAtMs: number | undefined): number {
  return Math.min(binding.endedAtMs ?? Infinity, binding.expiresAtMs, lapsesAtMs ?? Infinity);
}

/** DRG-7: relays that ended without a processed final response leave orphans; the relay record goes. */
function takeOverEndedRelays(config: CollectConfig, record: TimedWorkRecord, nowMs: number): void {
  const live = [];
  for (const relay of record.pendingRelays) {
    const endedAtMs = relayEndedAtMs(relay, nowMs);
    if (endedAtMs === undefined) {
      live.push(relay);
      continue;
    }
    // DRG-3: never in mode 0 (nor for a relay decided in mode 0).
    if (config.mode === 0 || relay.mode === 0) continue;
    relayedUpstreamContacts(relay).forEach((contact, index) => {
      const upstream: UpstreamRegistration = {
        requestUri: relay.requestUri,
        ...(relay.outboundProxy === undefined ? {} : { outboundProxy: relay.outboundProxy }),
        fromUri: relay.fromUri,
        toUri: relay.toUri,
        callId: relay.callId,
        highestCseq: relay.cseq,
        contactUri: contact.contactUri,
        relayedContactUri: contact.contactUri,
        requestedExpiresSec: contact.expiresSec,
        // Upstream grants at most what we asked (RFC 3261 §10.3 step 7), so this bounds U from above.
        grantedExpiresSec: contact.expiresSec,
        sentAtMs: relay.createdAtMs,
        lapsesAtMs: relay.createdAtMs + contact.expiresSec * 1000,
      };
      if (nowMs >= upstream.lapsesAtMs) return;
      const ids = {
        ...(contact.contactId === undefined ? {} : { contactId: contact.contactId }),
        ...(relay.incarnationId === undefined ? {} : { incarnationId: relay.incarnationId }),
      };
      const workId = `orphan:${relay.relayId}:${index}`;
      if (isUpstreamContactCovered(record, contact.contactUri, nowMs)) {
        // Covered now, but upstream may hold it past the covering U: watch it (see UpstreamShadow).
        record.upstreamShadows = [...(record.upstreamShadows ?? []), { workId, upstream, ...ids }];
        return;
      }
      addWork(record, newWork(workId, 'orphan', upstream, endedAtMs, ids));
    });
  }
  record.pendingRelays = live;
}

/**
 * DRG-2: a closed incarnation is De-REGISTERed if it closed while `now < U`; then it is forgotten (M2-1).
 *
 * When upstream confirms the end of the aggregated contact the reply core deletes the incarnation
 * (RPL-6, RPL-8, FWD-8 last removal), so one still here with `upstream` set is registered upstream,
 * even with no binding left: its bindings may have been swept while a relay kept it open, and that
 * relay was then rejected (DRG-3 exempts only confirmed removals).
 *
 * @param relayEndsMs when the incarnation's relays that ended in this collection ended.
 */
function closeIncarnation(config: CollectConfig, record: TimedWorkRecord, relayEndsMs: readonly number[], nowMs: number): void {
  const incarnation = record.incarnation;
  if (incarnation === undefined || isIncarnationOpen(record, nowMs)) return;
  const upstream = incarnation.upstream;
  if (config.mode !== 0 && upstream !== undefined && nowMs < upstream.lapsesAtMs) {
    const own = record.bindings.filter((binding) => binding.incarnationId === incarnation.id);
    const ends = [...own.map((binding) => bindingEndMs(binding, upstream.lapsesAtMs)), ...relayEndsMs];
    // Closed when its last binding or relay ended; a relay answered with a non-2xx left no trace, so now.
    const closedAtMs = ends.length === 0 ? nowMs : Math.max(...ends);
    if (closedAtMs < upstream.lapsesAtMs) {
      addWork(record, newWork(`drg:inc:${incarnation.id}`, 'incarnation-closed', upstream, closedAtMs, { incarnationId: incarnation.id }));
    }
  }
  delete record.incarnation;
}

/** DRG-1: ended bindings leave the record; mode 1 De-REGISTERs each that ended while `now < U`. */
function endBindings(config: CollectConfig, record: TimedWorkRecord, nowMs: number): void {
  record.bindings = record.bindings.filter((binding) => {
    const lapsesAtMs = bindingLapsesAtMs(binding, record);
    if (isBindingValid(binding, lapsesAtMs, nowMs)) return true;
    // GEN-3: not ended while a pending relay names it; its 2xx may refresh it.
    if (record.pendingRelays.some((relay) => isRelayLive(relay, nowMs) && relayNamesBinding(relay, binding))) return true;
    const upstream = binding.upstream;
    if (config.mode !== 0 && upstream !== undefined) {
      const endedAtMs = bindingEndMs(binding, upstream.lapsesAtMs);
      // DRG-3: a binding that lapsed with U, or whose U has passed, needs nothing from us.
      if (endedAtMs < upstream.lapsesAtMs && nowMs < upstream.lapsesAtMs) {
        addWork(record, newWork(`drg:${binding.contactId}`, binding.endReason ?? 'expired', upstream, endedAtMs, { contactId: binding.contactId }));
      }
    }
    return false;
  });
}

/**
 * DRG-7 for shadows: superseded once a later relay for the contact was confirmed (upstream's answer to
 * it is newer); orphaned once no valid binding covers the contact while upstream may still hold it.
 */
function releaseShadows(record: TimedWorkRecord, nowMs: number): void {
  if (record.upstreamShadows === undefined) return;
  record.upstreamShadows = record.upstreamShadows.filter((shadow) => {
    if (nowMs >= shadow.upstream.lapsesAtMs) return false;
    const covering = liveUpstreamRegistrations(record, nowMs).filter(
      (upstream) => sameUri(upstream.relayedContactUri, shadow.upstream.relayedContactUri),
    );
    if (covering.some((upstream) => upstream.sentAtMs >= shadow.upstream.sentAtMs)) return false;
    if (covering.length > 0) return true;
    const ids = {
      ...(shadow.contactId === undefined ? {} : { contactId: shadow.contactId }),
      ...(shadow.incarnationId === undefined ? {} : { incarnationId: shadow.incarnationId }),
    };
    addWork(record, newWork(shadow.workId, 'orphan', shadow.upstream, nowMs, ids));
    return false;
  });
  if (record.upstreamShadows.length === 0) delete record.upstreamShadows;
}

/** DRG-3, DRG-4: queued De-REGISTERs that became pointless are dropped (unless one is on the wire). */
function cancelMootWork(config: CollectConfig, record: TimedWorkRecord, nowMs: number): void {
  record.deregisterWork = record.deregisterWork.filter(
    (work) =>
      work.inFlight !== undefined ||
      (config.mode !== 0 &&
        nowMs < work.upstream.lapsesAtMs &&
        !isUpstreamContactCovered(record, work.upstream.relayedContactUri, nowMs)),
  );
}

/** Refresh work whose registration is gone, moved on, or whose abandonment has run its course. */
function dropMootRefreshes(record: TimedWorkRecord, nowMs: number): void {
  if (record.refreshWork === undefined) return;
  record.refreshWork = record.refreshWork.filter((work) => {
    if (work.inFlight !== undefined) return true;
    const upstream = refreshTargetRegistration(record, work.target);
    return upstream !== undefined && upstream.lapsesAtMs === work.forLapsesAtMs && nowMs < upstream.lapsesAtMs;
  });
  if (record.refreshWork.length === 0) delete record.refreshWork;
}

/**
 * Brings a record up to date at `nowMs`: relays that ended without a final response become orphan
 * De-REGISTERs (DRG-7), a closed mode 2 incarnation gets its De-REGISTER (DRG-2), ended bindings
 * leave the record with a De-REGISTER in mode 1 (DRG-1, GEN-3), and work that DRG-3/DRG-4 made
 * pointless is dropped. Deterministic work ids make it idempotent.
 *
 * The register and reply cores may call it before replacing a closed incarnation or an ended
 * binding, so the upstream registration they held is never forgotten (INV-2).
 *
 * @returns a new record; the input is not modified.
 */
export function collectEndedWork(config: CollectConfig, record: TimedWorkRecord, nowMs: number): TimedWorkRecord {
  const next = structuredClone(record);
  const incarnationId = record.incarnation?.id;
  const relayEndsMs = record.pendingRelays
    .filter((relay) => incarnationId !== undefined && relay.incarnationId === incarnationId)
    .flatMap((relay) => relayEndedAtMs(relay, nowMs) ?? []);
  takeOverEndedRelays(config, next, nowMs);
  closeIncarnation(config, next, relayEndsMs, nowMs);
  endBindings(config, next, nowMs);
  if (config.mode === 0) delete next.upstreamShadows;
  releaseShadows(next, nowMs);
  cancelMootWork(config, next, nowMs);
  dropMootRefreshes(next, nowMs);
  return next;
}
