/**
 * What a relay's end does to the AoR and to the UA's response (SPEC RPL-1..10, REG-12, GEN-7).
 *
 * @remarks
 * Pure. The handler loads the record named by the {@link RelayContext}, calls
 * {@link applyUpstreamReply}, commits `nextRecord` with a conditional put on the version it read, then
 * answers the UA with the decision. A version conflict: apply again on the fresh record (GEN-5); the
 * pending relay is still there, so the 2xx is processed exactly once (RPL-2). A commit failure: answer
 * `storeFailureResponse` (503, RPL-10); the pending relay stays, and DRG-7 takes it over at its deadline.
 */
import type { MidRegistrarConfig } from '../config';
import { CORE_METRICS } from '../core-metrics';
import type { HeaderField, RegisterReplyDecision, RelayContext, UpstreamOutcome } from '../contract';
import { REGISTRAR_ERRORS, type RegistrarErrorRow, registrarErrorResponse } from '../errors';
import {
  type AorRecord,
  type Binding,
  type Incarnation,
  type PendingRelay,
  type RelayedContact,
  type UpstreamRegistration,
  isIncarnationOpen,
} from '../model';
import type { IdGenerator } from '../random';
import { bindingListHeaders, pathEchoHeaders } from '../register/binding-list';
import { evictOverLimit } from '../register/contact-limit';
import { escapeAor } from '../register/upstream-contact';
import { parseDeltaSeconds } from '../../../sip-gateway/src/sip/chars';
import { type HeaderParam, findParam } from '../../../sip-gateway/src/sip/header-params';
import { splitNameAddr } from '../../../sip-gateway/src/sip/name-addr';
import { splitHeaderValues } from '../../../sip-gateway/src/sip/split';
import { type SipUri, parseUri, unescapeUriPart, uriParam, urisEqual } from '../../../sip-gateway/src/sip/uri';

/** Something the handler logs and counts after the commit, under the name in `kind` ({@link CORE_METRICS}). */
export type ReplyEvent =
  /** RPL-5: upstream's 2xx lacked a contact we relayed with E > 0 (metric `upstream_contact_missing`). */
  | { kind: typeof CORE_METRICS.upstreamContactMissing; aor: string; contactUri: string }
  /** RPL-1: a 423 in modes 1 and 2 likely means `outgoingExpires` is below upstream's minimum. */
  | { kind: typeof CORE_METRICS.upstreamIntervalTooBrief; aor: string }
  /** A reply for a relay the record no longer holds (taken over by DRG-7, or superseded). */
  | { kind: typeof CORE_METRICS.staleRelay; aor: string; relayId: string };

/** What {@link applyUpstreamReply} returns. */
export interface ReplyOutcome {
  decision: RegisterReplyDecision;
  /** The record to commit before answering the UA; absent when nothing changed. */
  nextRecord?: AorRecord;
  events: ReplyEvent[];
}

/** A contact of upstream's 2xx. */
interface ReturnedContact {
  /** The URI exactly as upstream returned it (RPL-5). */
  uriText: string;
  uri: SipUri;
  params: HeaderParam[];
}

/** Headers removed from upstream's 2xx before it goes to the UA (RPL-7, PTH-6; Δ OpenSIPS keeps Expires). */
const REMOVED_FROM_2XX = ['Contact', 'Expires', 'Path'];

/**
 * Applies the end of a relay's client transaction.
 *
 * - 2xx: commits its changes (RPL-2..8, REG-11 eviction) and rewrites it for the UA (RPL-7).
 * - Other final: nothing changes but the pending relay is released (RPL-1, REG-12); the gateway forwards
 *   the response unchanged.
 * - Timeout / transport error (RPL-9): 504 / 503 for the UA; the relay is marked failed so DRG-7 takes it over.
 *
 * @param record the AoR record as stored now (`context.aor`).
 * @param nowMs the response's arrival time (GEN-2), or the failure time.
 */
