/**
 * A deterministic world for the model-based tests: one AoR, 1–3 devices, the pure decision core
 * (`decideRegister`, `applyUpstreamReply`, `planTimedWork`, `applyTimedWorkOutcome`) driven like the
 * handlers drive it (decide → commit → send → report → commit), a simulated upstream registrar, and
 * the checks run after every step: INV-1, INV-2, sweep progress, and absorb/forward against a small
 * reference model of M0/M1/M2.
 */
import { parseConfig, type MidRegistrarConfig } from '../../../functions/core/config';
import { CONTRACT_VERSION, type RegisterRequest, type RelayContext, type UpstreamOutcome } from '../../../functions/core/contract';
import { type AorRecord, type Flow, validBindings } from '../../../functions/core/model';
import { createIdGenerator, seededRandomBytes, type IdGenerator } from '../../../functions/core/random';
import { decideRegister, PENDING_RELAY_GRACE_MS } from '../../../functions/core/register/decide-register';
import { applyUpstreamReply } from '../../../functions/core/reply/apply-upstream-reply';
import { applyTimedWorkOutcome } from '../../../functions/core/timed-work/apply-timed-work-outcome';
import { isRecordDeletable, nextDueAtMs } from '../../../functions/core/timed-work/next-due';
import { planTimedWork } from '../../../functions/core/timed-work/plan-timed-work';
import type { OutgoingRegister, TimedWorkOutcome } from '../../../functions/core/timed-work/timed-work-types';
import { parseUri, urisEqual } from '../../../sip-gateway/src/sip/uri';
import { contactsOfHeaders, type RegisteredContact, UpstreamRegistrarSim } from './upstream-registrar-sim';

export const AOR = 'alice@example.com';
const START_MS = 1_000_000;
/** The sweep runs at most this long after a record's due time (a scheduler tick inside its minute). */
export const MAX_SWEEP_LAG_MS = 5_000;
const CHALLENGE = 'Digest realm="example.net", nonce="n0nce", qop="auth"';

/** The configuration dimensions the tests vary. */
export interface Scenario {
  mode: 0 | 1 | 2;
  insertion: 'contact' | 'path';
  outgoingExpiresSec: number;
  /** Upstream grants at most this (less than O produces the DRG-8 anomalies). */
  maxGrantSec: number;
  withUpstreamAuth: boolean;
  trustNewContacts: boolean;
  absorbRequiresSameCallId: boolean;
  devices: number;
  seed: number;
}

/** How upstream treats one relayed REGISTER. */
export type RelayPlan =
  /** `slow`: the 2xx takes 9 s (within `upstreamTimeout`), the DRG-8 anomaly of a slow 2xx. */
  | { kind: '2xx'; deferred: boolean; slow?: boolean }
  /** `deferred`: the rejection arrives at a later `deliver` (the relay stays pending meanwhile). */
  | { kind: 'reject'; status: 401 | 403 | 503; deferred?: boolean }
  | { kind: 'timeout'; appliedUpstream: boolean }
  | { kind: 'transport-error' };

/** How upstream treats one REGISTER the mid-registrar originates. */
export type SweepPlan = '2xx' | '503' | '408' | '403' | 'timeout-applied' | 'timeout-lost' | 'challenge';

/** One step of a run. */
export type WorldEvent =
  | { kind: 'register'; device: number; expiresSec: number; newCallId: boolean; relay: RelayPlan }
  | { kind: 'query'; device: number; relay: RelayPlan }
  | { kind: 'star'; device: number; relay: RelayPlan }
  | { kind: 'deliver' }
  | { kind: 'advance'; ms: number };

/** A check that failed; the message says which rule and why. */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

interface Device {
  contactUri: string;
  flow: Flow;
  callId: string;
  cseq: number;
  callIds: number;
}

/** Reference model of one device's binding (GEN-3: valid iff now < expiresAt and now < U). */
interface RefBinding {
  expiresAtMs: number;
  lapsesAtMs: number;
  requestedExpiresSec: number;
  callId: string;
  /** When a REGISTER last refreshed it (absorbed or committed). */
  updatedAtMs: number;
  /** The upstream transmission that confirmed it last: its send time and relay order (RPL-8). */
  confirmedAtMs: number;
  confirmedSeq: number;
}

