import type { PendingRelay } from '../../../../functions/core/model';
import { collectEndedWork } from '../../../../functions/core/timed-work/collect-ended-work';
import { nextDueAtMs } from '../../../../functions/core/timed-work/next-due';
import type { DeregisterWorkState, TimedWorkRecord } from '../../../../functions/core/timed-work/timed-work-types';
import { makeBinding, makeConfig, makeRecord, makeRelay, makeUpstream } from './record-fixtures';

const OUR_CONTACT = 'sip:alice@203.0.113.10:5060;ctid=11';

/** A binding (ctid 11, U = 3600 s) and a relay refreshing it that timed out after upstream may have applied it. */
function timedOutRefresh(): TimedWorkRecord {
  const relay = makeRelay({
    createdAtMs: 3_000_000,
    deadlineAtMs: 3_015_000,
    failedAtMs: 3_010_000,
    failure: 'timeout',
    contacts: [{ contactUri: 'sip:alice@192.0.2.7:5062', requestedExpiresSec: 3600, relayedExpiresSec: 3600, contactId: '11', upstreamContactUri: OUR_CONTACT }],
  });
  return makeRecord({ bindings: [makeBinding({ requestedExpiresSec: 3600, expiresAtMs: 3_600_000, upstream: makeUpstream() })], pendingRelays: [relay] });
}

