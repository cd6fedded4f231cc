import { createIdGenerator, seededRandomBytes } from '../../../../functions/core/random';
import { applyTimedWorkOutcome } from '../../../../functions/core/timed-work/apply-timed-work-outcome';
import { parseDigestChallenge, digestAuthorization } from '../../../../functions/core/timed-work/digest';
import { nextDueAtMs } from '../../../../functions/core/timed-work/next-due';
import { planTimedWork } from '../../../../functions/core/timed-work/plan-timed-work';
import type { OutgoingRegister, TimedWorkFailure, TimedWorkOutcome, TimedWorkRecord } from '../../../../functions/core/timed-work/timed-work-types';
import type { MidRegistrarConfig } from '../../../../functions/core/config';
import { AOR, makeBinding, makeConfig, makeRecord, makeRelay, makeUpstream } from './record-fixtures';

const CHALLENGE = 'Digest realm="example.net", nonce="abc123", qop="auth", algorithm=MD5';

function header(send: OutgoingRegister, name: string): string | undefined {
  return send.headers.find(([key]) => key === name)?.[1];
}

function mode1Record(): TimedWorkRecord {
  return makeRecord({ bindings: [makeBinding({ upstream: makeUpstream() })] });
}

/**
 * Drives one work item of a record through a scripted sequence of outcomes, each reported 100 ms after
 * its send, planning at each due time. Returns the send times, the sends and the final failures.
 */
function drive(config: MidRegistrarConfig, start: TimedWorkRecord, outcomes: TimedWorkOutcome[], startMs: number) {
  const deps = { ids: createIdGenerator(seededRandomBytes(11)) };
  let record = start;
  let nowMs = startMs;
  const sentAtMs: number[] = [];
  const sends: OutgoingRegister[] = [];
  const failures: TimedWorkFailure[] = [];
  for (const outcome of outcomes) {
    const plan = planTimedWork(config, record, nowMs, deps);
    record = plan.nextRecord;
    failures.push(...plan.failures);
    if (plan.sends.length === 0) break;
    const [send] = plan.sends;
    sentAtMs.push(nowMs);
    sends.push(send);
    const applied = applyTimedWorkOutcome(config, record, send.workId, send.attemptId, outcome, nowMs + 100);
    record = applied.nextRecord;
    failures.push(...applied.failures);
    const due = nextDueAtMs(config, record);
    if (due === undefined) break;
    nowMs = Math.max(due, nowMs + 100);
  }
  return { record, sentAtMs, sends, failures };
}

