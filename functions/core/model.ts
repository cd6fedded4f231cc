/**
 * The persisted state of one Address of Record (SPEC §1, GEN-3, GEN-7, M2-1, FWD-4).
 *
 * @remarks
 * The store keeps ONE document per AoR ({@link AorRecord}) holding all its bindings, its mode 2
 * incarnation, its pending relays and its timed work. A decision reads the whole record and commits a
 * whole new one with a conditional put on the version the store returned with it (the version lives
 * beside the record in the store, not inside it), so every decision takes effect
 * atomically and "as if executed one at a time" (GEN-5) without multi-item transactions (dynalite has
 * none). A binding is a few hundred bytes; with `maxContacts` unset an AoR rarely holds more than a
 * handful, far below DynamoDB's 400 KB item limit.
 *
 * Everything here is plain JSON (numbers, strings, arrays, objects; no Date, no Map, no undefined
 * inside arrays) so the same value round-trips through DynamoDB, the embedded store and Lambda payloads.
 *
 * Times are epoch milliseconds (`…AtMs`), expiries on the wire integer seconds (`…Sec`) (GEN-2).
 *
 * Ownership: the register/reply core (functions/core/register, functions/core/reply) writes bindings,
 * incarnations and pending relays; the timed-work core (functions/core/timed-work) owns the life cycle
 * of {@link DeregisterWork}, {@link RefreshWork}, {@link PathOverlap}, {@link UpstreamShadow} and the
 * deletion of ended bindings (GEN-3). This file is the one declaration of the record's shape.
 */

/** Transports a flow can use (PTH-3). */
export type FlowTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' | 'sctp';

/**
 * The flow a request came on (SPEC §1 "flow", PTH-1..3): what is needed to send a request back to
 * the device through the NAT binding or connection it holds.
 */
export interface Flow {
  transport: FlowTransport;
  /** Source address of the request as seen by the gateway (RFC 3581 `received`). */
  remoteAddress: string;
  /** Source port (RFC 3581 `rport`). */
  remotePort: number;
  /** Local address of the gateway socket that received it. */
  localAddress: string;
  localPort: number;
  /** The gateway instance that owns the flow (DESIGN §5). */
  gatewayId: string;
  /** The TCP/TLS connection at that gateway; absent for UDP. */
  connectionId?: string;
}

/** Operating mode (CFG-1): 0 mirror, 1 contact throttling, 2 AoR throttling. */
export type Mode = 0 | 1 | 2;

/**
 * What upstream holds for us (SPEC §1 "upstream registration"): one per binding in modes 0 and 1
 * ({@link Binding.upstream}), one per incarnation in mode 2 ({@link Incarnation.upstream}).
 *
 * Everything DRG-5 (De-REGISTER) and DRG-9 (proactive refresh) need to address upstream is here.
 */
export interface UpstreamRegistration {
  /** Request-URI the confirmed relay used (`upstreamUri` at that time; DRG-5). */
  requestUri: string;
  /** Next hop the relay used (`upstreamOutboundProxy`), if any. */
  outboundProxy?: string;
  /** From URI (no tag) of the confirmed relay; DRG-5 adds a fresh tag. */
  fromUri: string;
  /** To URI of the confirmed relay. */
  toUri: string;
  /** Call-ID of the confirmed relay (mode 1: the binding's; mode 2: the incarnation's last relay). */
  callId: string;
  /** Highest CSeq seen with {@link callId}; a De-REGISTER uses this + 1 (DRG-5). */
  highestCseq: number;
  /** The contact URI exactly as upstream returned it in the 2xx (RPL-5); DRG-5 sends `<contactUri>;expires=0`. */
  contactUri: string;
  /** The contact URI as we relayed it (contact insertion: rewritten; path insertion: the UA's). */
  relayedContactUri: string;
  /** E we requested in the confirmed relay (FWD-8). */
  requestedExpiresSec: number;
  /** g: the expiry upstream granted (RPL-4). */
  grantedExpiresSec: number;
  /** sentAt: first transmission of the confirmed relay. */
  sentAtMs: number;
  /** U = sentAt + g·1000: when upstream lapses. */
  lapsesAtMs: number;
  /** Call-ID the mid-registrar generated for its own proactive refreshes (DRG-9), kept across them. */
  refreshCallId?: string;
  /** Last CSeq used with {@link refreshCallId}. */
  refreshCseq?: number;
  /** {@link PendingRelay.seq} of the relay whose 2xx confirmed it (RPL-8 orders it against a star). */
  relaySeq?: number;
}

