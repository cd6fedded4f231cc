/**
 * The REGISTER decision (SPEC REG-1..12, M0-1, M1-1..4, M2-1..4, FWD-1..9, GEN-2..7).
 *
 * @remarks
 * Pure: time comes in as `nowMs` (the gateway's receipt time of the first transmission, GEN-2),
 * randomness from an {@link IdGenerator}. The caller (handler) loads the AoR record, calls
 * {@link decideRegister}, commits `nextRecord` with a conditional put on the version it read, and only
 * then sends the 200 OK (REG-10, ERR-5) or the relay (GEN-7). A version conflict means: re-decide on the
 * fresh record (GEN-5). A store failure means: answer {@link storeFailureResponse}.
 *
 * REG-12: a relay changes no binding. It only records the pending relay (and, in mode 2, opens the
 * incarnation it is for); bindings change when its 2xx is committed (`applyUpstreamReply`).
 */
import type { MidRegistrarConfig } from '../config';
import {
  CONTRACT_VERSION,
  type HeaderField,
  type LocalResponse,
  type RegisterDecision,
  type RegisterRequest,
  type RelayInstructions,
} from '../contract';
import { REGISTRAR_ERRORS, type RegistrarErrorRow, registrarErrorResponse } from '../errors';
import {
  type AorRecord,
  type Binding,
  type Incarnation,
  type Flow,
  type PendingRelay,
  type RelayKind,
  type RelayedContact,
  bindingLapsesAtMs,
  copyRecord,
  emptyAorRecord,
  isIncarnationOpen,
  isRelayLive,
  retainedIds,
  validBindings,
  withBindings,
} from '../model';
import type { IdGenerator } from '../random';
import { collectEndedWork } from '../timed-work/collect-ended-work';
import { type SipUri, parseUri, urisEqual } from '../../../sip-gateway/src/sip/uri';
import { bindingListHeaders, pathEchoField, shouldEchoPath } from './binding-list';
import { type CheckResult, type CheckedContact, type CheckedRegister, checkRegister } from './check-register';
import { evictOverLimit } from './contact-limit';
import {
  aggregatedContactUri,
  insertedContactUri,
  ourPathValue,
  pathInsertionContactValue,
  relayedContactValue,
} from './upstream-contact';

/**
 * How long after its deadline (`upstreamTimeout` after the decision) a pending relay is still
 * accepted: the gateway sends the relay only after committing it, so its own RPL-9 timer starts a
 * little later than the decision. DRG-7 takes a relay over only once this grace has passed too.
 */
export const PENDING_RELAY_GRACE_MS = 5_000;

/** What {@link decideRegister} returns. */
export interface RegisterOutcome {
  decision: RegisterDecision;
  /**
   * The record to commit before answering (absorb) or before relaying (GEN-7); absent when nothing
   * changed (reject, query answered locally, skipped duplicates).
   */
  nextRecord?: AorRecord;
  /** Contact and incarnation ids first used by this decision: claim them in the store's id index (FWD-4). */
  newContactIds: string[];
  /** The AoR (REG-2), when derivable: the key the record was (or should have been) read with. */
  aor?: string;
}

/** One contact of the REGISTER against the record (REG-5, REG-6); every plan has the same three fields. */
interface ContactPlan {
  contact: CheckedContact;
  /** The valid binding its URI matches, if any (REG-5: ended bindings never match). */
  match: Binding | undefined;
  /** REG-6: duplicate within `cseqDelay`: no change, counts as absorbed. */
  skipped: boolean;
}

/** Everything a decision about one REGISTER needs; built once. */
interface Situation {
  config: MidRegistrarConfig;
  request: RegisterRequest;
  register: CheckedRegister;
  record: AorRecord;
  nowMs: number;
  ids: IdGenerator;
  valid: Binding[];
}

/**
 * Decides what to do with one REGISTER.
 *
 * @param record the AoR's record as stored, or undefined when none is stored.
 * @param nowMs the REGISTER's receipt time (GEN-2), normally `request.receivedAtMs`.
 * @param checked `checkRegister(config, request)`, when the caller already has it (it depends on the
 *   request and the configuration only, so a service re-deciding after a conflict checks once).
 * @example
 * ```ts
 * const stored = await store.get(aorOfRequest(config, request) ?? '');
 * const { decision, nextRecord } = decideRegister(config, request, stored?.record, request.receivedAtMs, ids);
 * if (nextRecord) await store.put(nextRecord, stored?.version ?? 0, index(nextRecord)); // then answer / relay
 * ```
 */