describe('applyTimedWorkOutcome', () => {
  describe('DRG-6 retries', () => {
    it('DRG-6: 503, 503, 200 — gaps of 5 s and 10 s, then the work ends', () => {
      // Prepare
      const config = makeConfig();

      // Act
      const run = drive(config, mode1Record(), [{ kind: 'failure', status: 503 }, { kind: 'failure', status: 503 }, { kind: '2xx' }], 60_000);

      // Assess
      expect(run.sentAtMs).toEqual([60_000, 65_100, 75_200]);
      expect(run.failures).toEqual([]);
      expect(run.record.deregisterWork).toEqual([]);
    });

    it('DRG-6: five failed attempts end with one deregister_failed and a dead letter naming AoR and contact', () => {
      // Prepare
      const config = makeConfig();
      const outcomes: TimedWorkOutcome[] = [{ kind: 'timeout' }, { kind: 'transport-error' }, { kind: 'failure', status: 408 }, { kind: 'failure', status: 500 }, { kind: 'failure', status: 503 }];

      // Act
      const run = drive(config, mode1Record(), outcomes, 60_000);

      // Assess
      expect(run.sends).toHaveLength(5);
      expect(run.sentAtMs.slice(1).map((t, i) => t - run.sentAtMs[i] - 100)).toEqual([5_000, 10_000, 20_000, 40_000]);
      expect(run.failures).toEqual([{
        metric: 'deregister_failed',
        aor: AOR,
        kind: 'deregister',
        atMs: run.sentAtMs[4] + 100,
        detail: { workId: 'drg:11', contactUri: 'sip:alice@203.0.113.10:5060;ctid=11', attempts: 5, lastFailure: '503', contactId: '11' },
      }]);
      expect(run.record.deregisterWork).toEqual([]);
    });

    it.each([302, 403, 404, 486, 603])('DRG-6: %d is a final failure at once', (status) => {
      // Prepare
      const config = makeConfig();

      // Act
      const run = drive(config, mode1Record(), [{ kind: 'failure', status }, { kind: '2xx' }], 60_000);

      // Assess
      expect(run.sends).toHaveLength(1);
      expect(run.failures.map((f) => f.metric)).toEqual(['deregister_failed']);
    });

    it('DRG-6: Retry-After is used when larger than the backoff and within the max; otherwise ignored', () => {
      // Prepare
      const config = makeConfig();

      // Act
      const honoured = drive(config, mode1Record(), [{ kind: 'failure', status: 503, retryAfterSec: 60 }, { kind: '2xx' }], 60_000);
      const tooLong = drive(config, mode1Record(), [{ kind: 'failure', status: 503, retryAfterSec: 301 }, { kind: '2xx' }], 60_000);
      const shorter = drive(config, mode1Record(), [{ kind: 'failure', status: 503, retryAfterSec: 1 }, { kind: '2xx' }], 60_000);

      // Assess
      expect(honoured.sentAtMs).toEqual([60_000, 120_100]);
      expect(tooLong.sentAtMs).toEqual([60_000, 65_100]);
      expect(shorter.sentAtMs).toEqual([60_000, 65_100]);
    });

    it('DRG-6: backoff is capped at retryBackoffMax', () => {
      // Prepare
      const config = makeConfig({ retryMaxAttempts: 4, retryBackoffBase: 100, retryBackoffMax: 250 });
      const outcomes: TimedWorkOutcome[] = [{ kind: 'timeout' }, { kind: 'timeout' }, { kind: 'timeout' }, { kind: 'timeout' }];

      // Act
      const run = drive(config, mode1Record(), outcomes, 60_000);

      // Assess
      expect(run.sentAtMs.slice(1).map((t, i) => t - run.sentAtMs[i] - 100)).toEqual([100_000, 200_000, 250_000]);
      expect(run.failures).toHaveLength(1);
    });

    it('DRG-6: an outcome for an attempt no longer in flight is ignored', () => {
      // Prepare
      const config = makeConfig();
      const plan = planTimedWork(config, mode1Record(), 60_000, { ids: createIdGenerator(seededRandomBytes(1)) });

      // Act
      const result = applyTimedWorkOutcome(config, plan.nextRecord, plan.sends[0].workId, 'some-other-attempt', { kind: '2xx' }, 60_100);

      // Assess
      expect(result.changed).toBe(false);
      expect(result.nextRecord).toBe(plan.nextRecord);
    });
  });

  describe('DRG-11 digest', () => {
    const withAuth = () => makeConfig({ upstreamAuth: { username: 'mr', password: 's3cret' } });

    it('DRG-11: a 401 is answered once in the same attempt, with Authorization and the next CSeq', () => {
      // Prepare
      const config = withAuth();

      // Act
      const run = drive(config, mode1Record(), [{ kind: 'failure', status: 401, challenge: CHALLENGE }, { kind: '2xx' }], 60_000);
      const [first, answer] = run.sends;
      const authorization = header(answer, 'Authorization')!;
      const cnonce = /cnonce="([^"]+)"/.exec(authorization)![1];
      const expected = digestAuthorization(parseDigestChallenge(CHALLENGE)!, { username: 'mr', password: 's3cret' }, { method: 'REGISTER', uri: answer.requestUri, cnonce, nonceCount: 1 });

      // Assess
      expect(header(first, 'Authorization')).toBeUndefined();
      expect(run.sentAtMs).toEqual([60_000, 60_100]);
      expect(header(answer, 'CSeq')).toBe('9 REGISTER');
      expect(authorization).toBe(expected);
      expect(run.failures).toEqual([]);
      expect(run.record.deregisterWork).toEqual([]);
    });

    it('DRG-11: a 407 is answered with Proxy-Authorization', () => {
      // Prepare
      const config = withAuth();

      // Act
      const run = drive(config, mode1Record(), [{ kind: 'failure', status: 407, challenge: CHALLENGE }, { kind: '2xx' }], 60_000);

      // Assess
      expect(header(run.sends[1], 'Proxy-Authorization')).toMatch(/^Digest username="mr"/);
    });

    it('DRG-11: a second challenge in the same attempt is a final failure', () => {
      // Prepare
      const config = withAuth();
      const challenge: TimedWorkOutcome = { kind: 'failure', status: 401, challenge: CHALLENGE };

      // Act
      const run = drive(config, mode1Record(), [challenge, challenge, { kind: '2xx' }], 60_000);

      // Assess
      expect(run.sends).toHaveLength(2);
      expect(run.failures.map((f) => [f.metric, f.detail.lastFailure])).toEqual([['deregister_failed', '401']]);
    });

    it('DRG-11: without upstreamAuth (or for another realm) a 401 fails the work finally; no credentials are ever sent', () => {
      // Prepare
      const noAuth = makeConfig();
      const otherRealm = makeConfig({ upstreamAuth: { username: 'mr', password: 's3cret', realm: 'elsewhere' } });
      const challenge: TimedWorkOutcome = { kind: 'failure', status: 401, challenge: CHALLENGE };

      // Act
      const runs = [drive(noAuth, mode1Record(), [challenge, { kind: '2xx' }], 60_000), drive(otherRealm, mode1Record(), [challenge, { kind: '2xx' }], 60_000)];

      // Assess
      expect(runs.map((run) => run.sends.length)).toEqual([1, 1]);
      expect(runs.map((run) => run.failures.length)).toEqual([1, 1]);
      expect(runs.flatMap((run) => run.sends).every((send) => send.headers.every(([name]) => !/authorization/i.test(name)))).toBe(true);
    });
  });

  describe('DRG-10 path insertion overlap', () => {
    const uaUri = 'sip:alice@192.0.2.7:5062';

    function pathRecord(): TimedWorkRecord {
      const upstream = makeUpstream({ contactUri: uaUri, relayedContactUri: uaUri });
      return makeRecord({ bindings: [makeBinding({ contactId: '1', contactUri: uaUri, upstream })] });
    }

    it('DRG-10: a relay committed while the De-REGISTER of its URI was in flight is followed by a refresh', () => {
      // Prepare
      const config = makeConfig({ insertion: 'path' });
      const deps = { ids: createIdGenerator(seededRandomBytes(5)) };
      const plan = planTimedWork(config, pathRecord(), 60_000, deps);
      const [deregister] = plan.sends;
      // While the De-REGISTER is on the wire the UA registers again; the relay's 2xx commits first.
      const committed = structuredClone(plan.nextRecord);
      committed.bindings.push(
        makeBinding({ contactId: '2', contactUri: uaUri, expiresAtMs: 125_000, upstream: makeUpstream({ contactUri: uaUri, relayedContactUri: uaUri, sentAtMs: 60_010, lapsesAtMs: 3_660_010 }) }),
      );

      // Act
      const applied = applyTimedWorkOutcome(config, committed, deregister.workId, deregister.attemptId, { kind: '2xx' }, 60_050);
      const followUp = planTimedWork(config, applied.nextRecord, 60_050, deps);

      // Assess
      expect(nextDueAtMs(config, applied.nextRecord)).toBe(60_050);
      expect(followUp.sends).toHaveLength(1);
      expect(followUp.sends[0]).toMatchObject({ purpose: 'refresh', workId: 'refresh:2', contactUri: uaUri, expiresSec: 3600 });
      expect(header(followUp.sends[0], 'Path')).toBeDefined();
    });

    it('DRG-10: a relay still pending when the De-REGISTER ends gets its refresh once its 2xx commits', () => {
      // Prepare
      const config = makeConfig({ insertion: 'path' });
      const deps = { ids: createIdGenerator(seededRandomBytes(6)) };
      const plan = planTimedWork(config, pathRecord(), 60_000, deps);
      const [deregister] = plan.sends;
      const relayPending = structuredClone(plan.nextRecord);
      relayPending.pendingRelays.push(
        makeRelay({ createdAtMs: 60_010, deadlineAtMs: 70_010, contacts: [{ contactUri: uaUri, requestedExpiresSec: 60, relayedExpiresSec: 3600 }] }),
      );
      const applied = applyTimedWorkOutcome(config, relayPending, deregister.workId, deregister.attemptId, { kind: '2xx' }, 60_050);
      // The reply core commits the relay's 2xx: the relay goes, a binding with its upstream registration comes.
      const committed = structuredClone(applied.nextRecord);
      committed.pendingRelays = [];
      committed.bindings.push(
        makeBinding({ contactId: '2', contactUri: uaUri, expiresAtMs: 125_000, upstream: makeUpstream({ contactUri: uaUri, relayedContactUri: uaUri, sentAtMs: 60_010, lapsesAtMs: 3_660_010 }) }),
      );

      // Act
      const whilePending = planTimedWork(config, applied.nextRecord, 60_060, deps);
      const afterCommit = planTimedWork(config, committed, 60_100, deps);

      // Assess
      expect(applied.nextRecord.pathOverlaps).toEqual([{ contactUri: uaUri, fromMs: 60_000, untilMs: 60_050 }]);
      expect(whilePending.sends).toEqual([]);
      expect(afterCommit.sends.map((send) => send.purpose)).toEqual(['refresh']);
      expect(afterCommit.nextRecord.pathOverlaps).toBeUndefined();
    });

    it('DRG-10: contact insertion never overlaps (a new binding has a new contact id)', () => {
      // Prepare
      const config = makeConfig();
      const plan = planTimedWork(config, mode1Record(), 60_000, { ids: createIdGenerator(seededRandomBytes(2)) });
      const [deregister] = plan.sends;
      const committed = structuredClone(plan.nextRecord);
      committed.bindings.push(makeBinding({ contactId: '12', expiresAtMs: 125_000, upstream: makeUpstream({ sentAtMs: 60_010, lapsesAtMs: 3_660_010, contactUri: 'sip:alice@203.0.113.10:5060;ctid=12', relayedContactUri: 'sip:alice@203.0.113.10:5060;ctid=12' }) }));

      // Act
      const applied = applyTimedWorkOutcome(config, committed, deregister.workId, deregister.attemptId, { kind: '2xx' }, 60_050);

      // Assess
      expect(applied.nextRecord.refreshWork).toBeUndefined();
      expect(nextDueAtMs(config, applied.nextRecord)).toBe(125_000);
    });
  });
});