interface DeferredReply {
  context: RelayContext;
  outcome: Extract<UpstreamOutcome, { kind: 'final' }>;
  timeoutAtMs: number;
  device: number;
  event: Extract<WorldEvent, { kind: 'register' | 'query' | 'star' }>;
  relayedContacts: RegisteredContact[] | 'star';
  sentAtMs: number;
  seq: number;
}

/** Per upstream entry: until when a valid local binding covered it (INV-2). */
interface Coverage {
  coveredUntilMs?: number;
  firstUncoveredAtMs?: number;
}

export function scenarioConfig(scenario: Scenario): MidRegistrarConfig {
  return parseConfig({
    mode: scenario.mode,
    insertion: scenario.insertion,
    upstreamUri: 'sip:registrar.example.net',
    advertisedUri: 'sip:203.0.113.10:5060',
    trustedUpstreamSources: ['198.51.100.0/24'],
    tokenSecret: 'property-secret',
    outgoingExpires: scenario.outgoingExpiresSec,
    trustNewContacts: scenario.trustNewContacts,
    absorbRequiresSameCallId: scenario.absorbRequiresSameCallId,
    retryMaxAttempts: 3,
    retryBackoffBase: 2,
    retryBackoffMax: 20,
    ...(scenario.withUpstreamAuth ? { upstreamAuth: { username: 'mr', password: 'secret' } } : {}),
  });
}

export class MidRegistrarWorld {
  readonly config: MidRegistrarConfig;
  readonly upstream: UpstreamRegistrarSim;
  record: AorRecord | undefined;
  nowMs = START_MS;
  /** What the run exercised, so a test can show its random runs reach the rules it names. */
  readonly stats = { absorb: 0, forward: 0, deregister: 0, refresh: 0, orphan: 0, challenge: 0, finalFailure: 0 };
  readonly log: string[] = [];
  private readonly ids: IdGenerator;
  private readonly devices: Device[];
  private readonly ref = new Map<number, RefBinding>();
  private readonly deferred: DeferredReply[] = [];
  private readonly coverage = new Map<string, Coverage>();
  /** Upstream contacts whose De-REGISTER failed at least once (INV-2 exception). */
  private readonly troubled: string[] = [];
  private sweepCursor = 0;
  /** Relays in decision order (RPL-8 compares a star with the relays sent after it). */
  private relaySeq = 0;
  /** Mode 2: the last confirmation of the incarnation, shared by its bindings. */
  private incarnationConfirmed = { atMs: 0, seq: 0 };
  /**
   * Changes upstream applied whose 2xx was never committed (lost response, late reply): the UA was
   * told the REGISTER failed (RPL-9) and its binding stays as it was, while upstream removed it or
   * shortened it. INV-1 cannot hold for that binding until the UA's next REGISTER: a limit of REG-12
   * with an unreliable upstream, not a bug of the core.
   */
  private readonly upstreamApplied = new Set<string>();
  private readonly unacknowledged: { contactUri: string; atMs: number }[] = [];

  /**
   * @param serializeKnownRaces keep a star and other devices' relays from overlapping (see
   *   {@link MidRegistrarWorld.register}); the regression tests turn it off.
   */
  constructor(
    private readonly scenario: Scenario,
    private readonly sweepPlans: readonly SweepPlan[],
    private readonly sweepLagsMs: readonly number[],
    private readonly serializeKnownRaces = process.env.INV_SERIALIZE !== '0',
  ) {
    this.config = scenarioConfig(scenario);
    this.upstream = new UpstreamRegistrarSim(scenario.maxGrantSec);
    this.ids = createIdGenerator(seededRandomBytes(scenario.seed));
    this.devices = Array.from({ length: scenario.devices }, (_, index) => ({
      contactUri: `sip:dev${index}@192.0.2.${10 + index}:5062`,
      flow: { transport: 'udp', remoteAddress: `192.0.2.${10 + index}`, remotePort: 5062, localAddress: '10.0.0.5', localPort: 5060, gatewayId: 'gw-1' },
      callId: `dev${index}-call0`,
      cseq: 0,
      callIds: 0,
    }));
  }