export function decideRegister(
  config: MidRegistrarConfig,
  request: RegisterRequest,
  record: AorRecord | undefined,
  nowMs: number,
  ids: IdGenerator,
  checked: CheckResult = checkRegister(config, request),
): RegisterOutcome {
  if (!checked.ok) return reject(config, ids, checked.error, checked.extraHeaders);
  const register = checked.register;
  const current = record ?? emptyAorRecord(register.aor);
  const situation: Situation = { config, request, register, record: current, nowMs, ids, valid: validBindings(current, nowMs) };

  switch (register.kind) {
    case 'star':
      // REG-8: a valid star is always relayed (FWD-7); RPL-8 handles its 2xx.
      return relay(situation, 'star', []);
    case 'query':
      return decideQuery(situation);
    case 'contacts':
      return decideContacts(situation);
  }
}

/**
 * The AoR a REGISTER is for (REG-2), so the handler knows which record to read; undefined when it is
 * not derivable (then {@link decideRegister} with no record answers 400).
 */
export function aorOfRequest(config: MidRegistrarConfig, request: RegisterRequest): string | undefined {
  const checked = checkRegister(config, request);
  return checked.ok ? checked.register.aor : undefined;
}

/** ERR-5, RPL-10: the answer when the store fails (503 + Retry-After, no partial commit). */
export function storeFailureResponse(config: MidRegistrarConfig, ids: IdGenerator): LocalResponse {
  return registrarErrorResponse(REGISTRAR_ERRORS.serviceUnavailable, config.retryAfterMs, ids.randomTag());
}

function reject(
  config: MidRegistrarConfig,
  ids: IdGenerator,
  error: RegistrarErrorRow,
  extraHeaders?: HeaderField[],
  aor?: string,
): RegisterOutcome {
  const response = registrarErrorResponse(error, config.retryAfterMs, ids.randomTag(), extraHeaders);
  const outcome: RegisterOutcome = { decision: { kind: 'reject', response }, newContactIds: [] };
  if (aor !== undefined) outcome.aor = aor;
  return outcome;
}

/** REG-10: the local 200 OK for a record at `nowMs`. */
function okResponse(s: Situation, record: AorRecord): LocalResponse {
  const headers = bindingListHeaders(record, s.nowMs);
  if (shouldEchoPath(s.config, s.register.path, s.register.supportsPath)) headers.push(pathEchoField(s.register.path));
  return { status: 200, reason: 'OK', headers, toTag: s.ids.randomTag() };
}

/**
 * REG-7 (RFC 3261 §10.3 step 8): a query is answered locally when `absorbRequiresSameCallId` is off or
 * its Call-ID is that of a valid binding; otherwise relayed so upstream authenticates it
 * (Δ OpenSIPS answers every query with an empty 200 OK).
 */
function decideQuery(s: Situation): RegisterOutcome {
  const local = !s.config.absorbRequiresSameCallId || s.valid.some((b) => b.callId === s.request.callId);
  if (!local) return relay(s, 'query', []);
  return { decision: { kind: 'absorb', response: okResponse(s, s.record) }, newContactIds: [], aor: s.register.aor };
}

