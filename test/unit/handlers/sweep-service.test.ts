import { shardOf } from '../../../functions/store/binding-store';
import { SweepService, SWEEP_METRIC } from '../../../functions/handlers/sweep-service';
import type { TimedWorkRecord } from '../../../functions/core/timed-work';
import { testBinding, testConfig, testIds, testRecord, upstreamRegistration } from '../../support/core-builders';
import { headerOf, openTempStore, RecordingObserver, ScriptedUpstream, seed } from './sweep-fixtures';

const SHARDS = 4;
const AOR = 'alice@example.com';
const SHARD = shardOf(AOR, SHARDS);

function setup(overrides: Record<string, unknown> = {}) {
  const config = testConfig({ shardCount: SHARDS, ...overrides });
  const temp = openTempStore(SHARDS);
  const upstream = new ScriptedUpstream();
  const observer = new RecordingObserver();
  const clock = { nowMs: 0 };
  const service = new SweepService({ config, store: temp.store, ids: testIds(), sender: upstream, nowMs: () => clock.nowMs, observer });
  return { config, store: temp.store, upstream, observer, clock, service, close: temp.close };
}

/** Mode 1: binding 111 (e = 60, expires at 60 s), upstream sent at 0 with g = 3600, highest CSeq 4. */
function expiringRecord(): TimedWorkRecord {
  return testRecord({ bindings: [testBinding({ upstream: upstreamRegistration({ highestCseq: 4 }) })] });
}