  run(input: WorldEvent): void {
    // Device numbers beyond this scenario's devices wrap around, so one event list fits every scenario.
    const event = 'device' in input ? { ...input, device: input.device % this.devices.length } : input;
    this.log.push(`${this.nowMs}: ${JSON.stringify(event)}`);
    switch (event.kind) {
      case 'advance':
        this.advanceTo(this.nowMs + event.ms);
        break;
      case 'deliver':
        this.deliverDeferred();
        break;
      default:
        this.register(event);
    }
    this.check();
  }

  // ---------------------------------------------------------------- REGISTER path (handlers' order)

  private register(event: Extract<WorldEvent, { kind: 'register' | 'query' | 'star' }>): void {
    // RFC 3261 §10.2: a UA sends no new REGISTER before the previous one got its final response.
    // A star and another device's relay in flight at the same time are kept apart: when the other
    // relay was sent first, upstream may have processed it before or after the star, and no core can
    // tell which from the replies (reported as a SPEC gap; INV_SERIALIZE=0 shows it).
    for (let index = this.deferred.length - 1; index >= 0; index -= 1) {
      const outstanding = this.deferred[index];
      const serialize = this.serializeKnownRaces && (event.kind === 'star' || outstanding.event.kind === 'star');
      if (serialize || outstanding.device === event.device) this.deliverDeferredAt(index);
    }
    const device = this.devices[event.device];
    if (event.kind === 'register' && event.newCallId) {
      device.callIds += 1;
      device.callId = `dev${event.device}-call${device.callIds}`;
      device.cseq = 0;
    }
    device.cseq += 1;
    const request: RegisterRequest = {
      version: CONTRACT_VERSION,
      requestUri: 'sip:example.com',
      from: `<sip:${AOR}>;tag=t${device.cseq}`,
      to: `<sip:${AOR}>`,
      contacts: event.kind === 'register' ? [`<${device.contactUri}>;expires=${event.expiresSec}`] : event.kind === 'star' ? ['*'] : [],
      ...(event.kind === 'star' ? { expires: '0' } : {}),
      callId: device.callId,
      cseq: device.cseq,
      path: [],
      supported: [],
      hasAuthorization: false,
      flow: device.flow,
      receivedAtMs: this.nowMs,
    };
    const expected = this.referenceDecision(event, device);
    const outcome = decideRegister(this.config, request, this.record, this.nowMs, this.ids);
    const kind = outcome.decision.kind;
    if (kind === 'reject') throw new InvariantViolation(`REG: unexpected reject ${outcome.decision.response.status} ${outcome.decision.response.reason}`);
    if (kind !== expected) {
      throw new InvariantViolation(`M${this.config.mode}-2: decided ${kind}, reference model says ${expected} for ${JSON.stringify(event)}`);
    }
    if (outcome.nextRecord !== undefined) this.record = outcome.nextRecord;
    this.stats[outcome.decision.kind] += 1;
    if (outcome.decision.kind === 'absorb') {
      if (event.kind === 'register') this.refAbsorb(event.device, device.callId, event.expiresSec);
      return;
    }
    if (outcome.decision.kind !== 'forward') return;
    const contactValues = outcome.decision.relay.addHeaders.filter(([name]) => name === 'Contact').map(([, value]) => value);
    const relayed = event.kind === 'star' ? 'star' : contactsOfHeaders(contactValues);
    this.relay(event, outcome.decision.context, relayed, device);
  }