function decideContacts(s: Situation): RegisterOutcome {
  const { config, request, nowMs } = s;
  // Plain loops, no closures, Map or per-call arrays beyond the plans: this runs for every refresh.
  const bindingUris: BindingUris = [];
  const plans: ContactPlan[] = [];
  for (const contact of s.register.contacts) plans.push({ contact, match: matchingBinding(s.valid, contact, bindingUris), skipped: false });

  // REG-1 step 8, REG-6 (modes 1 and 2): CSeq order per binding with the same Call-ID.
  if (config.mode !== 0) {
    const c = request.cseq + (config.allowDupCseq ? 1 : 0);
    for (const plan of plans) {
      const b = plan.match;
      if (b === undefined || b.callId !== request.callId) continue;
      if (c < b.cseq) return reject(config, s.ids, REGISTRAR_ERRORS.badCseq, undefined, s.register.aor);
      if (c === b.cseq) {
        if (nowMs - b.updatedAtMs < config.cseqDelayMs) plan.skipped = true;
        else return reject(config, s.ids, REGISTRAR_ERRORS.badCseq, undefined, s.register.aor);
      }
    }
  }

  // REG-11: valid bindings after the REGISTER = valid − removed + new, counted in every mode.
  if (config.maxContacts > 0 && !config.forceRegistration) {
    let after = s.valid.length;
    for (const p of plans) {
      if (p.match !== undefined && p.contact.expiresSec === 0) after -= 1;
      else if (p.match === undefined && p.contact.expiresSec > 0) after += 1;
    }
    if (after > config.maxContacts) {
      return reject(config, s.ids, REGISTRAR_ERRORS.tooManyContacts, undefined, s.register.aor);
    }
  }

  // REG-9: then the mode.
  switch (config.mode) {
    case 0:
      // M0-1: every REGISTER with a contact is relayed, E = e (FWD-8).
      return relay(s, 'contacts', plans);
    case 1:
      return mode1Absorbable(s, plans) ? absorbMode1(s, plans) : relay(s, 'contacts', plans);
    case 2:
      return mode2Absorbable(s, plans) ? absorbMode2(s, plans) : relay(s, 'contacts', plans);
  }
}

/** Parsed URIs of the valid bindings by index, filled on first need; null: the stored URI does not parse. */
type BindingUris = (SipUri | null | undefined)[];

/**
 * REG-5: the first valid binding whose URI equals the contact's. Bindings are parsed only when needed: a
 * refresh usually repeats the stored Contact byte for byte, and equal texts are equal URIs.
 */
function matchingBinding(valid: readonly Binding[], contact: CheckedContact, uris: BindingUris): Binding | undefined {
  for (let i = 0; i < valid.length; i++) {
    const b = valid[i];
    if (b.contactUri === contact.uriText) return b;
    let uri = uris[i];
    if (uri === undefined) {
      uri = safeParse(b.contactUri) ?? null;
      uris[i] = uri;
    }
    if (uri !== null && urisEqual(uri, contact.uri)) return b;
  }
  return undefined;
}

/**
 * M1-2, M1-3: absorbable unless a contact (a) has e = 0, (b) matches no binding, (c) matches one with
 * another Call-ID while `absorbRequiresSameCallId`, or (d) would let upstream lapse before the UA's
 * next refresh plus the margin: absorbable iff `now + (e + m)·1000 < U` (equality relays).
 */
function mode1Absorbable(s: Situation, plans: ContactPlan[]): boolean {
  const { config, nowMs } = s;
  for (const plan of plans) {
    if (plan.skipped) continue;
    const b = plan.match;
    const e = plan.contact.expiresSec;
    if (e === 0 || b === undefined) return false;
    if (config.absorbRequiresSameCallId && b.callId !== s.request.callId) return false;
    const lapsesAtMs = bindingLapsesAtMs(b, s.record) as number;
    if (!(nowMs + e * 1000 + config.refreshMarginMs < lapsesAtMs)) return false;
  }
  return true;
}

/**
 * M2-2, M2-3: relayed if (a) no valid binding, (b) it adds a contact (unless `trustNewContacts`;
 * Δ #3193), (c) it refreshes or removes a binding with another Call-ID while
 * `absorbRequiresSameCallId`, (d) it would leave no valid binding, or (e) a contact has e > 0 and
 * `now + (max_S e_b + m)·1000 ≥ U` (Δ OpenSIPS takes the max of g − e_b, #2368).
 */
function mode2Absorbable(s: Situation, plans: ContactPlan[]): boolean {
  const { config, nowMs } = s;
  if (s.valid.length === 0) return false;
  const active = plans.filter((p) => !p.skipped);
  if (!config.trustNewContacts && active.some((p) => p.match === undefined && p.contact.expiresSec > 0)) return false;
  if (config.absorbRequiresSameCallId && active.some((p) => p.match !== undefined && p.match.callId !== s.request.callId)) {
    return false;
  }
  const survivors = survivingExpiries(s, active);
  if (survivors.length === 0) return false;
  if (active.some((p) => p.contact.expiresSec > 0)) {
    const lapsesAtMs = s.record.incarnation?.upstream?.lapsesAtMs ?? 0;
    return nowMs + Math.max(...survivors) * 1000 + config.refreshMarginMs < lapsesAtMs;
  }
  return true;
}