/** Why a binding ended before its natural expiry; absent while it is valid or when it simply lapsed. */
export type BindingEndReason =
  /** REG-11 `forceRegistration` eviction: mode 1 De-REGISTERs it (DRG-1). */
  | 'evicted'
  /** Removed locally (e.g. a mode 2 absorbed `expires=0`, M2-4). */
  | 'removed';

/**
 * One UA contact of one AoR with its flow and times (SPEC §1 "binding").
 *
 * A binding is valid iff `now < expiresAtMs` and `now < U` (GEN-3, {@link isBindingValid}); U is
 * {@link upstream}`.lapsesAtMs` in modes 0 and 1 and the incarnation's in mode 2. An ended binding stays
 * in {@link AorRecord.bindings} (retained) until the timed work deleted it; it never matches again (REG-5).
 */
export interface Binding {
  /** FWD-4: random decimal integer below 2^63, unique among retained bindings, never reused. */
  contactId: string;
  /** The UA's contact URI exactly as it sent it (the Request-URI for lookup, LKP-4). */
  contactUri: string;
  /** Display name the UA sent, if any (kept for completeness; not relayed). */
  displayName?: string;
  /** q as the UA sent it (text, e.g. "0.5"), if any. */
  q?: string;
  /** e_b: the UA's requested expiry after REG-3, in seconds (M2-3, DRG-8). */
  requestedExpiresSec: number;
  /** Local expiry: the binding ends here (GEN-3). */
  expiresAtMs: number;
  /** Call-ID of the last REGISTER that created or refreshed it (REG-6). */
  callId: string;
  /** CSeq of that REGISTER (REG-6). */
  cseq: number;
  /** When it was created or last refreshed (REG-6 `cseqDelay`, REG-11 eviction order). */
  updatedAtMs: number;
  /** When it was first created; REG-10 lists bindings oldest first. */
  createdAtMs: number;
  /** Latest flow (PTH-2). */
  flow: Flow;
  /** Path URIs (full header values, in order) of the last REGISTER: its Route set (PTH-5, LKP-4). */
  path: string[];
  /** User-Agent of the last REGISTER (M1-4). */
  userAgent?: string;
  /** Set when a decision ended the binding explicitly (eviction, local removal). */
  endedAtMs?: number;
  /** Why it ended; see {@link BindingEndReason}. */
  endReason?: BindingEndReason;
  /** Modes 0 and 1: this binding's upstream registration, from the 2xx that confirmed it. */
  upstream?: UpstreamRegistration;
  /** Mode 2: the incarnation whose upstream registration covers it; another incarnation's U never applies. */
  incarnationId?: string;
}

/**
 * Mode 2 (M2-1): one upstream registration per AoR incarnation, with one aggregated contact (FWD-6).
 *
 * Created by the first relay for an AoR without an open incarnation (its {@link upstream} is absent until
 * that relay's 2xx commits). Open while the AoR has a valid binding or a pending relay for it
 * ({@link isIncarnationOpen}); once closed it is never reused: the next relay creates a new one.
 *
 * When upstream confirms the end of the aggregated contact (RPL-6 g = 0 or contact missing, RPL-8 star)
 * the reply core deletes {@link AorRecord.incarnation}. So an incarnation still in the record with
 * {@link upstream} set is registered upstream until its U, whether or not bindings of it remain
 * (e.g. its bindings were swept while a relay kept it open, and that relay then failed): closing it
 * while `now < U` needs a De-REGISTER (DRG-2).
 */
export interface Incarnation {
  /** Random decimal integer below 2^63; the `contactIdParam` of the aggregated contact. */
  id: string;
  createdAtMs: number;
  /** Upstream registration, present once a relay's 2xx committed. */
  upstream?: UpstreamRegistration;
}

/** One contact of a relayed REGISTER, as recorded with the pending relay (GEN-7). */
export interface RelayedContact {
  /** The UA's contact URI. */
  contactUri: string;
  displayName?: string;
  q?: string;
  /** e after REG-3. */
  requestedExpiresSec: number;
  /** E we relayed (FWD-8). Mode 2: the aggregated contact's E. */
  relayedExpiresSec: number;
  /** Contact insertion modes 0/1: the id of the binding it creates or refreshes (FWD-4). */
  contactId?: string;
  /** The contact URI as relayed upstream (modes 0/1; mode 2 uses {@link PendingRelay.aggregatedContactUri}). */
  upstreamContactUri?: string;
}

/** What a relay carried (REG-7, REG-8). */
export type RelayKind = 'contacts' | 'star' | 'query';