describe('SweepService', () => {
  let env: ReturnType<typeof setup>;
  afterEach(() => env.close());

  it('DRG-1, DRG-5: a locally expired binding is De-REGISTERed once, in the SPEC shape, then the empty record is deleted (GEN-3)', async () => {
    // Prepare
    env = setup();
    await seed(env.store, env.config, expiringRecord(), 0);
    env.clock.nowMs = 60_000;

    // Act
    const report = await env.service.sweepShard(SHARD, 60_000);

    // Assess
    expect(env.upstream.sent).toHaveLength(1);
    const [send] = env.upstream.sent;
    expect(send.purpose).toBe('deregister');
    expect(send.requestUri).toBe('sip:registrar.example.net');
    expect(headerOf(send, 'Call-ID')).toBe('c1');
    expect(headerOf(send, 'CSeq')).toBe('5 REGISTER');
    expect(headerOf(send, 'Contact')).toBe('<sip:alice@203.0.113.10:5060;ctid=111>;expires=0');
    expect(headerOf(send, 'From')).toMatch(/^<sip:alice@example\.com>;tag=\w+$/);
    expect(headerOf(send, 'To')).toBe('<sip:alice@example.com>');
    expect(headerOf(send, 'Authorization')).toBeUndefined();
    expect(headerOf(send, 'Expires')).toBeUndefined();
    expect(report).toMatchObject({ aors: 1, deregistersSent: 1, failures: 0, deleted: 1 });
    expect(await env.store.get(AOR)).toBeUndefined();
    expect(env.observer.counts.get(SWEEP_METRIC.deregisterSent)).toBe(1);
  });

  it('DRG-4: nothing leaves before the due time, and a record not yet due is not even read from the index', async () => {
    // Prepare
    env = setup();
    await seed(env.store, env.config, expiringRecord(), 0);

    // Act
    const report = await env.service.sweepShard(SHARD, 59_999);

    // Assess
    expect(env.upstream.sent).toHaveLength(0);
    expect(report.aors).toBe(0);
    expect(await env.store.get(AOR)).toBeDefined();
  });

  it('DRG-3: a binding whose upstream registration already lapsed ends without De-REGISTER and is deleted', async () => {
    // Prepare
    env = setup();
    const record = testRecord({ bindings: [testBinding({ expiresAtMs: 60_000, upstream: upstreamRegistration({ grantedExpiresSec: 30 }) })] });
    await seed(env.store, env.config, record, 0);
    env.clock.nowMs = 30_000;

    // Act
    const report = await env.service.sweepShard(SHARD, 30_000);

    // Assess
    expect(env.upstream.sent).toHaveLength(0);
    expect(report.deleted).toBe(1);
    expect(await env.store.get(AOR)).toBeUndefined();
  });

  it('DRG-6: a 503 is retried after retryBackoffBase with the next CSeq, not earlier', async () => {
    // Prepare
    env = setup();
    await seed(env.store, env.config, expiringRecord(), 0);
    env.upstream.answer({ kind: 'failure', status: 503 });
    env.clock.nowMs = 60_000;
    await env.service.sweepShard(SHARD, 60_000);

    // Act
    env.clock.nowMs = 64_999;
    await env.service.sweepShard(SHARD, 64_999);
    const beforeBackoff = env.upstream.sent.length;
    env.clock.nowMs = 65_000;
    await env.service.sweepShard(SHARD, 65_000);

    // Assess
    expect(beforeBackoff).toBe(1);
    expect(env.upstream.sent.map((send) => headerOf(send, 'CSeq'))).toEqual(['5 REGISTER', '6 REGISTER']);
    expect(await env.store.get(AOR)).toBeUndefined();
  });

  it('DRG-6, INV-2: after retryMaxAttempts failures the De-REGISTER becomes a dead letter, a deregister_failed count and an error log line', async () => {
    // Prepare
    env = setup({ retryMaxAttempts: 2, retryBackoffBase: 1 });
    await seed(env.store, env.config, expiringRecord(), 0);
    env.upstream.answer({ kind: 'timeout' }, { kind: 'failure', status: 500 });
    const deadLetters: unknown[] = [];
    const putDeadLetter = env.store.putDeadLetter.bind(env.store);
    env.store.putDeadLetter = async (letter) => {
      deadLetters.push(letter);
      await putDeadLetter(letter);
    };

    // Act
    for (const nowMs of [60_000, 61_000, 62_000, 70_000]) {
      env.clock.nowMs = nowMs;
      await env.service.sweepShard(SHARD, nowMs);
    }

    // Assess
    expect(env.upstream.sent).toHaveLength(2);
    expect(deadLetters).toEqual([
      expect.objectContaining({ aor: AOR, kind: 'deregister', detail: expect.objectContaining({ contactUri: 'sip:alice@203.0.113.10:5060;ctid=111', attempts: 2, lastFailure: '500' }) }),
    ]);
    expect(env.observer.counts.get(SWEEP_METRIC.deregisterFailed)).toBe(1);
    expect(env.observer.lines).toContainEqual(expect.objectContaining({ level: 'error', fields: expect.objectContaining({ aor: AOR, contact: 'sip:alice@203.0.113.10:5060;ctid=111' }) }));
    expect(await env.store.get(AOR)).toBeUndefined();
  });

  it('DRG-8, DRG-9: a valid binding whose upstream registration would lapse first is refreshed at U − m with expires=O and our own Call-ID; the 2xx moves U', async () => {
    // Prepare: g = 120 s (upstream granted less than O), e = 60 s, binding valid until 100 s; P = 120 − 32 = 88 s.
    env = setup();
    const record = testRecord({
      bindings: [testBinding({ expiresAtMs: 100_000, upstream: upstreamRegistration({ grantedExpiresSec: 120 }) })],
    });
    await seed(env.store, env.config, record, 0);
    env.upstream.answer({ kind: '2xx', grantedExpiresSec: 3600 });

    // Act
    env.clock.nowMs = 87_999;
    await env.service.sweepShard(SHARD, 87_999);
    const early = env.upstream.sent.length;
    env.clock.nowMs = 88_000;
    const report = await env.service.sweepShard(SHARD, 88_000);

    // Assess
    expect(early).toBe(0);
    expect(report.refreshesSent).toBe(1);
    const [send] = env.upstream.sent;
    expect(send.purpose).toBe('refresh');
    expect(headerOf(send, 'Contact')).toBe('<sip:alice@203.0.113.10:5060;ctid=111>;expires=3600');
    expect(headerOf(send, 'Call-ID')).not.toBe('c1');
    const stored = await env.store.get(AOR);
    expect(stored?.record.bindings[0]?.upstream?.lapsesAtMs).toBe(88_000 + 3_600_000);
  });

  it('DRG-11: a 401 is answered at once, within the same attempt, with digest credentials and the next CSeq', async () => {
    // Prepare
    env = setup({ upstreamAuth: { username: 'mid', password: 'secret' } });
    await seed(env.store, env.config, expiringRecord(), 0);
    env.upstream.answer({ kind: 'failure', status: 401, challenge: 'Digest realm="example.com", nonce="n1", qop="auth"' }, { kind: '2xx', grantedExpiresSec: 0 });
    env.clock.nowMs = 60_000;

    // Act
    const report = await env.service.sweepShard(SHARD, 60_000);

    // Assess
    expect(env.upstream.sent).toHaveLength(2);
    const [first, answer] = env.upstream.sent;
    expect(headerOf(first!, 'Authorization')).toBeUndefined();
    expect(headerOf(answer!, 'Authorization')).toMatch(/^Digest username="mid", realm="example.com", nonce="n1"/);
    expect(headerOf(answer!, 'CSeq')).toBe('6 REGISTER');
    expect(report.failures).toBe(0);
    expect(await env.store.get(AOR)).toBeUndefined();
  });

  it('DRG-11: without upstreamAuth a 401 fails the De-REGISTER finally (dead letter), with no credentials ever sent', async () => {
    // Prepare
    env = setup();
    await seed(env.store, env.config, expiringRecord(), 0);
    env.upstream.answer({ kind: 'failure', status: 401, challenge: 'Digest realm="example.com", nonce="n1"' });
    env.clock.nowMs = 60_000;

    // Act
    const report = await env.service.sweepShard(SHARD, 60_000);

    // Assess
    expect(env.upstream.sent).toHaveLength(1);
    expect(report.failures).toBe(1);
    expect(env.observer.counts.get(SWEEP_METRIC.deregisterFailed)).toBe(1);
  });

  it('GEN-5: two sweeps of the same shard at once send the De-REGISTER once', async () => {
    // Prepare
    env = setup();
    await seed(env.store, env.config, expiringRecord(), 0);
    const other = new SweepService({
      config: env.config,
      store: env.store,
      ids: testIds(99),
      sender: env.upstream,
      nowMs: () => env.clock.nowMs,
      observer: env.observer,
    });
    env.clock.nowMs = 60_000;

    // Act
    const reports = await Promise.all([env.service.sweepShard(SHARD, 60_000), other.sweepShard(SHARD, 60_000)]);

    // Assess
    expect(env.upstream.sent).toHaveLength(1);
    expect(reports[0].deregistersSent + reports[1].deregistersSent).toBe(1);
    // Both planned the same send; the loser of the conditional put re-read and found it claimed.
    expect(reports[0].conflicts + reports[1].conflicts).toBeGreaterThanOrEqual(1);
  });

  it('GEN-1: a claim whose sender died is retried once claimUntil passed, with the next CSeq', async () => {
    // Prepare: a sweep claimed and "sent" but never reported (its process died).
    env = setup();
    await seed(env.store, env.config, expiringRecord(), 0);
    const dying = new SweepService({
      config: env.config,
      store: env.store,
      ids: testIds(5),
      sender: { send: () => new Promise(() => undefined) },
      nowMs: () => 60_000,
      observer: env.observer,
    });
    void dying.sweepShard(SHARD, 60_000);
    await new Promise((resolve) => setImmediate(resolve));

    // Act: before and after the claim deadline (2 × upstreamTimeout = 20 s).
    env.clock.nowMs = 79_999;
    await env.service.sweepShard(SHARD, 79_999);
    const beforeDeadline = env.upstream.sent.length;
    env.clock.nowMs = 85_000;
    await env.service.sweepShard(SHARD, 85_000);

    // Assess: the dead attempt counted as a timeout; the retry is due after the backoff (5 s).
    env.clock.nowMs = 90_000;
    await env.service.sweepShard(SHARD, 90_000);
    expect(beforeDeadline).toBe(0);
    expect(env.upstream.sent.map((send) => headerOf(send, 'CSeq'))).toEqual(['6 REGISTER']);
  });
});