  private relay(
    event: Extract<WorldEvent, { kind: 'register' | 'query' | 'star' }>,
    context: RelayContext,
    relayed: RegisteredContact[] | 'star',
    device: Device,
  ): void {
    const sentAtMs = this.nowMs;
    const seq = ++this.relaySeq;
    const plan = event.relay;
    if (plan.kind === '2xx' || (plan.kind === 'timeout' && plan.appliedUpstream)) {
      const result = this.upstream.register(relayed, device.callId, device.cseq, sentAtMs);
      if (result.status === 200) this.upstreamApplied.add(context.relayId);
      const final: Extract<UpstreamOutcome, { kind: 'final' }> = {
        kind: 'final',
        status: result.status,
        contacts: result.status === 200 ? result.contacts : [],
        receivedAtMs: sentAtMs + 40,
        sentAtMs,
      };
      if (plan.kind === 'timeout') {
        this.advanceTo(sentAtMs + this.config.upstreamTimeoutMs);
        this.reply(context, { kind: 'timeout', atMs: this.nowMs }, event, relayed, sentAtMs, seq);
        return;
      }
      const deferred: DeferredReply = {
        context, outcome: final, timeoutAtMs: sentAtMs + this.config.upstreamTimeoutMs,
        device: 'device' in event ? event.device : 0, event, relayedContacts: relayed, sentAtMs, seq,
      };
      if (plan.deferred) {
        this.deferred.push(deferred);
        return;
      }
      this.advanceTo(sentAtMs + (plan.slow === true ? 9_000 : 40));
      this.reply(context, { ...final, receivedAtMs: this.nowMs }, event, relayed, sentAtMs, seq);
      return;
    }
    if (plan.kind === 'reject' && plan.deferred === true) {
      this.deferred.push({
        context, outcome: { kind: 'final', status: plan.status, contacts: [], receivedAtMs: sentAtMs + 40, sentAtMs },
        timeoutAtMs: sentAtMs + this.config.upstreamTimeoutMs, device: 'device' in event ? event.device : 0, event, relayedContacts: relayed, sentAtMs, seq,
      });
      return;
    }
    if (plan.kind === 'reject') {
      this.advanceTo(sentAtMs + 40);
      this.reply(context, { kind: 'final', status: plan.status, contacts: [], receivedAtMs: this.nowMs, sentAtMs }, event, relayed, sentAtMs, seq);
      return;
    }
    this.advanceTo(sentAtMs + (plan.kind === 'timeout' ? this.config.upstreamTimeoutMs : 10));
    this.reply(context, plan.kind === 'timeout' ? { kind: 'timeout', atMs: this.nowMs } : { kind: 'transport-error', atMs: this.nowMs }, event, relayed, sentAtMs, seq);
  }

  /** Reports a relay's end (register-reply), commits, and updates the reference model on a committed 2xx. */
  private reply(
    context: RelayContext,
    outcome: UpstreamOutcome,
    event: Extract<WorldEvent, { kind: 'register' | 'query' | 'star' }>,
    relayed: RegisteredContact[] | 'star',
    sentAtMs: number,
    seq: number,
  ): void {
    const result = applyUpstreamReply(this.config, context, outcome, this.record, this.nowMs, this.ids);
    if (result.nextRecord !== undefined) this.record = result.nextRecord;
    if (result.decision.kind !== 'rewrite' || outcome.kind !== 'final') {
      if (this.upstreamApplied.has(context.relayId)) {
        const changed = relayed === 'star' ? [{ uriText: '*', expiresSec: 0 }] : relayed;
        for (const contact of changed) this.unacknowledged.push({ contactUri: contact.uriText, atMs: sentAtMs });
      }
      return;
    }
    if (event.kind === 'star') this.refStar(sentAtMs, seq);
    if (event.kind !== 'register' || relayed === 'star') return;
    this.refCommit(event, relayed, outcome, sentAtMs, seq);
  }

  private deliverDeferred(): void {
    if (this.deferred.length > 0) this.deliverDeferredAt(0);
  }

  private deliverDeferredAt(index: number): void {
    const [next] = this.deferred.splice(index, 1);
    this.reply(next.context, { ...next.outcome, receivedAtMs: this.nowMs }, next.event, next.relayedContacts, next.sentAtMs, next.seq);
  }

  // ---------------------------------------------------------------- time and sweeps