/**
 * A relay whose client transaction has not ended (GEN-7). Recorded (committed) before the REGISTER
 * is sent and kept until its 2xx is committed, its non-2xx is reported, or DRG-7 takes it over once
 * `deadlineAtMs` passed without either (then each contact with E > 0 that no valid binding covers is an
 * orphan and is De-REGISTERed with this relay's From, To, Call-ID, CSeq and contact as relayed).
 */
export interface PendingRelay {
  /** Unique within the record; named by the relay context (RPL-2: a 2xx is processed once per relay). */
  relayId: string;
  /**
   * Order of the relay among the AoR's relays ({@link AorRecord.relayCount} when it was recorded): the
   * gateway sends relays in decision order, so upstream processes them in this order too (RPL-8).
   */
  seq?: number;
  kind: RelayKind;
  /** Mode when the relay was decided. */
  mode: Mode;
  /** Decision time (the REGISTER's receipt time, GEN-2). */
  createdAtMs: number;
  /** After this, with no reply processed, the relay is an orphan (DRG-7). */
  deadlineAtMs: number;
  /** Request-URI and next hop used (DRG-5 reuses them). */
  requestUri: string;
  outboundProxy?: string;
  /** From URI (no tag) and To URI of the REGISTER. */
  fromUri: string;
  toUri: string;
  callId: string;
  cseq: number;
  /** The contacts it carried. Empty for query and star. */
  contacts: RelayedContact[];
  /** Mode 2: the incarnation it is for. */
  incarnationId?: string;
  /** Mode 2: the aggregated contact URI as relayed (FWD-6). */
  aggregatedContactUri?: string;
  /** Mode 2: E of the aggregated contact (FWD-8). */
  aggregatedExpiresSec?: number;
  /** The REGISTER's flow, Path, User-Agent, stored into bindings at commit (RPL-5, PTH-2, PTH-5). */
  flow: Flow;
  path: string[];
  userAgent?: string;
  /** Whether the 200 OK for the UA gets Path (PTH-5); decided at relay time. */
  echoPath: boolean;
  /** Set when the relay's transaction ended without a processed final response (RPL-9). */
  failedAtMs?: number;
  failure?: 'timeout' | 'transport';
}

/** Why De-REGISTER work exists (DRG-1, DRG-2, DRG-7). */
export type DeregisterCause = 'expired' | 'evicted' | 'removed' | 'incarnation-closed' | 'orphan';

/** One transmission of a timed-work item that has been claimed and not yet answered (DRG-6, DRG-9). */
export interface InFlightAttempt {
  /** Names this transmission; an outcome for another one is stale and ignored. */
  attemptId: string;
  /** GEN-2/DRG-9: when it was claimed and sent; a refresh 2xx sets U = this + g. */
  sentAtMs: number;
  /** After this, with no outcome reported, the sender is presumed dead: the attempt counts as a timeout. */
  claimUntilMs: number;
  cseq: number;
  /** Whether this transmission answered a challenge (DRG-11: once per attempt). */
  answeredChallenge: boolean;
}

/** A 401/407 challenge to answer in the same attempt (DRG-11). */
export interface PendingChallenge {
  /** 401 → Authorization, 407 → Proxy-Authorization (RFC 3261 §22.2, §22.3). */
  status: 401 | 407;
  /** The WWW-Authenticate / Proxy-Authenticate value. */
  challenge: string;
}

/** Attempt bookkeeping shared by De-REGISTERs and proactive refreshes (DRG-6). */
export interface AttemptState {
  /** Attempts started so far; a challenge answer belongs to the attempt it answers. */
  attempts: number;
  /** Earliest time of the next transmission. */
  nextAttemptAtMs: number;
  /** The claimed transmission, while one is outstanding. */
  inFlight?: InFlightAttempt;
  /** A challenge to answer with the next transmission, without starting a new attempt. */
  pendingChallenge?: PendingChallenge;
  /** Last CSeq used for this work's Call-ID; the next transmission uses this + 1 (DRG-5). */
  lastCseq: number;
  /** Last failure, for the log line and dead letter of a final failure. */
  lastFailure?: string;
}

/**
 * A De-REGISTER to send (DRG-1..7), with its attempt state (DRG-6). Shaped and driven by the timed-work
 * core; the register core only creates it for REG-11 evictions that cannot wait for the sweep (never
 * needed so far: evicted bindings are ended with `endReason: 'evicted'` and the sweep plans their
 * De-REGISTER like any ended binding). `lastCseq` is optional: work created without it starts from
 * {@link UpstreamRegistration.highestCseq}.
 */