export function applyUpstreamReply(
  config: MidRegistrarConfig,
  context: RelayContext,
  outcome: UpstreamOutcome,
  record: AorRecord | undefined,
  nowMs: number,
  ids: IdGenerator,
): ReplyOutcome {
  const pending = record?.pendingRelays.find((r) => r.relayId === context.relayId);
  const respond = (row: RegistrarErrorRow): RegisterReplyDecision => ({
    kind: 'respond',
    response: registrarErrorResponse(row, config.retryAfterMs, ids.randomTag()),
  });

  if (outcome.kind !== 'final') {
    // RPL-9: no state change; the relay ended without a processed final response, so DRG-7 applies.
    const row = outcome.kind === 'timeout' ? REGISTRAR_ERRORS.upstreamTimeout : REGISTRAR_ERRORS.serviceUnavailable;
    const result: ReplyOutcome = { decision: respond(row), events: [] };
    if (record !== undefined && pending !== undefined && pending.failedAtMs === undefined) {
      const failure: PendingRelay['failure'] = outcome.kind === 'timeout' ? 'timeout' : 'transport';
      result.nextRecord = replacePending(record, pending, { ...pending, failedAtMs: outcome.atMs, failure });
    }
    return result;
  }

  if (outcome.status < 200) return { decision: { kind: 'forward-unchanged' }, events: [] };

  if (outcome.status >= 300) {
    // RPL-1 (#1156): a non-2xx changes nothing, so the UA's next attempt is decided afresh.
    const events: ReplyEvent[] = outcome.status === 423 && context.mode !== 0
      ? [{ kind: CORE_METRICS.upstreamIntervalTooBrief, aor: context.aor }]
      : [];
    const result: ReplyOutcome = { decision: { kind: 'forward-unchanged' }, events };
    if (record !== undefined && pending !== undefined) result.nextRecord = replacePending(record, pending, undefined);
    return result;
  }

  if (record === undefined || pending === undefined || pending.failedAtMs !== undefined) {
    return { decision: respond(REGISTRAR_ERRORS.upstreamTimeout), events: [{ kind: CORE_METRICS.staleRelay, aor: context.aor, relayId: context.relayId }] };
  }
  const events: ReplyEvent[] = [];
  const committed = commit2xx(config, record, pending, outcome, nowMs, events);
  if (committed === undefined) {
    // The AoR moved on to another incarnation meanwhile: this 2xx cannot apply; DRG-7 removes what it registered.
    events.push({ kind: CORE_METRICS.staleRelay, aor: context.aor, relayId: context.relayId });
    return {
      decision: respond(REGISTRAR_ERRORS.upstreamTimeout),
      nextRecord: replacePending(record, pending, { ...pending, failedAtMs: nowMs, failure: 'timeout' }),
      events,
    };
  }
  const addHeaders: HeaderField[] = [...bindingListHeaders(committed, nowMs), ...pathEchoHeaders(pending.echoPath, pending.path)];
  return { decision: { kind: 'rewrite', removeHeaders: [...REMOVED_FROM_2XX], addHeaders }, nextRecord: committed, events };
}

/** The record with `pending` replaced (or removed when `next` is undefined). */
function replacePending(record: AorRecord, pending: PendingRelay, next: PendingRelay | undefined): AorRecord {
  const pendingRelays = record.pendingRelays.flatMap((r) => (r === pending ? (next === undefined ? [] : [next]) : [r]));
  return { ...record, pendingRelays };
}

type FinalOutcome = Extract<UpstreamOutcome, { kind: 'final' }>;

/**
 * Commits a 2xx: the record after it, without the pending relay; undefined when it no longer applies.
 */
function commit2xx(
  config: MidRegistrarConfig,
  record: AorRecord,
  pending: PendingRelay,
  outcome: FinalOutcome,
  nowMs: number,
  events: ReplyEvent[],
): AorRecord | undefined {
  const base = replacePending(record, pending, undefined);
  switch (pending.kind) {
    case 'query':
      // REG-7: the 2xx of a relayed query changes no state.
      return base;
    case 'star':
      return commitStar(base, pending, outcome, nowMs);
    case 'contacts': {
      const returned = returnedContacts(outcome.contacts);
      const headerExpires = outcome.expires === undefined ? undefined : deltaSeconds(outcome.expires.trim());
      const committed = pending.mode === 2
        ? commitMode2(config, base, pending, outcome, returned, headerExpires, nowMs, events)
        : commitPerContact(config, base, pending, outcome, returned, headerExpires, nowMs, events);
      if (committed === undefined) return undefined;
      const named = new Set(pending.contacts.flatMap((c) => (c.contactId === undefined ? [] : [c.contactId])));
      // REG-11: concurrent REGISTERs that overshoot the limit at commit evict the same way.
      return evictOverLimit(config, committed, named, nowMs);
    }
  }
}