  /** Moves the clock, running sweeps at due time + lag and client-transaction timeouts on the way. */
  advanceTo(targetMs: number): void {
    for (let guard = 0; guard < 2_000; guard += 1) {
      const due = this.record === undefined ? undefined : nextDueAtMs(this.config, this.record);
      const sweepAtMs = due === undefined ? Infinity : Math.max(due + this.nextLag(due), this.nowMs);
      const timeoutAtMs = Math.min(Infinity, ...this.deferred.map((d) => d.timeoutAtMs));
      const atMs = Math.min(sweepAtMs, timeoutAtMs);
      // INV-2 is judged at events; a quiet stretch could hide a registration nobody De-REGISTERed
      // until it lapsed, so the check also runs just before each upstream entry lapses.
      const probeAtMs = this.lastMomentOfUpstreamEntry();
      if (probeAtMs < Math.min(atMs, targetMs)) {
        this.nowMs = probeAtMs;
        this.check();
        continue;
      }
      if (atMs > targetMs) {
        this.nowMs = Math.max(this.nowMs, targetMs);
        return;
      }
      this.nowMs = Math.max(this.nowMs, atMs);
      if (timeoutAtMs <= sweepAtMs) {
        // RFC 3261 §17.1: the client transaction ends; a late 2xx is never seen (RPL-9).
        const index = this.deferred.findIndex((d) => d.timeoutAtMs === timeoutAtMs);
        const [expired] = this.deferred.splice(index, 1);
        this.reply(expired.context, { kind: 'timeout', atMs: this.nowMs }, expired.event, expired.relayedContacts, expired.sentAtMs, expired.seq);
      } else {
        this.sweep();
      }
      this.check();
    }
    throw new InvariantViolation(`GEN-1: the sweep made no progress by ${this.nowMs} (due ${this.record && nextDueAtMs(this.config, this.record)})`);
  }

  /** The last millisecond of the upstream entry that lapses first after now, or Infinity. */
  private lastMomentOfUpstreamEntry(): number {
    const moments = this.upstream.valid(this.nowMs).map((entry) => entry.expiresAtMs - 1).filter((atMs) => atMs > this.nowMs);
    return Math.min(Infinity, ...moments);
  }

  private lagByDue = new Map<number, number>();

  private nextLag(due: number): number {
    let lag = this.lagByDue.get(due);
    if (lag === undefined) {
      lag = this.sweepLagsMs.length === 0 ? 0 : this.sweepLagsMs[this.lagByDue.size % this.sweepLagsMs.length];
      this.lagByDue.set(due, lag);
    }
    return lag;
  }

  /** One sweep of the AoR as the sweep handler runs it: plan, commit (the claim), send, report, commit. */
  private sweep(): void {
    if (this.record === undefined) return;
    const plannedAtMs = this.nowMs;
    const plan = planTimedWork(this.config, this.record, plannedAtMs, { ids: this.ids });
    this.commitTimedWork(plan.nextRecord);
    for (const failure of plan.failures) this.troubled.push(failure.detail.contactUri);
    this.stats.finalFailure += plan.failures.length;
    if (!plan.changed && plan.sends.length === 0) {
      const due = this.record === undefined ? undefined : nextDueAtMs(this.config, this.record);
      if (due !== undefined && due <= plannedAtMs) {
        throw new InvariantViolation(`GEN-1: planning at ${plannedAtMs} changed nothing but the record is still due at ${due}`);
      }
      // The due time moved on: this sweep was early for it (lag chosen for an older due time).
      return;
    }
    for (const send of plan.sends) {
      this.stats[send.purpose] += 1;
      if (send.workId.startsWith('orphan:')) this.stats.orphan += 1;
      if (send.headers.some(([name]) => name.endsWith('Authorization'))) this.stats.challenge += 1;
      this.deliverOwnRegister(send);
    }
  }

  private commitTimedWork(next: AorRecord): void {
    this.record = isRecordDeletable(this.config, next, this.nowMs) ? undefined : next;
  }