/**
 * M2-3: e_b of every binding in S, the AoR's valid bindings after the REGISTER: the REGISTER's e for
 * contacts it names, else the stored requested expiry; new contacts with e > 0 join S.
 */
function survivingExpiries(s: Situation, active: ContactPlan[]): number[] {
  const named = new Map<string, number>();
  for (const p of active) if (p.match !== undefined) named.set(p.match.contactId, p.contact.expiresSec);
  const expiries: number[] = [];
  for (const b of s.valid) {
    const e = named.get(b.contactId) ?? b.requestedExpiresSec;
    if (e > 0) expiries.push(e);
  }
  for (const p of active) if (p.match === undefined && p.contact.expiresSec > 0) expiries.push(p.contact.expiresSec);
  return expiries;
}

/**
 * True when two flows name the same socket pair at the same gateway. A refresh from an unchanged flow keeps
 * the stored flow object (and {@link sameStrings} the stored Path, the Call-ID and User-Agent their stored
 * strings): equal values either way, but the stored ones are already old, so a refresh adds only the few
 * objects that really changed to the long-lived heap, and the store's diff finds the rest identical.
 */
function sameFlow(a: Flow, b: Flow): boolean {
  return (
    a.remotePort === b.remotePort &&
    a.remoteAddress === b.remoteAddress &&
    a.localPort === b.localPort &&
    a.localAddress === b.localAddress &&
    a.transport === b.transport &&
    a.gatewayId === b.gatewayId &&
    a.connectionId === b.connectionId
  );
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * M1-4, M2-4: a named binding refreshed by an absorbed REGISTER (U and the upstream contact unchanged).
 *
 * Built field by field in the order of {@link Binding} (as `committedBinding` builds it), never by spread
 * and `delete`: a deleted property turns the object into a slow dictionary, and every binding in one
 * hidden class keeps the store's JSON.stringify of the record on its fast path.
 */
function refreshed(s: Situation, b: Binding, contact: CheckedContact): Binding {
  const { request } = s;
  const next: Binding = {
    contactId: b.contactId,
    contactUri: b.contactUri,
    requestedExpiresSec: contact.expiresSec,
    expiresAtMs: s.nowMs + contact.expiresSec * 1000,
    callId: request.callId === b.callId ? b.callId : request.callId,
    cseq: request.cseq,
    updatedAtMs: s.nowMs,
    createdAtMs: b.createdAtMs,
    // PTH-2: the latest flow wins (NAT rebinding); PTH-5: the Path of the last REGISTER is the Route set
    // (the checked REGISTER's own copy; records are immutable, so bindings may share it).
    flow: sameFlow(b.flow, request.flow) ? b.flow : request.flow,
    path: sameStrings(b.path, s.register.path) ? b.path : s.register.path,
  };
  if (b.displayName !== undefined) next.displayName = b.displayName;
  if (b.q !== undefined) next.q = b.q;
  // M1-4: the User-Agent of the last REGISTER (none when it sent none).
  if (request.userAgent !== undefined) next.userAgent = request.userAgent === b.userAgent ? b.userAgent : request.userAgent;
  if (b.endedAtMs !== undefined) next.endedAtMs = b.endedAtMs;
  if (b.endReason !== undefined) next.endReason = b.endReason;
  if (b.upstream !== undefined) next.upstream = b.upstream;
  if (b.incarnationId !== undefined) next.incarnationId = b.incarnationId;
  return next;
}

/** The contact of the last active plan naming binding `contactId`, if any (the last wins, REG-5). */
function refreshingContact(plans: readonly ContactPlan[], contactId: string): CheckedContact | undefined {
  let contact: CheckedContact | undefined;
  for (const p of plans) if (!p.skipped && p.match !== undefined && p.match.contactId === contactId) contact = p.contact;
  return contact;
}

function absorbOutcome(s: Situation, plans: ContactPlan[], changed: AorRecord | undefined, newContactIds: string[]): RegisterOutcome {
  let nextRecord = changed;
  // REG-11: eviction needs a limit (evictOverLimit changes nothing without one), so only then the named ids.
  if (nextRecord !== undefined && s.config.maxContacts > 0) {
    const named = new Set(newContactIds);
    for (const p of plans) if (p.match !== undefined) named.add(p.match.contactId);
    nextRecord = evictOverLimit(s.config, nextRecord, named, s.nowMs);
  }
  const response = okResponse(s, nextRecord ?? s.record);
  const outcome: RegisterOutcome = { decision: { kind: 'absorb', response }, newContactIds, aor: s.register.aor };
  if (nextRecord !== undefined) outcome.nextRecord = nextRecord;
  return outcome;
}

/** M1-4: absorbing moves expiresAt and the flow of each named binding; U is unchanged. */
function absorbMode1(s: Situation, plans: ContactPlan[]): RegisterOutcome {
  const current = s.record.bindings;
  // Copied on the first refreshed binding; none refreshed (all skipped, REG-6) means no change.
  let bindings: Binding[] | undefined;
  for (let i = 0; i < current.length; i++) {
    const contact = refreshingContact(plans, current[i].contactId);
    if (contact === undefined) continue;
    bindings ??= current.slice();
    bindings[i] = refreshed(s, current[i], contact);
  }
  if (bindings === undefined) return absorbOutcome(s, plans, undefined, []);
  return absorbOutcome(s, plans, withBindings(s.record, bindings), []);
}

/**
 * M2-4: absorbing applies every change: named bindings are refreshed, new contacts become bindings of
 * the open incarnation, e = 0 contacts end (no De-REGISTER: the incarnation stays registered upstream).
 */
function absorbMode2(s: Situation, plans: ContactPlan[]): RegisterOutcome {
  // Removing a URI the AoR does not hold changes nothing.
  const active = plans.filter((p) => !p.skipped && (p.match !== undefined || p.contact.expiresSec > 0));
  if (active.length === 0) return absorbOutcome(s, plans, undefined, []);
  const updates = new Map<string, CheckedContact>();
  for (const p of active) if (p.match !== undefined) updates.set(p.match.contactId, p.contact);
  const bindings: Binding[] = [];
  for (const b of s.record.bindings) {
    const contact = updates.get(b.contactId);
    if (contact === undefined) bindings.push(b);
    else if (contact.expiresSec > 0) bindings.push(refreshed(s, b, contact));
  }
  const taken = retainedIds(s.record);
  const newContactIds: string[] = [];
  const incarnationId = (s.record.incarnation as Incarnation).id;
  for (const p of active) {
    if (p.match !== undefined || p.contact.expiresSec === 0) continue;
    const contactId = freshId(s.ids, taken);
    newContactIds.push(contactId);
    bindings.push(newBinding(s, p.contact, contactId, incarnationId));
  }
  return absorbOutcome(s, plans, withBindings(s.record, bindings), newContactIds);
}

/** A binding of incarnation `incarnationId` created by an absorbed REGISTER (M2-4), fields in the order of {@link refreshed}. */
function newBinding(s: Situation, contact: CheckedContact, contactId: string, incarnationId: string): Binding {
  const binding: Binding = {
    contactId,
    contactUri: contact.uriText,
    requestedExpiresSec: contact.expiresSec,
    expiresAtMs: s.nowMs + contact.expiresSec * 1000,
    callId: s.request.callId,
    cseq: s.request.cseq,
    updatedAtMs: s.nowMs,
    createdAtMs: s.nowMs,
    flow: s.request.flow,
    path: s.register.path,
  };
  if (contact.displayName !== undefined) binding.displayName = contact.displayName;
  if (contact.q !== undefined) binding.q = contact.q;
  if (s.request.userAgent !== undefined) binding.userAgent = s.request.userAgent;
  binding.incarnationId = incarnationId;
  return binding;
}

/** FWD-4: a random id below 2^63 not held by any retained binding, pending relay or incarnation. */
function freshId(ids: IdGenerator, taken: Set<string>): string {
  let id = ids.randomContactId();
  while (taken.has(id)) id = ids.randomContactId();
  taken.add(id);
  return id;
}

/**
 * FWD-4: the id a relayed contact carries: its binding's, else the id a live pending relay already
 * gave the same URI (so a REGISTER sent again before the first 2xx does not leave two contacts upstream),
 * else a fresh one.
 */
function relayContactId(s: Situation, plan: ContactPlan, taken: Set<string>, fresh: string[]): string {
  if (plan.match !== undefined) return plan.match.contactId;
  for (const relayed of s.record.pendingRelays) {
    if (!isRelayLive(relayed, s.nowMs)) continue;
    for (const c of relayed.contacts) {
      if (c.contactId === undefined) continue;
      const uri = safeParse(c.contactUri);
      if (uri !== undefined && urisEqual(uri, plan.contact.uri)) return c.contactId;
    }
  }
  const id = freshId(s.ids, taken);
  fresh.push(id);
  return id;
}

function safeParse(text: string): SipUri | undefined {
  try {
    return parseUri(text);
  } catch {
    return undefined;
  }
}

/**
 * Mode 2 (M2-1): the incarnation a relay is for: the open one, else a new one with a random id. The
 * closed one it replaces is first handed to the timed work (`collectEndedWork`), so its De-REGISTER
 * (DRG-2) is queued exactly as the sweep would have queued it and never forgotten (INV-2).
 */
function incarnationForRelay(s: Situation, taken: Set<string>, fresh: string[]): { record: AorRecord; incarnationId: string } {
  const current = s.record.incarnation;
  if (current !== undefined && isIncarnationOpen(s.record, s.nowMs)) return { record: s.record, incarnationId: current.id };
  const id = freshId(s.ids, taken);
  fresh.push(id);
  const collected = current === undefined ? s.record : collectEndedWork(s.config, s.record, s.nowMs);
  return { record: { ...collected, incarnation: { id, createdAtMs: s.nowMs } }, incarnationId: id };
}

/**
 * FWD-1..9: relays the REGISTER. Records the pending relay (GEN-7) in the next record, to be committed
 * before sending.
 */
function relay(s: Situation, kind: RelayKind, plans: ContactPlan[]): RegisterOutcome {
  const { config, request, register, nowMs } = s;
  // FWD-1, RFC 3261 §16.3 step 2: a relay needs a hop left.
  if (request.maxForwards === 0) return reject(config, s.ids, REGISTRAR_ERRORS.tooManyHops, undefined, register.aor);

  const taken = retainedIds(s.record);
  const fresh: string[] = [];
  let record = s.record;
  const removeHeaders = ['Route', 'Expires', 'Path'];
  const addHeaders: HeaderField[] = [];
  const prependPath: string[] = [];
  let supported: string | undefined;
  const relayedContacts: RelayedContact[] = [];
  let incarnationId: string | undefined;
  let aggregated: { uri: string; expiresSec: number } | undefined;

  if (kind === 'star') {
    // FWD-7: `Contact: *` goes as received with `Expires: 0`, no Path added.
    addHeaders.push(['Expires', '0']);
  } else if (kind === 'contacts') {
    removeHeaders.push('Contact');
    if (config.mode === 2) {
      const opened = incarnationForRelay(s, taken, fresh);
      record = opened.record;
      incarnationId = opened.incarnationId;
      // FWD-8: E = O if the AoR keeps a valid binding after the REGISTER, else 0. A contact a live
      // relay of this incarnation is adding counts as kept: its 2xx may commit after ours, and E = 0
      // would remove upstream the aggregated contact that binding relies on (INV-1).
      const keeps = survivingExpiries(s, plans).length > 0 || pendingAdditions(record, incarnationId, plans, nowMs);
      aggregated = { uri: aggregatedContactUri(config, register.aor, incarnationId), expiresSec: keeps ? config.outgoingExpiresSec : 0 };
      addHeaders.push(['Contact', relayedContactValue(aggregated.uri, undefined, aggregated.expiresSec)]);
      for (const plan of plans) {
        const contactId = plan.match?.contactId ?? (plan.contact.expiresSec > 0 ? freshId(s.ids, taken) : undefined);
        if (contactId !== undefined && plan.match === undefined) fresh.push(contactId);
        relayedContacts.push(relayedContact(plan.contact, aggregated.expiresSec, contactId, undefined));
      }
    } else {
      for (const plan of plans) {
        const e = plan.contact.expiresSec;
        // FWD-8: mode 0 relays e (Δ OpenSIPS relays the unclamped UA value); mode 1 O, or 0 for a removal.
        const relayedExpiresSec = config.mode === 0 ? e : e > 0 ? config.outgoingExpiresSec : 0;
        const contactId = relayContactId(s, plan, taken, fresh);
        if (config.insertion === 'contact') {
          const uri = insertedContactUri(config, plan.contact.uri.user, contactId);
          addHeaders.push(['Contact', relayedContactValue(uri, plan.contact.q, relayedExpiresSec)]);
          relayedContacts.push(relayedContact(plan.contact, relayedExpiresSec, contactId, uri));
        } else {
          const c = plan.contact;
          addHeaders.push(['Contact', pathInsertionContactValue(c.displayName, c.uriText, c.params, relayedExpiresSec)]);
          relayedContacts.push(relayedContact(c, relayedExpiresSec, contactId, c.uriText));
        }
      }
      if (config.insertion === 'path') {
        // FWD-5: our Path on top, its token naming the AoR (PTH-7), and `path` in Supported.
        prependPath.push(ourPathValue(config, register.aor));
        if (!register.supportsPath) supported = [...request.supported, 'path'].join(', ');
      }
    }
  }

  const seq = (record.relayCount ?? 0) + 1;
  const pending: PendingRelay = {
    relayId: s.ids.randomId(),
    seq,
    kind,
    mode: config.mode,
    createdAtMs: nowMs,
    deadlineAtMs: nowMs + config.upstreamTimeoutMs + PENDING_RELAY_GRACE_MS,
    requestUri: config.upstreamUri,
    fromUri: register.fromUri,
    toUri: register.toUri,
    callId: request.callId,
    cseq: request.cseq,
    contacts: relayedContacts,
    flow: request.flow,
    path: [...register.path],
    echoPath: shouldEchoPath(config, register.path, register.supportsPath),
  };
  if (config.upstreamOutboundProxy !== undefined) pending.outboundProxy = config.upstreamOutboundProxy;
  if (incarnationId !== undefined) pending.incarnationId = incarnationId;
  if (aggregated !== undefined) {
    pending.aggregatedContactUri = aggregated.uri;
    pending.aggregatedExpiresSec = aggregated.expiresSec;
  }
  if (request.userAgent !== undefined) pending.userAgent = request.userAgent;

  const instructions: RelayInstructions = {
    requestUri: config.upstreamUri,
    removeHeaders,
    addHeaders,
    prependPath,
    sourceUri: config.advertisedUri,
  };
  if (config.upstreamOutboundProxy !== undefined) instructions.outboundProxy = config.upstreamOutboundProxy;
  if (supported !== undefined) instructions.supported = supported;

  const nextRecord = copyRecord(record);
  nextRecord.pendingRelays = [...record.pendingRelays, pending];
  nextRecord.relayCount = seq;
  return {
    decision: {
      kind: 'forward',
      relay: instructions,
      context: { version: CONTRACT_VERSION, aor: register.aor, relayId: pending.relayId, mode: config.mode },
    },
    nextRecord,
    newContactIds: fresh,
    aor: register.aor,
  };
}

/**
 * Mode 2: whether a live relay of the incarnation carries a contact with e > 0 that this REGISTER
 * does not remove.
 */
function pendingAdditions(record: AorRecord, incarnationId: string, plans: ContactPlan[], nowMs: number): boolean {
  const removed = plans.filter((p) => p.contact.expiresSec === 0).map((p) => p.contact.uri);
  return record.pendingRelays.some((relayed) =>
    relayed.incarnationId === incarnationId && isRelayLive(relayed, nowMs) &&
    relayed.contacts.some((c) => {
      if (c.requestedExpiresSec === 0) return false;
      const uri = safeParse(c.contactUri);
      return uri === undefined || !removed.some((r) => urisEqual(r, uri));
    }));
}

function relayedContact(
  contact: CheckedContact,
  relayedExpiresSec: number,
  contactId: string | undefined,
  upstreamContactUri: string | undefined,
): RelayedContact {
  const relayed: RelayedContact = {
    contactUri: contact.uriText,
    requestedExpiresSec: contact.expiresSec,
    relayedExpiresSec,
  };
  if (contact.displayName !== undefined) relayed.displayName = contact.displayName;
  if (contact.q !== undefined) relayed.q = contact.q;
  if (contactId !== undefined) relayed.contactId = contactId;
  if (upstreamContactUri !== undefined) relayed.upstreamContactUri = upstreamContactUri;
  return relayed;
}