/**
 * RPL-8: upstream removed every contact of the AoR it held when it processed the star, so what was
 * confirmed by relays sent before the star ends without De-REGISTER and its queued De-REGISTERs have
 * nothing left to remove. What relays sent after the star registered again stays: those relays reached
 * upstream after the star (#1512: Δ OpenSIPS De-REGISTERs every binding instead).
 */
function commitStar(record: AorRecord, pending: PendingRelay, outcome: FinalOutcome, nowMs: number): AorRecord {
  const registeredLater = (upstream: UpstreamRegistration | undefined): boolean => confirmedAfter(upstream, pending, outcome);
  const deregisterWork = record.deregisterWork.filter((w) => registeredLater(w.upstream));
  const incarnation = record.incarnation;
  if (incarnation !== undefined && registeredLater(incarnation.upstream)) {
    // Mode 2: the aggregated contact was registered again after the star. Bindings last refreshed
    // before the star was decided end; kept (ended) in the record, so the incarnation's De-REGISTER
    // is still planned if nothing else keeps it open (DRG-2).
    const bindings = record.bindings.map((b) =>
      b.incarnationId === incarnation.id && b.updatedAtMs < pending.createdAtMs && b.endedAtMs === undefined
        ? { ...b, endedAtMs: nowMs, endReason: 'removed' as const }
        : b);
    return { ...record, bindings, deregisterWork };
  }
  const bindings = record.bindings.filter((b) => b.incarnationId === undefined && registeredLater(b.upstream));
  return withoutIncarnation({ ...record, bindings, deregisterWork });
}

/**
 * Whether `upstream` was confirmed by a transmission sent after `pending`: a later relay (by relay
 * order, which also settles relays sent in the same millisecond) or a later transmission of any kind
 * (e.g. a proactive refresh, DRG-9). Upstream then processed `pending` first (RPL-8, RPL-6).
 */
function confirmedAfter(upstream: UpstreamRegistration | undefined, pending: PendingRelay, outcome: FinalOutcome): boolean {
  return (
    upstream !== undefined &&
    (upstream.sentAtMs > outcome.sentAtMs || (upstream.relaySeq !== undefined && pending.seq !== undefined && upstream.relaySeq > pending.seq))
  );
}

function withoutIncarnation(record: AorRecord): AorRecord {
  const next = { ...record };
  delete next.incarnation;
  return next;
}

function deltaSeconds(text: string): number | undefined {
  const n = parseDeltaSeconds(text);
  return n < 0 ? undefined : n;
}

/** The contacts of upstream's 2xx that parse; others cannot be ours and are ignored (RPL-3). */
function returnedContacts(values: readonly string[]): ReturnedContact[] {
  const out: ReturnedContact[] = [];
  for (const value of values) {
    for (const item of splitHeaderValues(value)) {
      try {
        const parts = splitNameAddr(item, 'Contact');
        out.push({ uriText: parts.uriText, uri: parseUri(parts.uriText), params: parts.params });
      } catch {
        continue;
      }
    }
  }
  return out;
}

/** RPL-4: g is our contact's `expires`, else the 2xx's Expires header, else the E we relayed. */
function grantedExpiresSec(ours: ReturnedContact, headerExpires: number | undefined, relayedExpiresSec: number): number {
  const param = findParam(ours.params, 'expires');
  const fromParam = typeof param === 'string' ? deltaSeconds(param) : undefined;
  return fromParam ?? headerExpires ?? relayedExpiresSec;
}

/**
 * RPL-3, modes 0/1: our contact for a relayed contact: by contact id with contact insertion, by URI
 * (REG-5) with path insertion. Every other contact is foreign (#1516).
 */
function findOurs(config: MidRegistrarConfig, returned: readonly ReturnedContact[], relayed: RelayedContact): ReturnedContact | undefined {
  if (config.insertion === 'path') {
    const uri = safeParse(relayed.contactUri);
    return uri === undefined ? undefined : returned.find((r) => urisEqual(r.uri, uri));
  }
  return returned.find((r) => contactIdOf(config, r.uri) === relayed.contactId);
}