  private deliverOwnRegister(send: OutgoingRegister): void {
    const choice = this.sweepPlans.length === 0 ? '2xx' : this.sweepPlans[this.sweepCursor++ % this.sweepPlans.length];
    const header = (name: string): string => send.headers.find(([key]) => key === name)?.[1] ?? '';
    const authorized = send.headers.some(([name]) => name === 'Authorization');
    const callId = header('Call-ID');
    const cseq = Number(header('CSeq').split(' ')[0]);
    const contacts = contactsOfHeaders([header('Contact')]);
    let outcome: TimedWorkOutcome;
    // DRG-11: upstream challenges our unauthenticated REGISTERs only when it wants credentials.
    const effective: SweepPlan = choice === 'challenge' && (authorized || !this.scenario.withUpstreamAuth) ? (authorized ? '2xx' : '403') : choice;
    switch (effective) {
      case '2xx':
      case 'timeout-applied': {
        const result = this.upstream.register(contacts, callId, cseq, this.nowMs);
        if (result.status !== 200) {
          outcome = { kind: 'failure', status: result.status };
        } else if (effective === 'timeout-applied') {
          outcome = { kind: 'timeout' };
        } else {
          const ours = result.contacts.map((value) => contactsOfHeaders([value])[0]).find((c) => urisEqual(parseUri(c.uriText), parseUri(send.contactUri)));
          outcome = ours === undefined ? { kind: '2xx', grantedExpiresSec: 0 } : { kind: '2xx', grantedExpiresSec: ours.expiresSec, contactAsReturned: ours.uriText };
        }
        break;
      }
      case 'challenge':
        outcome = { kind: 'failure', status: 401, challenge: CHALLENGE };
        break;
      case 'timeout-lost':
        outcome = { kind: 'timeout' };
        break;
      default:
        outcome = { kind: 'failure', status: Number(effective) };
    }
    if (outcome.kind !== '2xx' && send.purpose === 'deregister') this.troubled.push(send.contactUri);
    this.nowMs += 50;
    if (this.record === undefined) throw new InvariantViolation('timed work: the record vanished while a claim was in flight');
    const applied = applyTimedWorkOutcome(this.config, this.record, send.workId, send.attemptId, outcome, this.nowMs);
    this.commitTimedWork(applied.nextRecord);
    for (const failure of applied.failures) this.troubled.push(failure.detail.contactUri);
    this.stats.finalFailure += applied.failures.length;
    if (outcome.kind === '2xx' && send.purpose === 'refresh') this.refRefreshed();
  }

  // ---------------------------------------------------------------- reference model (M0/M1/M2 absorb rules)

  private refValid(index: number): RefBinding | undefined {
    const binding = this.ref.get(index);
    return binding !== undefined && this.nowMs < binding.expiresAtMs && this.nowMs < binding.lapsesAtMs ? binding : undefined;
  }

  private refValidAll(): [number, RefBinding][] {
    return [...this.ref.entries()].filter(([index]) => this.refValid(index) !== undefined);
  }

  /** REG-7, REG-8, M0-1, M1-2/M1-3, M2-2/M2-3 on the reference state. */
  private referenceDecision(event: Extract<WorldEvent, { kind: 'register' | 'query' | 'star' }>, device: Device): 'absorb' | 'forward' {
    const { config, nowMs } = this;
    if (event.kind === 'star') return 'forward';
    if (event.kind === 'query') {
      const local = !config.absorbRequiresSameCallId || this.refValidAll().some(([, b]) => b.callId === device.callId);
      return local ? 'absorb' : 'forward';
    }
    const e = event.expiresSec;
    const own = this.refValid(event.device);
    const sameCall = own !== undefined && (!config.absorbRequiresSameCallId || own.callId === device.callId);
    if (config.mode === 0) return 'forward';
    if (config.mode === 1) {
      return e > 0 && own !== undefined && sameCall && nowMs + e * 1000 + config.refreshMarginMs < own.lapsesAtMs ? 'absorb' : 'forward';
    }
    const valid = this.refValidAll();
    if (valid.length === 0) return 'forward';
    if (own === undefined && e > 0 && !config.trustNewContacts) return 'forward';
    if (own !== undefined && !sameCall) return 'forward';
    const survivors = valid.filter(([index]) => index !== event.device).map(([, b]) => b.requestedExpiresSec);
    if (e > 0) survivors.push(e);
    if (survivors.length === 0) return 'forward';
    const lapsesAtMs = Math.min(...valid.map(([, b]) => b.lapsesAtMs));
    if (e > 0 && nowMs + Math.max(...survivors) * 1000 + config.refreshMarginMs >= lapsesAtMs) return 'forward';
    return 'absorb';
  }

