/**
 * When an AoR record next needs the sweep, and when it may be deleted (SPEC GEN-1, GEN-3, DRG-4, DRG-8).
 */
import type { MidRegistrarConfig } from '../config';
import { type Binding, bindingLapsesAtMs } from '../model';
import { collectEndedWork } from './collect-ended-work';
import type { PathOverlap, RefreshTarget, RefreshWork, TimedWorkRecord, UpstreamShadow } from './timed-work-types';
import {
  bindingsOfTarget,
  contactRefreshPointMs,
  contactRefreshWorkId,
  incarnationRefreshWorkId,
  liveRelayForTarget,
  refreshPointMs,
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
 * Computed on every commit (once per REGISTER): a running minimum and plain loops, no array of times
 * and no per-binding callbacks or target objects.
 *
 * @returns epoch ms, or undefined when nothing is scheduled: then the record holds no binding, relay
 *   or work, and {@link isRecordDeletable} holds.
 */
export function nextDueAtMs(config: DueConfig, record: TimedWorkRecord): number | undefined {
  let due: number | undefined;
  for (const relay of record.pendingRelays) due = earlier(due, relay.failedAtMs ?? relay.deadlineAtMs);
  for (const binding of record.bindings) {
    // While a relay names it, the binding has not ended (GEN-3); the relay's deadline stands in.
    if (awaitedRelayNames(record, binding)) continue;
    // A binding no upstream 2xx covers (any more) is not valid (GEN-3): due at once for deletion.
    due = earlier(due, Math.min(binding.endedAtMs ?? Infinity, binding.expiresAtMs, bindingLapsesAtMs(binding, record) ?? binding.createdAtMs));
  }
  const incarnation = record.incarnation;
  if (incarnation !== undefined && !hasBindingOf(record, incarnation.id)) {
    // An incarnation without bindings closes once its relays are gone; their deadlines stand in.
    if (!hasRelayFor(record, incarnation.id)) due = earlier(due, incarnation.createdAtMs);
  }
  for (const work of record.deregisterWork) {
    if (work.inFlight !== undefined) due = earlier(due, work.inFlight.claimUntilMs);
    else if (!awaitedRelayCarries(record, work.upstream.relayedContactUri)) due = earlier(due, work.nextAttemptAtMs ?? work.dueAtMs);
  }
  for (const work of record.refreshWork ?? NO_REFRESH_WORK) {
    if (work.inFlight !== undefined) due = earlier(due, work.inFlight.claimUntilMs);
    else if (work.abandoned === true) due = earlier(due, work.forLapsesAtMs);
    else if (!liveRelayForTarget(record, work.target, -Infinity)) due = earlier(due, work.nextAttemptAtMs);
  }
  if (config.mode !== 0) {
    // The targets of refreshTargets, in its order: each binding's own registration, then the incarnation's.
    for (const binding of record.bindings) {
      if (binding.upstream === undefined) continue;
      if (record.refreshWork !== undefined && hasRefreshWork(record.refreshWork, contactRefreshWorkId(binding.contactId))) continue;
      // liveRelayForTarget is false without relays; its target object is only built when there are some.
      if (record.pendingRelays.length > 0 && liveRelayForTarget(record, { contactId: binding.contactId }, -Infinity)) continue;
      const refreshAtMs = contactRefreshPointMs(config, record, binding.contactId, binding.upstream);
      if (refreshAtMs !== undefined) due = earlier(due, refreshAtMs);
    }
    if (incarnation?.upstream !== undefined) {
      const target: RefreshTarget = { incarnationId: incarnation.id };
      const workId = incarnationRefreshWorkId(incarnation.id);
      const refreshing = (record.refreshWork !== undefined && hasRefreshWork(record.refreshWork, workId)) || liveRelayForTarget(record, target, -Infinity);
      const refreshAtMs = refreshing ? undefined : refreshPointMs(config, incarnation.upstream, bindingsOfTarget(record, target));
      if (refreshAtMs !== undefined) due = earlier(due, refreshAtMs);
    }
  }
  for (const shadow of record.upstreamShadows ?? NO_SHADOWS) {
    // A shadow resolves when its covering bindings end (their end times stand in) or when none is left.
    const covered = record.bindings.some((binding) => {
      const upstream = binding.upstream ?? (binding.incarnationId === incarnation?.id ? incarnation?.upstream : undefined);
      return upstream !== undefined && sameUri(upstream.relayedContactUri, shadow.upstream.relayedContactUri);
    });
    due = earlier(due, covered ? shadow.upstream.lapsesAtMs : shadow.upstream.sentAtMs);
  }
  for (const overlap of record.pathOverlaps ?? NO_OVERLAPS) {
    // While the overlapping relay is pending its deadline stands in; once its 2xx committed, now (DRG-10).
    if (!awaitedRelayCarries(record, overlap.contactUri)) due = earlier(due, overlap.untilMs);
  }
  return due;
}

const NO_REFRESH_WORK: readonly RefreshWork[] = [];
const NO_SHADOWS: readonly UpstreamShadow[] = [];
const NO_OVERLAPS: readonly PathOverlap[] = [];

/** The smaller of a running minimum and `t` (Math.min semantics, NaN included). */
function earlier(due: number | undefined, t: number): number {
  return due === undefined ? t : Math.min(due, t);
}

/** Whether a not-failed relay names the binding (GEN-3: it has not ended while one does). */
function awaitedRelayNames(record: TimedWorkRecord, binding: Binding): boolean {
  for (const relay of record.pendingRelays) if (relay.failedAtMs === undefined && relayNamesBinding(relay, binding)) return true;
  return false;
}

function hasBindingOf(record: TimedWorkRecord, incarnationId: string): boolean {
  for (const binding of record.bindings) if (binding.incarnationId === incarnationId) return true;
  return false;
}

function hasRelayFor(record: TimedWorkRecord, incarnationId: string): boolean {
  for (const relay of record.pendingRelays) if (relay.incarnationId === incarnationId) return true;
  return false;
}

function hasRefreshWork(works: readonly RefreshWork[], workId: string): boolean {
  for (const work of works) if (work.workId === workId) return true;
  return false;
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