/** The contact id a URI carries per `contactIdIn` (FWD-3). */
function contactIdOf(config: MidRegistrarConfig, uri: SipUri): string | undefined {
  if (config.contactIdIn === 'user') return uri.user === undefined ? undefined : unescapeUriPart(uri.user);
  const id = uriParam(uri, config.contactIdParam);
  return typeof id === 'string' ? id : undefined;
}

function safeParse(text: string): SipUri | undefined {
  try {
    return parseUri(text);
  } catch {
    return undefined;
  }
}

/** The upstream registration a 2xx confirms (RPL-5, RPL-6). */
function confirmedRegistration(
  pending: PendingRelay,
  ours: ReturnedContact,
  relayedContactUri: string,
  requestedExpiresSec: number,
  grantedSec: number,
  sentAtMs: number,
  previous: UpstreamRegistration | undefined,
): UpstreamRegistration {
  const sameDialog = previous !== undefined && previous.callId === pending.callId;
  const registration: UpstreamRegistration = {
    requestUri: pending.requestUri,
    fromUri: pending.fromUri,
    toUri: pending.toUri,
    callId: pending.callId,
    highestCseq: sameDialog ? Math.max(previous.highestCseq, pending.cseq) : pending.cseq,
    contactUri: ours.uriText,
    relayedContactUri,
    requestedExpiresSec,
    grantedExpiresSec: grantedSec,
    sentAtMs,
    lapsesAtMs: sentAtMs + grantedSec * 1000,
  };
  if (pending.outboundProxy !== undefined) registration.outboundProxy = pending.outboundProxy;
  if (pending.seq !== undefined) registration.relaySeq = pending.seq;
  // DRG-9: the mid-registrar's own refresh Call-ID is kept across the registration's life.
  if (previous?.refreshCallId !== undefined) registration.refreshCallId = previous.refreshCallId;
  if (previous?.refreshCseq !== undefined) registration.refreshCseq = previous.refreshCseq;
  return registration;
}

/**
 * RPL-5: a binding created or updated by a committed relay: `expiresAt = min(now + e·1000, U)`, the
 * REGISTER's Call-ID, CSeq, flow, Path, User-Agent and q.
 */
function committedBinding(
  existing: Binding | undefined,
  pending: PendingRelay,
  relayed: RelayedContact,
  contactId: string,
  lapsesAtMs: number,
  nowMs: number,
): Binding {
  const binding: Binding = {
    contactId,
    contactUri: relayed.contactUri,
    requestedExpiresSec: relayed.requestedExpiresSec,
    expiresAtMs: Math.min(nowMs + relayed.requestedExpiresSec * 1000, lapsesAtMs),
    callId: pending.callId,
    cseq: pending.cseq,
    updatedAtMs: nowMs,
    createdAtMs: existing?.createdAtMs ?? nowMs,
    flow: pending.flow,
    path: [...pending.path],
  };
  if (relayed.displayName !== undefined) binding.displayName = relayed.displayName;
  if (relayed.q !== undefined) binding.q = relayed.q;
  if (pending.userAgent !== undefined) binding.userAgent = pending.userAgent;
  return binding;
}

/** Replaces the binding with `contactId` in place (creation order kept), or appends it. */
function upsert(bindings: Binding[], next: Binding): Binding[] {
  const index = bindings.findIndex((b) => b.contactId === next.contactId);
  if (index < 0) return [...bindings, next];
  const copy = [...bindings];
  copy[index] = next;
  return copy;
}

/** RPL-5, modes 0 and 1: one upstream registration per binding. */
function commitPerContact(
  config: MidRegistrarConfig,
  record: AorRecord,
  pending: PendingRelay,
  outcome: FinalOutcome,
  returned: readonly ReturnedContact[],
  headerExpires: number | undefined,
  nowMs: number,
  events: ReplyEvent[],
): AorRecord {
  let bindings = record.bindings;
  for (const relayed of pending.contacts) {
    const contactId = relayed.contactId as string;
    const existing = bindings.find((b) => b.contactId === contactId);
    const drop = (): void => {
      // Upstream confirmed the removal (or holds nothing): the binding ends without De-REGISTER (DRG-3).
      bindings = bindings.filter((b) => b.contactId !== contactId);
    };
    if (relayed.relayedExpiresSec === 0) {
      drop();
      continue;
    }
    const ours = findOurs(config, returned, relayed);
    if (ours === undefined) {
      events.push({ kind: CORE_METRICS.upstreamContactMissing, aor: record.aor, contactUri: relayed.upstreamContactUri ?? relayed.contactUri });
      drop();
      continue;
    }
    const g = grantedExpiresSec(ours, headerExpires, relayed.relayedExpiresSec);
    if (g === 0) {
      drop();
      continue;
    }
    const upstream = confirmedRegistration(
      pending, ours, relayed.upstreamContactUri ?? relayed.contactUri, relayed.relayedExpiresSec, g, outcome.sentAtMs, existing?.upstream,
    );
    bindings = upsert(bindings, { ...committedBinding(existing, pending, relayed, contactId, upstream.lapsesAtMs, nowMs), upstream });
  }
  return { ...record, bindings };
}