export interface DeregisterWork extends Partial<AttemptState> {
  /** Unique within the record. */
  workId: string;
  cause: DeregisterCause;
  /** What upstream holds; DRG-5 addresses it. */
  upstream: UpstreamRegistration;
  /** Due time (DRG-4: first attempt within [due, due + deregisterBound]). */
  dueAtMs: number;
  /** Attempts made so far (DRG-6). */
  attempts: number;
  /** Earliest time of the next attempt. */
  nextAttemptAtMs: number;
  /** Binding it came from (modes 0/1) or incarnation (mode 2), for logs (DRG-6). */
  contactId?: string;
  incarnationId?: string;
}

/** What a proactive refresh keeps alive (DRG-8): one binding's registration (mode 1) or the incarnation's (mode 2). */
export type RefreshTarget = { contactId: string } | { incarnationId: string };

/** A proactive upstream refresh (DRG-8, DRG-9). */
export interface RefreshWork extends AttemptState {
  workId: string;
  target: RefreshTarget;
  /** U of the registration when the work was created; the work is moot once U moved on. */
  forLapsesAtMs: number;
  /** DRG-10: forced after a path-insertion overlap, whatever DRG-8 says. */
  forced: boolean;
  /** Set when retries gave up (DRG-9): kept until U so it is not planned again, then dropped. */
  abandoned?: boolean;
}

/**
 * DRG-10: with path insertion, a relay for `contactUri` went out while a De-REGISTER for the same
 * URI was in flight; the binding its 2xx commits gets a proactive refresh.
 */
export interface PathOverlap {
  contactUri: string;
  /** The De-REGISTER's in-flight window. */
  fromMs: number;
  untilMs: number;
}

/**
 * DRG-7: a relay that ended without a processed final response carried a contact that a valid binding
 * still covered, so nothing was orphaned then; but upstream may have applied it and now hold that
 * contact until `upstream.lapsesAtMs` (relay time + E), beyond the covering registration's U. When
 * no valid binding covers the contact any more, it is De-REGISTERed as an orphan.
 */
export interface UpstreamShadow {
  workId: string;
  /** What the relay would have registered, addressed like an orphan (DRG-7). */
  upstream: UpstreamRegistration;
  contactId?: string;
  incarnationId?: string;
}

/**
 * The whole persisted state of one AoR: one store document, committed atomically by version.
 */
export interface AorRecord {
  /** `user@host` (REG-2). */
  aor: string;
  /** Bindings, valid and retained-ended, in creation order (REG-10 lists oldest first). */
  bindings: Binding[];
  /** Mode 2 (M2-1): the current or last incarnation. */
  incarnation?: Incarnation;
  /** Relays whose transaction has not ended (GEN-7). */
  pendingRelays: PendingRelay[];
  /** De-REGISTER work not finished yet (timed-work core). */
  deregisterWork: DeregisterWork[];
  /** Relays recorded so far for this AoR; numbers {@link PendingRelay.seq}. Absent means 0. */
  relayCount?: number;
  /** Proactive upstream refreshes not finished yet (timed-work core, DRG-8, DRG-9). */
  refreshWork?: RefreshWork[];
  /** DRG-10 overlaps waiting for their relay's 2xx (timed-work core). */
  pathOverlaps?: PathOverlap[];
  /** DRG-7 contacts upstream may hold beyond the registration covering them (timed-work core). */
  upstreamShadows?: UpstreamShadow[];
}

/** Upper bound of contact ids and incarnation ids: 2^63 (FWD-4, M2-1). */
export const ID_LIMIT = 2n ** 63n;

/**
 * The U that governs a binding: its own upstream registration in modes 0/1, the incarnation's in mode 2.
 *
 * @returns U in ms, or undefined when no upstream 2xx confirmed it (then the binding is not valid).
 */
export function bindingLapsesAtMs(binding: Binding, record: AorRecord): number | undefined {
  if (binding.upstream !== undefined) return binding.upstream.lapsesAtMs;
  const incarnation = record.incarnation;
  // A binding of a closed incarnation never borrows the next one's U: that would revive it (GEN-3).
  if (incarnation === undefined || binding.incarnationId !== incarnation.id) return undefined;
  return incarnation.upstream?.lapsesAtMs;
}

/**
 * GEN-3: valid iff `now < expiresAt` and `now < U` (both strict), and not ended explicitly.
 *
 * @param lapsesAtMs U for this binding ({@link bindingLapsesAtMs}); undefined means not confirmed.
 */
