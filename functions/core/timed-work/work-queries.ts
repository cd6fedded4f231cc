/**
 * Read-only questions the timed-work rules ask of an AoR record (GEN-3, DRG-4, DRG-7, DRG-8).
 */
import type { MidRegistrarConfig } from '../config';
import { type Binding, type PendingRelay, type UpstreamRegistration, isBindingValid, isRelayLive, bindingLapsesAtMs } from '../model';
import { parseUri, urisEqual } from '../../../sip-gateway/src/sip/uri';
import type { RefreshTarget, TimedWorkRecord } from './timed-work-types';

/** REG-5 URI equality (RFC 3261 §19.1.4); texts that do not parse compare byte for byte. */
export function sameUri(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return urisEqual(parseUri(a), parseUri(b));
  } catch {
    return false;
  }
}

/** The time a relay ended without a processed final response (DRG-7), or undefined while it is live. */
export function relayEndedAtMs(relay: PendingRelay, nowMs: number): number | undefined {
  if (relay.failedAtMs !== undefined) return relay.failedAtMs;
  return nowMs >= relay.deadlineAtMs ? relay.deadlineAtMs : undefined;
}

/** The upstream contacts a relay carried with E > 0 (DRG-7), with E. */
export function relayedUpstreamContacts(relay: PendingRelay): { contactUri: string; expiresSec: number; contactId?: string }[] {
  if (relay.kind !== 'contacts') return [];
  if (relay.aggregatedContactUri !== undefined) {
    const expiresSec = relay.aggregatedExpiresSec ?? 0;
    return expiresSec > 0 ? [{ contactUri: relay.aggregatedContactUri, expiresSec }] : [];
  }
  return relay.contacts
    .filter((contact) => contact.relayedExpiresSec > 0)
    .map((contact) => ({
      // Path insertion relays the UA's URI itself (FWD-5); contact insertion the rewritten one (FWD-3).
      contactUri: contact.upstreamContactUri ?? contact.contactUri,
      expiresSec: contact.relayedExpiresSec,
      ...(contact.contactId === undefined ? {} : { contactId: contact.contactId }),
    }));
}

/** Whether a relay names this binding: same contact id, or (path insertion, mode 2) the same UA URI (REG-5). */
export function relayNamesBinding(relay: PendingRelay, binding: Binding): boolean {
  return relay.contacts.some(
    (contact) =>
      (contact.contactId !== undefined && contact.contactId === binding.contactId) ||
      (contact.contactId === undefined && sameUri(contact.contactUri, binding.contactUri)),
  );
}

/** DRG-4: whether a live relay carries this upstream contact (its De-REGISTER must wait for it). */
export function liveRelayNamesUpstreamContact(record: TimedWorkRecord, contactUri: string, nowMs: number): boolean {
  return record.pendingRelays.some(
    (relay) => isRelayLive(relay, nowMs) && relayedUpstreamContacts(relay).some((c) => sameUri(c.contactUri, contactUri)),
  );
}

/** The upstream registrations currently covering a valid binding (INV-1): per binding, or the open incarnation's. */
export function liveUpstreamRegistrations(record: TimedWorkRecord, nowMs: number): UpstreamRegistration[] {
  const live: UpstreamRegistration[] = [];
  for (const binding of record.bindings) {
    if (!isBindingValid(binding, bindingLapsesAtMs(binding, record), nowMs)) continue;
    if (binding.upstream !== undefined) live.push(binding.upstream);
    else if (record.incarnation?.upstream !== undefined) live.push(record.incarnation.upstream);
  }
  return live;
}

/** DRG-4, DRG-7: whether a valid binding now has this upstream contact. */
export function isUpstreamContactCovered(record: TimedWorkRecord, contactUri: string, nowMs: number): boolean {
  return liveUpstreamRegistrations(record, nowMs).some(
    (upstream) => sameUri(upstream.relayedContactUri, contactUri) || sameUri(upstream.contactUri, contactUri),
  );
}

/** The registration a refresh keeps alive, if it still exists. */
export function refreshTargetRegistration(record: TimedWorkRecord, target: RefreshTarget): UpstreamRegistration | undefined {
  if ('contactId' in target) return record.bindings.find((b) => b.contactId === target.contactId)?.upstream;
  return record.incarnation?.id === target.incarnationId ? record.incarnation.upstream : undefined;
}