  /** M1-4, M2-4. */
  private refAbsorb(index: number, callId: string, e: number): void {
    const own = this.refValid(index);
    if (e === 0) {
      this.ref.delete(index);
      return;
    }
    const shared = own ?? this.refValidAll()[0][1];
    this.ref.set(index, {
      expiresAtMs: this.nowMs + e * 1000,
      lapsesAtMs: shared.lapsesAtMs,
      requestedExpiresSec: e,
      callId,
      updatedAtMs: this.nowMs,
      confirmedAtMs: shared.confirmedAtMs,
      confirmedSeq: shared.confirmedSeq,
    });
  }

  /** RPL-5, RPL-6 on the reference state. */
  private refCommit(
    event: Extract<WorldEvent, { kind: 'register' }>,
    relayed: RegisteredContact[],
    outcome: Extract<UpstreamOutcome, { kind: 'final' }>,
    sentAtMs: number,
    seq: number,
  ): void {
    const returned = outcome.contacts.map((value) => contactsOfHeaders([value])[0]);
    const device = this.devices[event.device % this.devices.length];
    const relayedContact = relayed[0];
    const ours = relayedContact === undefined ? undefined : returned.find((c) => urisEqual(parseUri(c.uriText), parseUri(relayedContact.uriText)));
    const g = relayedContact === undefined || relayedContact.expiresSec === 0 || ours === undefined ? 0 : ours.expiresSec;
    const lapsesAtMs = sentAtMs + g * 1000;
    if (this.config.mode === 2) {
      const confirmedAfter = this.incarnationConfirmed.atMs > sentAtMs || this.incarnationConfirmed.seq > seq;
      if (g === 0 && confirmedAfter && this.refValidAll().length > 0) {
        // RPL-6: upstream processed this relay before a later one that registered the aggregated
        // contact again; only this REGISTER's own removal applies.
        if (event.expiresSec === 0) this.ref.delete(event.device);
        return;
      }
      if (g === 0) {
        this.ref.clear();
        return;
      }
      this.incarnationConfirmed = { atMs: sentAtMs, seq };
      for (const [, binding] of this.refValidAll()) Object.assign(binding, { lapsesAtMs, confirmedAtMs: sentAtMs, confirmedSeq: seq });
    }
    if (event.expiresSec === 0 || g === 0) {
      this.ref.delete(event.device);
      return;
    }
    this.ref.set(event.device, {
      expiresAtMs: Math.min(this.nowMs + event.expiresSec * 1000, lapsesAtMs),
      lapsesAtMs,
      requestedExpiresSec: event.expiresSec,
      callId: device.callId,
      updatedAtMs: this.nowMs,
      confirmedAtMs: sentAtMs,
      confirmedSeq: seq,
    });
  }

  /**
   * RPL-8: upstream removed what it held when it processed the star; what relays sent after the star
   * registered again stays. Mode 2: if the incarnation was confirmed again after the star, only the
   * bindings last refreshed before the star end.
   */
  private refStar(starSentAtMs: number, starSeq: number): void {
    const later = (atMs: number, seq: number): boolean => atMs > starSentAtMs || seq > starSeq;
    const mode2Again = this.config.mode === 2 && later(this.incarnationConfirmed.atMs, this.incarnationConfirmed.seq);
    for (const [index, binding] of [...this.ref.entries()]) {
      const stays = this.config.mode === 2
        ? mode2Again && binding.updatedAtMs >= starSentAtMs
        : later(binding.confirmedAtMs, binding.confirmedSeq);
      if (!stays) this.ref.delete(index);
    }
  }

  /** DRG-9: a refresh 2xx moves U of what it covers; taken from the committed record. */
  private refRefreshed(): void {
    if (this.record === undefined) return;
    for (const [index, ref] of this.ref) {
      const uri = parseUri(this.devices[index].contactUri);
      const binding = this.record.bindings.find((b) => urisEqual(parseUri(b.contactUri), uri));
      const lapsesAtMs = binding?.upstream?.lapsesAtMs ?? (binding?.incarnationId === this.record.incarnation?.id ? this.record.incarnation?.upstream?.lapsesAtMs : undefined);
      if (lapsesAtMs !== undefined && this.refValid(index) !== undefined) {
        Object.assign(ref, { lapsesAtMs, confirmedAtMs: this.nowMs, confirmedSeq: this.relaySeq });
        if (this.config.mode === 2) this.incarnationConfirmed = { atMs: this.nowMs, seq: this.relaySeq };
      }
    }
  }

