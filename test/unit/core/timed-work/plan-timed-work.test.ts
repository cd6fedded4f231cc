import { createIdGenerator, seededRandomBytes } from '../../../../functions/core/random';
import { applyTimedWorkOutcome } from '../../../../functions/core/timed-work/apply-timed-work-outcome';
import { isRecordDeletable, nextDueAtMs } from '../../../../functions/core/timed-work/next-due';
import { planTimedWork } from '../../../../functions/core/timed-work/plan-timed-work';
import type { OutgoingRegister, TimedWorkRecord } from '../../../../functions/core/timed-work/timed-work-types';
import { verifyPathToken } from '../../../../functions/core/token';
import { AOR, makeBinding, makeConfig, makeRecord, makeRelay, makeUpstream, SECRET, UPSTREAM } from './record-fixtures';

const deps = () => ({ ids: createIdGenerator(seededRandomBytes(7)) });

function header(send: OutgoingRegister, name: string): string | undefined {
  return send.headers.find(([key]) => key === name)?.[1];
}

/** Mode 1: one binding (e = 60, expires at 60 s) under an upstream registration sent at 0, g = 3600. */
function mode1Record(overrides: Parameters<typeof makeBinding>[0] = {}): TimedWorkRecord {
  return makeRecord({ bindings: [makeBinding({ upstream: makeUpstream(), ...overrides })] });
}

/** Mode 2: incarnation 88 (U = 3600 s) with bindings A (expires 60 s) and B (expires 120 s). */
function mode2Record(): TimedWorkRecord {
  const upstream = makeUpstream({
    contactUri: 'sip:alice%40example.com@203.0.113.10:5060;ctid=88',
    relayedContactUri: 'sip:alice%40example.com@203.0.113.10:5060;ctid=88',
    callId: 'inc-call',
    highestCseq: 4,
  });
  return makeRecord({
    incarnation: { id: '88', createdAtMs: 0, upstream },
    bindings: [
      makeBinding({ contactId: '1', contactUri: 'sip:alice@192.0.2.7:5062', expiresAtMs: 60_000, incarnationId: '88' }),
      makeBinding({ contactId: '2', contactUri: 'sip:alice@198.51.100.4', expiresAtMs: 120_000, incarnationId: '88' }),
    ],
  });
}