describe('collectEndedWork', () => {
  it('DRG-7: a timed-out relay of a covered contact leaves a shadow, not a De-REGISTER', () => {
    // Prepare
    const config = makeConfig();

    // Act
    const next = collectEndedWork(config, timedOutRefresh(), 3_010_000);

    // Assess
    expect(next.pendingRelays).toEqual([]);
    expect(next.deregisterWork).toEqual([]);
    expect(next.upstreamShadows?.map((shadow) => [shadow.upstream.contactUri, shadow.upstream.lapsesAtMs])).toEqual([[OUR_CONTACT, 6_600_000]]);
  });

  it('DRG-7: when the covered binding lapses at U, upstream may still hold the contact: it is De-REGISTERed', () => {
    // Prepare
    const config = makeConfig();
    const shadowed = collectEndedWork(config, timedOutRefresh(), 3_010_000);

    // Act
    const due = nextDueAtMs(config, shadowed);
    const atU = collectEndedWork(config, shadowed, 3_600_000);

    // Assess
    expect(due).toBe(3_600_000);
    expect(atU.upstreamShadows).toBeUndefined();
    expect(atU.deregisterWork).toMatchObject([{ cause: 'orphan', dueAtMs: 3_600_000, contactId: '11', upstream: { contactUri: OUR_CONTACT, callId: 'call-2', highestCseq: 1 } }]);
  });

  it('DRG-7: a later confirmed relay supersedes the shadow (its 2xx is newer upstream state)', () => {
    // Prepare
    const config = makeConfig();
    const shadowed = collectEndedWork(config, timedOutRefresh(), 3_010_000);
    shadowed.bindings[0] = makeBinding({ expiresAtMs: 3_100_000, upstream: makeUpstream({ sentAtMs: 3_040_000, lapsesAtMs: 6_640_000 }) });

    // Act
    const next = collectEndedWork(config, shadowed, 3_050_000);

    // Assess
    expect(next.upstreamShadows).toBeUndefined();
    expect(next.deregisterWork).toEqual([]);
  });

  it('DRG-1: an ended binding named by a live relay is not ended yet (GEN-3); once the relay is gone it is', () => {
    // Prepare
    const config = makeConfig();
    const relay = makeRelay({ createdAtMs: 59_000, deadlineAtMs: 74_000, contacts: [{ contactUri: 'sip:alice@192.0.2.7:5062', requestedExpiresSec: 60, relayedExpiresSec: 3600, contactId: '11', upstreamContactUri: OUR_CONTACT }] });
    const record = makeRecord({ bindings: [makeBinding({ upstream: makeUpstream() })], pendingRelays: [relay] });

    // Act
    const whilePending = collectEndedWork(config, record, 60_000);
    const afterDeadline = collectEndedWork(config, record, 74_000);

    // Assess
    expect(whilePending.bindings).toHaveLength(1);
    expect(nextDueAtMs(config, whilePending)).toBe(74_000);
    expect(afterDeadline.bindings).toEqual([]);
    expect(afterDeadline.deregisterWork.map((work) => work.workId)).toEqual(['orphan:r1:0']);
  });

  it('DRG-2: one De-REGISTER per upstream contact even if the register core queued one already', () => {
    // Prepare
    const config = makeConfig({ mode: 2 });
    const upstream = makeUpstream({ contactUri: 'sip:alice%40example.com@203.0.113.10:5060;ctid=88', relayedContactUri: 'sip:alice%40example.com@203.0.113.10:5060;ctid=88' });
    const queued: DeregisterWorkState = { workId: 'from-register-core', cause: 'incarnation-closed', upstream, dueAtMs: 60_000, attempts: 0, nextAttemptAtMs: 60_000, incarnationId: '88' };
    const record = makeRecord({
      incarnation: { id: '88', createdAtMs: 0, upstream },
      bindings: [makeBinding({ incarnationId: '88' })],
      deregisterWork: [queued],
    });

    // Act
    const next = collectEndedWork(config, record, 60_000);

    // Assess
    expect(next.deregisterWork.map((work) => work.workId)).toEqual(['from-register-core']);
    expect(next.incarnation).toBeUndefined();
  });

  describe('DRG-2: an incarnation with no binding left', () => {
    const AGGREGATED = 'sip:alice%40example.com@203.0.113.10:5060;ctid=88';
    const incarnationUpstream = makeUpstream({ contactUri: AGGREGATED, relayedContactUri: AGGREGATED, lapsesAtMs: 3_600_000 });
    /** Its bindings were swept while a relay of another device kept it open. */
    const sweptUnderRelay = (relay: Partial<PendingRelay>): TimedWorkRecord =>
      makeRecord({
        incarnation: { id: '88', createdAtMs: 0, upstream: incarnationUpstream },
        pendingRelays: [makeRelay({ mode: 2, incarnationId: '88', createdAtMs: 59_000, deadlineAtMs: 74_000, ...relay })],
      });

    it('DRG-2/INV-2: closed by a rejected relay (no trace left), it is still De-REGISTERed while now < U', () => {
      // Prepare: the relay's 403 released it (RPL-1), so the record holds the incarnation alone.
      const config = makeConfig({ mode: 2 });
      const record = makeRecord({ incarnation: { id: '88', createdAtMs: 0, upstream: incarnationUpstream } });

      // Act
      const next = collectEndedWork(config, record, 60_000);

      // Assess
      expect(next.incarnation).toBeUndefined();
      expect(next.deregisterWork).toMatchObject([{ workId: 'drg:inc:88', cause: 'incarnation-closed', dueAtMs: 60_000, incarnationId: '88', upstream: { contactUri: AGGREGATED } }]);
    });

    it('DRG-2/DRG-4: closed when its last relay failed, the De-REGISTER is due at that failure', () => {
      // Prepare: the relay carried no contact with E > 0, so DRG-7 has no orphan to take over.
      const config = makeConfig({ mode: 2 });
      const record = sweptUnderRelay({ failedAtMs: 61_000, failure: 'transport' });

      // Act
      const next = collectEndedWork(config, record, 62_000);

      // Assess
      expect(next.pendingRelays).toEqual([]);
      expect(next.deregisterWork).toMatchObject([{ workId: 'drg:inc:88', dueAtMs: 61_000, nextAttemptAtMs: 61_000 }]);
    });

    it('DRG-2: while the relay is live the incarnation stays open and nothing is due', () => {
      // Act
      const next = collectEndedWork(makeConfig({ mode: 2 }), sweptUnderRelay({}), 60_000);

      // Assess
      expect(next.incarnation?.id).toBe('88');
      expect(next.deregisterWork).toEqual([]);
    });

    it.each([
      ['DRG-3: once U passed', 2, 3_600_000],
      ['DRG-3: never in mode 0', 0, 60_000],
    ] as const)('%s it is forgotten without De-REGISTER', (_rule, mode, nowMs) => {
      // Prepare
      const record = makeRecord({ incarnation: { id: '88', createdAtMs: 0, upstream: incarnationUpstream } });

      // Act
      const next = collectEndedWork(makeConfig({ mode }), record, nowMs);

      // Assess
      expect(next.incarnation).toBeUndefined();
      expect(next.deregisterWork).toEqual([]);
    });
  });

  it('GEN-3: the input record is not modified', () => {
    // Prepare
    const record = timedOutRefresh();
    const before = JSON.stringify(record);

    // Act
    collectEndedWork(makeConfig(), record, 3_600_000);

    // Assess
    expect(JSON.stringify(record)).toBe(before);
  });
});