/**
 * RPL-6, mode 2: the incarnation takes U, g and the aggregated contact as returned; each REGISTER
 * contact with e > 0 becomes or updates a binding with that U, e = 0 contacts end. Without our
 * aggregated contact (RPL-3: user ESC and this incarnation's id; Δ OpenSIPS matches by substring) or
 * with g = 0, every binding of the incarnation ends without De-REGISTER.
 *
 * @returns undefined when the AoR opened another incarnation meanwhile (this relay's is closed).
 */
function commitMode2(
  config: MidRegistrarConfig,
  record: AorRecord,
  pending: PendingRelay,
  outcome: FinalOutcome,
  returned: readonly ReturnedContact[],
  headerExpires: number | undefined,
  nowMs: number,
  events: ReplyEvent[],
): AorRecord | undefined {
  const incarnationId = pending.incarnationId as string;
  const current = record.incarnation;
  if (current !== undefined && current.id !== incarnationId && isIncarnationOpen(record, nowMs)) return undefined;

  const escUser = unescapeUriPart(escapeAor(record.aor, config.atEscape));
  const ours = returned.find(
    (r) => r.uri.user !== undefined && unescapeUriPart(r.uri.user) === escUser && uriParam(r.uri, config.contactIdParam) === incarnationId,
  );
  const relayedExpiresSec = pending.aggregatedExpiresSec ?? 0;
  if (ours === undefined && relayedExpiresSec > 0) {
    events.push({ kind: CORE_METRICS.upstreamContactMissing, aor: record.aor, contactUri: pending.aggregatedContactUri ?? '' });
  }
  const g = ours === undefined ? 0 : grantedExpiresSec(ours, headerExpires, relayedExpiresSec);
  if ((ours === undefined || g === 0) && current?.id === incarnationId && confirmedAfter(current.upstream, pending, outcome)) {
    // Upstream processed this relay before one whose 2xx is already committed (relays leave in decision
    // order): the aggregated contact it removed was registered again, so only this REGISTER's own
    // removals apply; the incarnation stays registered upstream (INV-1, INV-2).
    const removed = new Set(pending.contacts.flatMap((c) => (c.requestedExpiresSec === 0 && c.contactId !== undefined ? [c.contactId] : [])));
    return { ...record, bindings: record.bindings.filter((b) => !removed.has(b.contactId)) };
  }
  if (ours === undefined || g === 0) {
    const bindings = record.bindings.filter((b) => b.incarnationId !== incarnationId);
    return current?.id === incarnationId ? withoutIncarnation({ ...record, bindings }) : { ...record, bindings };
  }

  const previous = current?.id === incarnationId ? current.upstream : undefined;
  const upstream = confirmedRegistration(
    pending, ours, pending.aggregatedContactUri ?? ours.uriText, relayedExpiresSec, g, outcome.sentAtMs, previous,
  );
  const incarnation: Incarnation = {
    id: incarnationId,
    createdAtMs: current?.id === incarnationId ? current.createdAtMs : pending.createdAtMs,
    upstream,
  };
  let bindings = record.bindings;
  for (const relayed of pending.contacts) {
    if (relayed.contactId === undefined) continue;
    const contactId = relayed.contactId;
    if (relayed.requestedExpiresSec === 0) {
      bindings = bindings.filter((b) => b.contactId !== contactId);
      continue;
    }
    const existing = bindings.find((b) => b.contactId === contactId);
    bindings = upsert(bindings, { ...committedBinding(existing, pending, relayed, contactId, upstream.lapsesAtMs, nowMs), incarnationId });
  }
  return { ...record, bindings, incarnation };
}