describe('planTimedWork', () => {
  describe('De-REGISTER', () => {
    it('DRG-1: mode 1 expiry of a binding De-REGISTERs its upstream contact', () => {
      // Prepare
      const config = makeConfig();

      // Act
      const plan = planTimedWork(config, mode1Record(), 60_000, deps());

      // Assess
      expect(plan.sends).toHaveLength(1);
      expect(plan.sends[0]).toMatchObject({ purpose: 'deregister', contactUri: 'sip:alice@203.0.113.10:5060;ctid=11', expiresSec: 0 });
      expect(plan.nextRecord.bindings).toEqual([]);
      expect(plan.changed).toBe(true);
    });

    it('DRG-5: shape — stored URIs, new From tag, Call-ID of the binding, CSeq highest+1, expires=0, Max-Forwards 70, no credentials', () => {
      // Prepare
      const config = makeConfig({ upstreamOutboundProxy: 'proxy.example.net:5070;transport=tcp' });
      const record = mode1Record({ upstream: makeUpstream({ outboundProxy: 'proxy.example.net:5070;transport=tcp' }) });

      // Act
      const [send] = planTimedWork(config, record, 60_000, deps()).sends;

      // Assess
      expect(send.requestUri).toBe(UPSTREAM);
      expect(send.outboundProxy).toBe('proxy.example.net:5070;transport=tcp');
      expect(send.sourceUri).toBe('sip:203.0.113.10:5060');
      expect(send.timeoutMs).toBe(10_000);
      expect(send.headers.map(([name]) => name)).toEqual(['From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards']);
      expect(header(send, 'From')).toMatch(/^<sip:alice@example\.com>;tag=[0-9a-f]{8,}$/);
      expect(header(send, 'To')).toBe('<sip:alice@example.com>');
      expect(header(send, 'Call-ID')).toBe('call-1');
      expect(header(send, 'CSeq')).toBe('8 REGISTER');
      expect(header(send, 'Contact')).toBe('<sip:alice@203.0.113.10:5060;ctid=11>;expires=0');
      expect(header(send, 'Max-Forwards')).toBe('70');
    });

    it('DRG-5: every attempt is a new transaction with the next CSeq and a new From tag', () => {
      // Prepare
      const config = makeConfig();
      const ids = deps();
      const first = planTimedWork(config, mode1Record(), 60_000, ids);
      const failed = applyTimedWorkOutcome(config, first.nextRecord, first.sends[0].workId, first.sends[0].attemptId, { kind: 'timeout' }, 70_000);

      // Act
      const second = planTimedWork(config, failed.nextRecord, 75_000, ids);

      // Assess
      expect(header(second.sends[0], 'CSeq')).toBe('9 REGISTER');
      expect(header(second.sends[0], 'From')).not.toBe(header(first.sends[0], 'From'));
    });

    it('DRG-2: mode 2 De-REGISTERs the aggregated contact once, when the last binding ends', () => {
      // Prepare
      const config = makeConfig({ mode: 2 });
      const record = mode2Record();

      // Act
      const afterFirst = planTimedWork(config, record, 60_000, deps());
      const afterLast = planTimedWork(config, afterFirst.nextRecord, 120_000, deps());

      // Assess
      expect(afterFirst.sends).toEqual([]);
      expect(afterFirst.nextRecord.bindings.map((b) => b.contactId)).toEqual(['2']);
      expect(afterLast.sends).toHaveLength(1);
      expect(header(afterLast.sends[0], 'Contact')).toBe('<sip:alice%40example.com@203.0.113.10:5060;ctid=88>;expires=0');
      expect(header(afterLast.sends[0], 'Call-ID')).toBe('inc-call');
      expect(header(afterLast.sends[0], 'CSeq')).toBe('5 REGISTER');
      expect(afterLast.nextRecord.incarnation).toBeUndefined();
    });

    it('DRG-3: never in mode 0', () => {
      // Prepare
      const config = makeConfig({ mode: 0 });

      // Act
      const plan = planTimedWork(config, mode1Record(), 60_000, deps());

      // Assess
      expect(plan.sends).toEqual([]);
      expect(plan.nextRecord.bindings).toEqual([]);
      expect(isRecordDeletable(config, plan.nextRecord, 60_000)).toBe(true);
    });

    it('DRG-3: never once U passed — a binding that lapsed with U, or a sweep after U', () => {
      // Prepare
      const config = makeConfig();
      const lapsedWithU = mode1Record({ expiresAtMs: 3_600_000 });
      const sweptLate = mode1Record();

      // Act
      const atU = planTimedWork(config, lapsedWithU, 3_600_000, deps());
      const afterU = planTimedWork(config, sweptLate, 3_600_000, deps());

      // Assess
      expect(atU.sends).toEqual([]);
      expect(afterU.sends).toEqual([]);
      expect(afterU.nextRecord.deregisterWork).toEqual([]);
    });

    it('DRG-1: an evicted binding (REG-11) is De-REGISTERed at once, cause kept', () => {
      // Prepare
      const config = makeConfig();
      const record = mode1Record({ endedAtMs: 5_000, endReason: 'evicted' });

      // Act
      const plan = planTimedWork(config, record, 5_000, deps());

      // Assess
      expect(plan.sends).toHaveLength(1);
      expect(plan.nextRecord.deregisterWork[0]).toMatchObject({ cause: 'evicted', dueAtMs: 5_000, contactId: '11' });
    });

    it('DRG-4: due at the binding expiry (nextDueAtMs), not earlier', () => {
      // Prepare
      const config = makeConfig();
      const record = mode1Record();

      // Act
      const due = nextDueAtMs(config, record);
      const early = planTimedWork(config, record, 59_999, deps());

      // Assess
      expect(due).toBe(60_000);
      expect(early.sends).toEqual([]);
      expect(early.changed).toBe(false);
    });

    it('DRG-4: a live relay carrying the same upstream contact is awaited, then the De-REGISTER leaves', () => {
      // Prepare
      const config = makeConfig({ insertion: 'path' });
      const upstream = makeUpstream({ contactUri: 'sip:alice@192.0.2.7:5062', relayedContactUri: 'sip:alice@192.0.2.7:5062' });
      const relay = makeRelay({
        createdAtMs: 59_000,
        deadlineAtMs: 69_000,
        contacts: [{ contactUri: 'sip:alice@192.0.2.7:5062', requestedExpiresSec: 60, relayedExpiresSec: 3600 }],
      });
      const record = makeRecord({ bindings: [makeBinding({ upstream })], pendingRelays: [relay] });

      // Act
      const whilePending = planTimedWork(config, record, 60_500, deps());
      const relayFailed = structuredClone(whilePending.nextRecord);
      relayFailed.pendingRelays[0].failedAtMs = 61_000;
      relayFailed.pendingRelays[0].failure = 'timeout';
      const afterRelay = planTimedWork(config, relayFailed, 61_000, deps());

      // Assess
      expect(whilePending.sends).toEqual([]);
      expect(nextDueAtMs(config, whilePending.nextRecord)).toBe(69_000);
      expect(afterRelay.sends).toHaveLength(1);
      expect(header(afterRelay.sends[0], 'Contact')).toBe('<sip:alice@192.0.2.7:5062>;expires=0');
    });

    it('DRG-4: cancelled when a valid binding now has that upstream contact (path insertion re-registration)', () => {
      // Prepare
      const config = makeConfig({ insertion: 'path' });
      const uaUri = 'sip:alice@192.0.2.7:5062';
      const old = makeBinding({ contactId: '1', upstream: makeUpstream({ contactUri: uaUri, relayedContactUri: uaUri }) });
      const first = planTimedWork(config, makeRecord({ bindings: [old] }), 60_000, deps());
      const withWorkQueued = structuredClone(first.nextRecord);
      // The De-REGISTER failed with 503 and waits for its retry; meanwhile the UA registered the same URI again.
      const failed = applyTimedWorkOutcome(config, withWorkQueued, first.sends[0].workId, first.sends[0].attemptId, { kind: 'failure', status: 503 }, 60_100);
      const reRegistered = structuredClone(failed.nextRecord);
      reRegistered.bindings.push(
        makeBinding({ contactId: '2', expiresAtMs: 200_000, upstream: makeUpstream({ contactUri: uaUri, relayedContactUri: uaUri, sentAtMs: 62_000, lapsesAtMs: 3_662_000 }) }),
      );

      // Act
      const retry = planTimedWork(config, reRegistered, 65_100, deps());

      // Assess
      expect(retry.sends).toEqual([]);
      expect(retry.nextRecord.deregisterWork).toEqual([]);
    });

    it('DRG-4: bound — planned at the due time the first attempt leaves within [due, due + deregisterBound]', () => {
      // Prepare
      const config = makeConfig();
      const record = mode1Record({ expiresAtMs: 3_560_000 });
      const due = nextDueAtMs(config, record)!;

      // Act
      const plan = planTimedWork(config, record, due, deps());

      // Assess
      expect(due).toBe(3_560_000);
      expect(plan.sends).toHaveLength(1);
      expect(plan.nextRecord.deregisterWork[0].dueAtMs).toBe(3_560_000);
    });
  });

  describe('orphans', () => {
    it('DRG-7: a relay of a new contact that timed out is De-REGISTERed with the relay From, To, Call-ID, CSeq+1 and contact', () => {
      // Prepare
      const config = makeConfig();
      const relay = makeRelay({
        callId: 'ua-call',
        cseq: 41,
        fromUri: 'sip:alice@example.com',
        toUri: 'sip:alice@example.com',
        failedAtMs: 10_000,
        failure: 'timeout',
        contacts: [{
          contactUri: 'sip:alice@192.0.2.7:5062',
          requestedExpiresSec: 60,
          relayedExpiresSec: 3600,
          contactId: '77',
          upstreamContactUri: 'sip:alice@203.0.113.10:5060;ctid=77',
        }],
      });

      // Act
      const plan = planTimedWork(config, makeRecord({ pendingRelays: [relay] }), 10_000, deps());

      // Assess
      expect(plan.nextRecord.pendingRelays).toEqual([]);
      expect(plan.sends).toHaveLength(1);
      expect(header(plan.sends[0], 'Call-ID')).toBe('ua-call');
      expect(header(plan.sends[0], 'CSeq')).toBe('42 REGISTER');
      expect(header(plan.sends[0], 'Contact')).toBe('<sip:alice@203.0.113.10:5060;ctid=77>;expires=0');
      expect(plan.nextRecord.deregisterWork[0]).toMatchObject({ cause: 'orphan', contactId: '77' });
    });

    it('DRG-7: a relay past its deadline without any report is taken over too; E = 0 contacts and covered ones are not', () => {
      // Prepare
      const config = makeConfig();
      const relay = makeRelay({
        deadlineAtMs: 10_000,
        contacts: [
          { contactUri: 'sip:a@192.0.2.7', requestedExpiresSec: 0, relayedExpiresSec: 0, contactId: '5', upstreamContactUri: 'sip:a@203.0.113.10:5060;ctid=5' },
          { contactUri: 'sip:alice@192.0.2.7:5062', requestedExpiresSec: 60, relayedExpiresSec: 3600, contactId: '11', upstreamContactUri: 'sip:alice@203.0.113.10:5060;ctid=11' },
          { contactUri: 'sip:b@192.0.2.8', requestedExpiresSec: 60, relayedExpiresSec: 3600, contactId: '6', upstreamContactUri: 'sip:b@203.0.113.10:5060;ctid=6' },
        ],
      });
      const record = makeRecord({ bindings: [makeBinding({ expiresAtMs: 50_000, upstream: makeUpstream() })], pendingRelays: [relay] });

      // Act
      const plan = planTimedWork(config, record, 10_000, deps());

      // Assess
      expect(plan.sends.map((send) => send.contactUri)).toEqual(['sip:b@203.0.113.10:5060;ctid=6']);
    });

    it('DRG-7: mode 2 first relay timing out orphans its aggregated contact', () => {
      // Prepare
      const config = makeConfig({ mode: 2 });
      const relay = makeRelay({
        mode: 2,
        incarnationId: '90',
        aggregatedContactUri: 'sip:alice%40example.com@203.0.113.10:5060;ctid=90',
        aggregatedExpiresSec: 3600,
        failedAtMs: 10_000,
        contacts: [{ contactUri: 'sip:alice@192.0.2.7:5062', requestedExpiresSec: 60, relayedExpiresSec: 3600 }],
      });
      const record = makeRecord({ incarnation: { id: '90', createdAtMs: 0 }, pendingRelays: [relay] });

      // Act
      const plan = planTimedWork(config, record, 10_000, deps());

      // Assess
      expect(plan.sends.map((send) => header(send, 'Contact'))).toEqual(['<sip:alice%40example.com@203.0.113.10:5060;ctid=90>;expires=0']);
      expect(plan.nextRecord.incarnation).toBeUndefined();
    });

    it('DRG-3: mode 0 relays never leave orphans', () => {
      // Prepare
      const config = makeConfig({ mode: 0 });
      const relay = makeRelay({
        mode: 0,
        failedAtMs: 10_000,
        contacts: [{ contactUri: 'sip:alice@192.0.2.7:5062', requestedExpiresSec: 60, relayedExpiresSec: 60, contactId: '3', upstreamContactUri: 'sip:alice@203.0.113.10:5060;ctid=3' }],
      });

      // Act
      const plan = planTimedWork(config, makeRecord({ pendingRelays: [relay] }), 10_000, deps());

      // Assess
      expect(plan.sends).toEqual([]);
      expect(isRecordDeletable(config, plan.nextRecord, 10_000)).toBe(true);
    });
  });

  describe('proactive refresh', () => {
    /** A binding whose expiry reaches beyond P = U − m (e.g. after upstream granted less than usual). */
    function anomalous(overrides: Parameters<typeof makeUpstream>[0] = {}): TimedWorkRecord {
      const upstream = makeUpstream({ grantedExpiresSec: 600, lapsesAtMs: 600_000, ...overrides });
      return makeRecord({ bindings: [makeBinding({ requestedExpiresSec: 300, expiresAtMs: 590_000, upstream })] });
    }

    it('DRG-8: a binding beyond U − m with e + m < g is refreshed at P; nextDueAtMs is P', () => {
      // Prepare
      const config = makeConfig();
      const record = anomalous();

      // Act
      const due = nextDueAtMs(config, record);
      const early = planTimedWork(config, record, 567_999, deps());
      const atP = planTimedWork(config, record, 568_000, deps());

      // Assess
      expect(due).toBe(568_000);
      expect(early.sends).toEqual([]);
      expect(atP.sends).toHaveLength(1);
      expect(atP.sends[0].purpose).toBe('refresh');
    });

    it('DRG-8: no refresh when the binding ends before P, or when e + m ≥ g, or while a relay for it is pending', () => {
      // Prepare
      const config = makeConfig();
      const endsBeforeP = makeRecord({ bindings: [makeBinding({ expiresAtMs: 500_000, upstream: makeUpstream({ grantedExpiresSec: 600, lapsesAtMs: 600_000 }) })] });
      const longOwnExpiry = makeRecord({ bindings: [makeBinding({ requestedExpiresSec: 580, expiresAtMs: 590_000, upstream: makeUpstream({ grantedExpiresSec: 600, lapsesAtMs: 600_000 }) })] });
      const relayPending = anomalous();
      relayPending.pendingRelays.push(makeRelay({ createdAtMs: 567_000, deadlineAtMs: 577_000, contacts: [{ contactUri: 'sip:alice@192.0.2.7:5062', requestedExpiresSec: 300, relayedExpiresSec: 3600, contactId: '11' }] }));

      // Act
      const plans = [endsBeforeP, longOwnExpiry, relayPending].map((record) => planTimedWork(config, record, 568_000, deps()));

      // Assess
      expect(plans.map((plan) => plan.sends.filter((send) => send.purpose === 'refresh').length)).toEqual([0, 0, 0]);
      expect(nextDueAtMs(config, longOwnExpiry)).toBe(590_000);
    });

    it('DRG-9: own Call-ID kept across refreshes, own CSeq, expires=O; 2xx sets U = sentAt + g', () => {
      // Prepare
      const config = makeConfig();
      const first = planTimedWork(config, anomalous(), 568_000, deps());
      const [send] = first.sends;

      // Act
      const applied = applyTimedWorkOutcome(config, first.nextRecord, send.workId, send.attemptId, { kind: '2xx', grantedExpiresSec: 600 }, 568_050);
      const upstream = applied.nextRecord.bindings[0].upstream!;

      // Assess
      expect(header(send, 'Call-ID')).not.toBe('call-1');
      expect(header(send, 'Call-ID')).toBe(upstream.refreshCallId);
      expect(header(send, 'CSeq')).toBe('1 REGISTER');
      expect(header(send, 'Contact')).toBe('<sip:alice@203.0.113.10:5060;ctid=11>;expires=3600');
      expect(upstream.lapsesAtMs).toBe(568_000 + 600_000);
      expect(upstream.sentAtMs).toBe(568_000);
      expect(applied.nextRecord.bindings[0].expiresAtMs).toBe(590_000);
      expect(applied.nextRecord.refreshWork).toBeUndefined();
    });

    it('DRG-9: the next refresh of the same registration reuses the Call-ID with the next CSeq', () => {
      // Prepare
      const config = makeConfig();
      const ids = deps();
      const first = planTimedWork(config, anomalous(), 568_000, ids);
      const applied = applyTimedWorkOutcome(config, first.nextRecord, first.sends[0].workId, first.sends[0].attemptId, { kind: '2xx', grantedExpiresSec: 600 }, 568_050);
      const absorbedLater = structuredClone(applied.nextRecord);
      absorbedLater.bindings[0].expiresAtMs = 1_150_000;

      // Act
      const due = nextDueAtMs(config, absorbedLater);
      const second = planTimedWork(config, absorbedLater, due!, ids);

      // Assess
      expect(due).toBe(1_168_000 - 32_000);
      expect(header(second.sends[0], 'Call-ID')).toBe(header(first.sends[0], 'Call-ID'));
      expect(header(second.sends[0], 'CSeq')).toBe('2 REGISTER');
    });

    it('DRG-9: a 2xx granting less shortens U; one that predates a later relay confirmation does not', () => {
      // Prepare
      const config = makeConfig();
      const first = planTimedWork(config, anomalous(), 568_000, deps());
      const [send] = first.sends;
      const relayedMeanwhile = structuredClone(first.nextRecord);
      Object.assign(relayedMeanwhile.bindings[0].upstream!, { sentAtMs: 569_000, grantedExpiresSec: 3600, lapsesAtMs: 4_169_000 });

      // Act
      const shorter = applyTimedWorkOutcome(config, first.nextRecord, send.workId, send.attemptId, { kind: '2xx', grantedExpiresSec: 30 }, 568_050);
      const stale = applyTimedWorkOutcome(config, relayedMeanwhile, send.workId, send.attemptId, { kind: '2xx', grantedExpiresSec: 600 }, 569_500);

      // Assess
      expect(shorter.nextRecord.bindings[0].upstream!.lapsesAtMs).toBe(598_000);
      expect(stale.nextRecord.bindings[0].upstream!.lapsesAtMs).toBe(4_169_000);
    });

    it('DRG-9: path insertion refreshes carry our Path with the AoR token and Supported: path', () => {
      // Prepare
      const config = makeConfig({ insertion: 'path' });

      // Act
      const [send] = planTimedWork(config, anomalous(), 568_000, deps()).sends;
      const path = header(send, 'Path')!;
      const token = /^<sip:([^@]+)@203\.0\.113\.10:5060;lr>$/.exec(path)?.[1];

      // Assess
      expect(token).toBeDefined();
      expect(verifyPathToken(SECRET, token!)).toBe(AOR);
      expect(header(send, 'Supported')).toBe('path');
    });

    it('DRG-9: failures are retried while now < U, then counted (upstream_refresh_failed); the binding lapses at U without De-REGISTER', () => {
      // Prepare
      const config = makeConfig();
      const ids = deps();
      const upstream = makeUpstream({ grantedExpiresSec: 600, lapsesAtMs: 600_000 });
      let record: TimedWorkRecord = makeRecord({ bindings: [makeBinding({ requestedExpiresSec: 300, expiresAtMs: 650_000, upstream })] });
      let nowMs = nextDueAtMs(config, record)!;
      const failures = [];
      const sentAt: number[] = [];

      // Act
      while (nowMs < 600_000) {
        const plan = planTimedWork(config, record, nowMs, ids);
        record = plan.nextRecord;
        failures.push(...plan.failures);
        for (const send of plan.sends) {
          sentAt.push(nowMs);
          const applied = applyTimedWorkOutcome(config, record, send.workId, send.attemptId, { kind: 'failure', status: 503 }, nowMs + 100);
          record = applied.nextRecord;
          failures.push(...applied.failures);
        }
        nowMs = nextDueAtMs(config, record)!;
      }
      const atU = planTimedWork(config, record, 600_000, ids);

      // Assess
      expect(sentAt).toEqual([568_000, 573_100, 583_200]);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ metric: 'upstream_refresh_failed', kind: 'upstream-refresh', aor: AOR });
      expect(failures[0].detail).toMatchObject({ attempts: 3, lastFailure: '503', contactId: '11' });
      expect(atU.sends).toEqual([]);
      expect(atU.nextRecord.bindings).toEqual([]);
      expect(isRecordDeletable(config, atU.nextRecord, 600_000)).toBe(true);
    });
  });

  describe('claims', () => {
    it('DRG-4: two sweeps planning the same record send the same work; after the claim commits, nothing more', () => {
      // Prepare
      const config = makeConfig();
      const record = mode1Record();

      // Act
      const sweepA = planTimedWork(config, record, 60_000, deps());
      const sweepB = planTimedWork(config, record, 60_000, deps());
      const afterCommit = planTimedWork(config, sweepA.nextRecord, 61_000, deps());

      // Assess
      expect(sweepA.sends.map((send) => send.workId)).toEqual(sweepB.sends.map((send) => send.workId));
      expect(afterCommit.sends).toEqual([]);
      expect(nextDueAtMs(config, sweepA.nextRecord)).toBe(60_000 + 20_000);
    });

    it('GEN-1: a claim whose sender vanished counts as a timeout and is retried after backoff', () => {
      // Prepare
      const config = makeConfig();
      const claimed = planTimedWork(config, mode1Record(), 60_000, deps()).nextRecord;

      // Act
      const afterClaim = planTimedWork(config, claimed, 80_000, deps());
      const retried = planTimedWork(config, afterClaim.nextRecord, 85_000, deps());

      // Assess
      expect(afterClaim.sends).toEqual([]);
      expect(nextDueAtMs(config, afterClaim.nextRecord)).toBe(85_000);
      expect(retried.sends).toHaveLength(1);
      expect(header(retried.sends[0], 'CSeq')).toBe('9 REGISTER');
    });
  });

  describe('GEN-3 retention', () => {
    it('GEN-3: a record is deletable once its De-REGISTER finished, not before', () => {
      // Prepare
      const config = makeConfig();
      const plan = planTimedWork(config, mode1Record(), 60_000, deps());

      // Act
      const whileInFlight = isRecordDeletable(config, plan.nextRecord, 60_000);
      const done = applyTimedWorkOutcome(config, plan.nextRecord, plan.sends[0].workId, plan.sends[0].attemptId, { kind: '2xx' }, 60_040);

      // Assess
      expect(whileInFlight).toBe(false);
      expect(isRecordDeletable(config, done.nextRecord, 60_040)).toBe(true);
      expect(nextDueAtMs(config, done.nextRecord)).toBeUndefined();
    });

    it('GEN-3: a record with a valid binding is not deletable', () => {
      // Act
      const deletable = isRecordDeletable(makeConfig(), mode1Record(), 1_000);

      // Assess
      expect(deletable).toBe(false);
    });
  });
});
