/**
 * When an AoR record next needs the sweep, and when it may be deleted (SPEC GEN-1, GEN-3, DRG-4, DRG-8).
 */
import type { MidRegistrarConfig } from '../config';
import { bindingLapsesAtMs } from '../model';
import { collectEndedWork } from './collect-ended-work';
import type { TimedWorkRecord } from './timed-work-types';
import {
  bindingsOfTarget,
  liveRelayForTarget,
  refreshPointMs,
  refreshTargets,
  relayNamesBinding,
  relayedUpstreamContacts,
  sameUri,
} from './work-queries';

/** The configuration keys due-time computation reads. */
export type DueConfig = Pick<MidRegistrarConfig, 'mode' | 'refreshMarginMs'>;

/** Whether a not-failed relay carries this upstream contact; its deadline is the due time instead (DRG-4). */
function awaitedRelayCarries(record: TimedWorkRecord, contactUri: string): boolean {
  return record.pendingRelays.some(
    (relay) => relay.failedAtMs === undefined && relayedUpstreamContacts(relay).some((c) => sameUri(c.contactUri, contactUri)),
  );
}

/**
 * The earliest time anything in the record needs the sweep (the store indexes records by it):
 * a binding's end (De-REGISTER due, DRG-1/2, or GEN-3 deletion), a refresh point P = U − m
 * (DRG-8), a retry time (DRG-6), a pending relay's orphan deadline (DRG-7), a claim's deadline.
 * Times already past mean "as soon as possible" (GEN-1). Planning at the returned time always
 * changes the record or moves this time forward, so a sweep never spins on one record.
 *
 * @returns epoch ms, or undefined when nothing is scheduled: then the record holds no binding, relay
 *   or work, and {@link isRecordDeletable} holds.
 */
export function nextDueAtMs(config: DueConfig, record: TimedWorkRecord): number | undefined {
  const times: number[] = [];
  for (const relay of record.pendingRelays) times.push(relay.failedAtMs ?? relay.deadlineAtMs);
  for (const binding of record.bindings) {
    // While a relay names it, the binding has not ended (GEN-3); the relay's deadline stands in.
    if (record.pendingRelays.some((relay) => relay.failedAtMs === undefined && relayNamesBinding(relay, binding))) continue;
    // A binding no upstream 2xx covers (any more) is not valid (GEN-3): due at once for deletion.
    times.push(Math.min(binding.endedAtMs ?? Infinity, binding.expiresAtMs, bindingLapsesAtMs(binding, record) ?? binding.createdAtMs));
  }
  const incarnation = record.incarnation;
  if (incarnation !== undefined && !record.bindings.some((b) => b.incarnationId === incarnation.id)) {
    // An incarnation without bindings closes once its relays are gone; their deadlines stand in.
    if (!record.pendingRelays.some((relay) => relay.incarnationId === incarnation.id)) times.push(incarnation.createdAtMs);
  }
  for (const work of record.deregisterWork) {
    if (work.inFlight !== undefined) times.push(work.inFlight.claimUntilMs);
    else if (!awaitedRelayCarries(record, work.upstream.relayedContactUri)) times.push(work.nextAttemptAtMs ?? work.dueAtMs);
  }
  for (const work of record.refreshWork ?? []) {
    if (work.inFlight !== undefined) times.push(work.inFlight.claimUntilMs);
    else if (work.abandoned === true) times.push(work.forLapsesAtMs);
    else if (!liveRelayForTarget(record, work.target, -Infinity)) times.push(work.nextAttemptAtMs);
  }
  if (config.mode !== 0) {
    for (const { target, upstream, workId } of refreshTargets(record)) {
      if (record.refreshWork?.some((work) => work.workId === workId)) continue;
      if (liveRelayForTarget(record, target, -Infinity)) continue;
      const refreshAtMs = refreshPointMs(config, upstream, bindingsOfTarget(record, target));
      if (refreshAtMs !== undefined) times.push(refreshAtMs);
    }
  }
  for (const shadow of record.upstreamShadows ?? []) {
    // A shadow resolves when its covering bindings end (their end times stand in) or when none is left.
    const covered = record.bindings.some((binding) => {
      const upstream = binding.upstream ?? (binding.incarnationId === incarnation?.id ? incarnation?.upstream : undefined);
      return upstream !== undefined && sameUri(upstream.relayedContactUri, shadow.upstream.relayedContactUri);
    });
    times.push(covered ? shadow.upstream.lapsesAtMs : shadow.upstream.sentAtMs);
  }
  for (const overlap of record.pathOverlaps ?? []) {
    // While the overlapping relay is pending its deadline stands in; once its 2xx committed, now (DRG-10).
    if (!awaitedRelayCarries(record, overlap.contactUri)) times.push(overlap.untilMs);
  }
  return times.length === 0 ? undefined : Math.min(...times);
}

/**
 * GEN-3: whether the record holds nothing retained at `nowMs` (no binding, open incarnation, relay
 * or timed work once ended things are collected), so the store may delete it.
 */
export function isRecordDeletable(config: Pick<MidRegistrarConfig, 'mode'>, record: TimedWorkRecord, nowMs: number): boolean {
  const collected = collectEndedWork(config, record, nowMs);
  return (
    collected.bindings.length === 0 &&
    collected.pendingRelays.length === 0 &&
    collected.deregisterWork.length === 0 &&
    collected.incarnation === undefined &&
    (collected.refreshWork ?? []).length === 0 &&
    (collected.pathOverlaps ?? []).length === 0 &&
    (collected.upstreamShadows ?? []).length === 0
  );
}