/** The valid bindings a registration covers: the binding itself (mode 1) or the incarnation's (mode 2). */
export function bindingsCoveredBy(record: TimedWorkRecord, target: RefreshTarget, nowMs: number): Binding[] {
  return record.bindings.filter(
    (binding) =>
      ('contactId' in target ? binding.contactId === target.contactId : binding.incarnationId === target.incarnationId) &&
      isBindingValid(binding, bindingLapsesAtMs(binding, record), nowMs),
  );
}

/** DRG-8: whether a live relay is pending for what the registration covers. */
export function liveRelayForTarget(record: TimedWorkRecord, target: RefreshTarget, nowMs: number): boolean {
  return record.pendingRelays.some((relay) => {
    if (!isRelayLive(relay, nowMs)) return false;
    if ('incarnationId' in target) return relay.incarnationId === target.incarnationId;
    const binding = record.bindings.find((b) => b.contactId === target.contactId);
    return binding !== undefined && relayNamesBinding(relay, binding);
  });
}

/**
 * DRG-8: the refresh point P = U − m of a registration, when a proactive refresh will be needed there:
 * a binding it covers is still valid after P and was registered with e_b + m < g (a binding with
 * e_b + m ≥ g is kept alive by its own relayed refreshes, M1-3/M2-3).
 *
 * @param candidates the bindings the registration covers and that have not ended explicitly.
 */
export function refreshPointMs(
  config: Pick<MidRegistrarConfig, 'refreshMarginMs'>,
  upstream: UpstreamRegistration,
  candidates: readonly Binding[],
): number | undefined {
  const refreshAtMs = upstream.lapsesAtMs - config.refreshMarginMs;
  const needed = candidates.some((binding) => needsRefreshAt(config, upstream, refreshAtMs, binding));
  return needed ? refreshAtMs : undefined;
}

/**
 * {@link refreshPointMs} of a binding's own registration (mode 1), its candidates being the bindings with
 * that contact id: the same answer without the candidate array (due times are computed on every commit).
 */
export function contactRefreshPointMs(
  config: Pick<MidRegistrarConfig, 'refreshMarginMs'>,
  record: TimedWorkRecord,
  contactId: string,
  upstream: UpstreamRegistration,
): number | undefined {
  const refreshAtMs = upstream.lapsesAtMs - config.refreshMarginMs;
  for (const binding of record.bindings) {
    if (binding.contactId === contactId && needsRefreshAt(config, upstream, refreshAtMs, binding)) return refreshAtMs;
  }
  return undefined;
}

/** DRG-8: whether a binding the registration covers needs a refresh at P. */
function needsRefreshAt(
  config: Pick<MidRegistrarConfig, 'refreshMarginMs'>,
  upstream: UpstreamRegistration,
  refreshAtMs: number,
  binding: Binding,
): boolean {
  return (
    binding.endedAtMs === undefined &&
    binding.expiresAtMs > refreshAtMs &&
    binding.requestedExpiresSec * 1000 + config.refreshMarginMs < upstream.grantedExpiresSec * 1000
  );
}

/** The work id of the proactive refresh of a binding's own registration (mode 1). */
export function contactRefreshWorkId(contactId: string): string {
  return `refresh:${contactId}`;
}

/** The work id of the proactive refresh of an incarnation's registration (mode 2). */
export function incarnationRefreshWorkId(incarnationId: string): string {
  return `refresh:inc:${incarnationId}`;
}

/** The refresh targets of a record: every binding with its own upstream (mode 1), the incarnation (mode 2). */
export function refreshTargets(record: TimedWorkRecord): { target: RefreshTarget; upstream: UpstreamRegistration; workId: string }[] {
  const targets: { target: RefreshTarget; upstream: UpstreamRegistration; workId: string }[] = [];
  for (const binding of record.bindings) {
    if (binding.upstream !== undefined) {
      targets.push({ target: { contactId: binding.contactId }, upstream: binding.upstream, workId: contactRefreshWorkId(binding.contactId) });
    }
  }
  const incarnation = record.incarnation;
  if (incarnation?.upstream !== undefined) {
    targets.push({ target: { incarnationId: incarnation.id }, upstream: incarnation.upstream, workId: incarnationRefreshWorkId(incarnation.id) });
  }
  return targets;
}

/** The bindings a target covers, ignoring validity (for due-time computation). */
export function bindingsOfTarget(record: TimedWorkRecord, target: RefreshTarget): Binding[] {
  return record.bindings.filter((binding) =>
    'contactId' in target ? binding.contactId === target.contactId : binding.incarnationId === target.incarnationId,
  );
}