  // ---------------------------------------------------------------- invariants

  /** The upstream contact each valid binding relies on, and whether a change to it is in transit. */
  private upstreamContactsOfValidBindings(): { contactUri: string; coveredUntilMs: number; inTransit: boolean }[] {
    if (this.record === undefined) return [];
    const record = this.record;
    return validBindings(record, this.nowMs).map((binding) => {
      const upstream = binding.upstream ?? record.incarnation?.upstream;
      if (upstream === undefined) throw new InvariantViolation(`INV-1: valid binding ${binding.contactUri} has no upstream registration`);
      const uri = parseUri(upstream.contactUri);
      const pending = record.pendingRelays.some(
        (relay) =>
          relay.failedAtMs === undefined &&
          (relay.kind === 'star' ||
            (relay.incarnationId !== undefined && relay.incarnationId === binding.incarnationId) ||
            relay.contacts.some((c) => c.contactId === binding.contactId || c.contactUri === binding.contactUri)),
      );
      const unacknowledged = this.unacknowledged.some(
        (change) => change.atMs >= upstream.sentAtMs && (change.contactUri === '*' || urisEqual(parseUri(change.contactUri), uri)),
      );
      return {
        contactUri: upstream.contactUri,
        coveredUntilMs: Math.min(binding.expiresAtMs, upstream.lapsesAtMs, binding.endedAtMs ?? Infinity),
        inTransit: pending || unacknowledged,
      };
    });
  }

  check(): void {
    const covering = this.upstreamContactsOfValidBindings();
    // INV-1: every valid local binding has a valid upstream registration.
    for (const { contactUri, inTransit } of covering) {
      if (!inTransit && this.upstream.find(contactUri, this.nowMs) === undefined) {
        throw new InvariantViolation(`INV-1: at ${this.nowMs} a valid binding relies on ${contactUri}, which upstream does not hold`);
      }
    }
    // Reference model: the valid devices are the same.
    const validUris = this.record === undefined ? [] : validBindings(this.record, this.nowMs).map((b) => b.contactUri).sort();
    const refUris = this.refValidAll().map(([index]) => this.devices[index].contactUri).sort();
    if (JSON.stringify(validUris) !== JSON.stringify(refUris)) {
      throw new InvariantViolation(`GEN-3: at ${this.nowMs} valid bindings ${JSON.stringify(validUris)}, reference model ${JSON.stringify(refUris)}`);
    }
    if (this.config.mode === 0) return;
    // INV-2: an upstream registration does not outlive its last local binding by more than the bound.
    const boundMs = this.config.deregisterBoundMs + this.config.upstreamTimeoutMs + MAX_SWEEP_LAG_MS;
    for (const entry of this.upstream.valid(this.nowMs)) {
      const key = `${entry.uriText}#${entry.createdAtMs}`;
      const state = this.coverage.get(key) ?? {};
      const covers = covering.filter((c) => urisEqual(parseUri(c.contactUri), entry.uri));
      if (covers.length > 0) {
        state.coveredUntilMs = Math.max(...covers.map((c) => c.coveredUntilMs));
        delete state.firstUncoveredAtMs;
        this.coverage.set(key, state);
        continue;
      }
      state.firstUncoveredAtMs ??= this.nowMs;
      this.coverage.set(key, state);
      // Never covered: the relay that made it ended without commit; DRG-7 runs from its deadline.
      const endedAtMs = state.coveredUntilMs === undefined
        ? entry.createdAtMs + this.config.upstreamTimeoutMs + PENDING_RELAY_GRACE_MS
        : Math.min(state.coveredUntilMs, state.firstUncoveredAtMs);
      const exempt = this.troubled.some((uri) => urisEqual(parseUri(uri), entry.uri));
      if (!exempt && this.nowMs > endedAtMs + boundMs) {
        throw new InvariantViolation(
          `INV-2: at ${this.nowMs} upstream still holds ${entry.uriText} (expires ${entry.expiresAtMs}); its last local binding ended at ${endedAtMs}`,
        );
      }
    }
  }
}