export function isBindingValid(binding: Binding, lapsesAtMs: number | undefined, nowMs: number): boolean {
  return binding.endedAtMs === undefined && lapsesAtMs !== undefined && nowMs < binding.expiresAtMs && nowMs < lapsesAtMs;
}

/** The valid bindings of a record at `nowMs` (GEN-3), in creation order. */
export function validBindings(record: AorRecord | undefined, nowMs: number): Binding[] {
  const valid: Binding[] = [];
  if (record === undefined) return valid;
  // A loop, not filter with a closure: this runs several times per REGISTER.
  for (const b of record.bindings) if (isBindingValid(b, bindingLapsesAtMs(b, record), nowMs)) valid.push(b);
  return valid;
}

/**
 * GEN-4: the `expires` shown to a UA for a valid binding: `ceil((min(expiresAt, U) − now) / 1000)`.
 *
 * @example
 * ```ts
 * listedExpiresSec(59_300, 3_600_000, 0); // 59.3 s left → 60
 * ```
 */
export function listedExpiresSec(expiresAtMs: number, lapsesAtMs: number, nowMs: number): number {
  return Math.ceil((Math.min(expiresAtMs, lapsesAtMs) - nowMs) / 1000);
}

/**
 * GEN-7: a relay whose transaction has not ended (no failure reported, deadline not reached); past
 * that, DRG-7 takes it over.
 */
export function isRelayLive(relay: PendingRelay, nowMs: number): boolean {
  return relay.failedAtMs === undefined && nowMs < relay.deadlineAtMs;
}

/**
 * M2-1: the incarnation is open while the AoR has a valid binding or a pending relay for it.
 */
export function isIncarnationOpen(record: AorRecord, nowMs: number): boolean {
  const incarnation = record.incarnation;
  if (incarnation === undefined) return false;
  if (record.pendingRelays.some((r) => r.incarnationId === incarnation.id && isRelayLive(r, nowMs))) return true;
  return validBindings(record, nowMs).length > 0;
}

/**
 * Every contact id and incarnation id the record still holds (FWD-4 uniqueness among retained bindings,
 * M2-1 never reusing an incarnation): bindings, pending relay contacts, the incarnation, and those of
 * ended bindings and closed incarnations whose De-REGISTER (queued or DRG-7 shadowed) is unfinished.
 * A fresh id equal to one of those would put a new registration at the upstream contact that
 * De-REGISTER removes.
 */
export function retainedIds(record: AorRecord | undefined): Set<string> {
  const ids = new Set<string>();
  if (record === undefined) return ids;
  for (const b of record.bindings) ids.add(b.contactId);
  for (const r of record.pendingRelays) for (const c of r.contacts) if (c.contactId !== undefined) ids.add(c.contactId);
  if (record.incarnation !== undefined) ids.add(record.incarnation.id);
  for (const work of [...record.deregisterWork, ...(record.upstreamShadows ?? [])]) {
    if (work.contactId !== undefined) ids.add(work.contactId);
    if (work.incarnationId !== undefined) ids.add(work.incarnationId);
  }
  return ids;
}

/**
 * A shallow copy of the record, to set fields on before it is committed (the record itself is not changed).
 *
 * Built field by field, not as `{ ...record }`: on records the core builds, that object spread measured
 * ~0.25 µs on Node 20 against ~0.05 µs for the copies, once per absorbed or relayed REGISTER. Every field
 * of {@link AorRecord} must be copied here (model.test.ts checks it on a record with all of them set).
 */
export function copyRecord(record: AorRecord): AorRecord {
  const next: AorRecord = { aor: record.aor, bindings: record.bindings, pendingRelays: record.pendingRelays, deregisterWork: record.deregisterWork };
  if (record.incarnation !== undefined) next.incarnation = record.incarnation;
  if (record.relayCount !== undefined) next.relayCount = record.relayCount;
  if (record.refreshWork !== undefined) next.refreshWork = record.refreshWork;
  if (record.pathOverlaps !== undefined) next.pathOverlaps = record.pathOverlaps;
  if (record.upstreamShadows !== undefined) next.upstreamShadows = record.upstreamShadows;
  return next;
}

/** The record with `bindings` replaced, every other field kept ({@link copyRecord}). */
export function withBindings(record: AorRecord, bindings: Binding[]): AorRecord {
  const next = copyRecord(record);
  next.bindings = bindings;
  return next;
}

/** A fresh, empty record for an AoR seen for the first time. */
export function emptyAorRecord(aor: string): AorRecord {
  return { aor, bindings: [], pendingRelays: [], deregisterWork: [] };
}
