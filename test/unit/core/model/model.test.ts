import {
  bindingLapsesAtMs,
  copyRecord,
  emptyAorRecord,
  isBindingValid,
  isIncarnationOpen,
  isRelayLive,
  listedExpiresSec,
  retainedIds,
  validBindings,
  withBindings,
} from '../../../../functions/core/model';
import type { AorRecord, PendingRelay } from '../../../../functions/core/model';
import { testBinding, testRecord, udpFlow, upstreamRegistration } from '../../../support/core-builders';

function pendingRelay(overrides: Partial<PendingRelay> = {}): PendingRelay {
  return {
    relayId: 'r1', kind: 'contacts', mode: 2, createdAtMs: 0, deadlineAtMs: 15_000, requestUri: 'sip:registrar.example.net',
    fromUri: 'sip:alice@example.com', toUri: 'sip:alice@example.com', callId: 'c1', cseq: 1, contacts: [], flow: udpFlow(), path: [], echoPath: false,
    ...overrides,
  };
}

describe('model', () => {
  describe('copyRecord, withBindings', () => {
    it('replaces the bindings and keeps every other field of a record that has all of them', () => {
      // Prepare: Required<…> makes this fixture (and so the check) follow every new field of AorRecord.
      const upstream = upstreamRegistration();
      const full: Required<AorRecord> = {
        aor: 'alice@example.com',
        bindings: [testBinding({ contactId: '1' })],
        incarnation: { id: '9', createdAtMs: 0 },
        pendingRelays: [pendingRelay()],
        deregisterWork: [{ workId: 'd1', cause: 'expired', upstream, dueAtMs: 0, attempts: 0, nextAttemptAtMs: 0 }],
        relayCount: 3,
        refreshWork: [{ workId: 'r1', target: { contactId: '1' }, forLapsesAtMs: 1, forced: false, attempts: 0, nextAttemptAtMs: 0, lastCseq: 1 }],
        pathOverlaps: [{ contactUri: 'sip:alice@192.0.2.7', fromMs: 0, untilMs: 1 }],
        upstreamShadows: [{ workId: 's1', upstream }],
      };
      const bindings = [testBinding({ contactId: '2' })];

      // Act
      const copy = copyRecord(full);
      const next = withBindings(full, bindings);

      // Assess
      expect(copy).toStrictEqual(full);
      expect(copy).not.toBe(full);
      expect(next).toStrictEqual({ ...full, bindings });
      expect(full.bindings[0].contactId).toBe('1');
    });

    it('adds no field the record lacks', () => {
      // Prepare
      const record = testRecord();

      // Act
      const next = withBindings(record, []);

      // Assess
      expect(Object.keys(copyRecord(record)).sort()).toEqual(Object.keys(record).sort());
      expect(Object.keys(next).sort()).toEqual(Object.keys(record).sort());
    });
  });

  describe('GEN-3: validity', () => {
    it.each<[string, number, boolean]>([
      ['before both', 59_999, true],
      ['at expiresAt (strict)', 60_000, false],
      ['after expiresAt', 60_001, false],
    ])('GEN-3: %s', (_name, nowMs, valid) => {
      // Prepare
      const binding = testBinding({ expiresAtMs: 60_000 });

      // Act / Assess
      expect(isBindingValid(binding, 3_600_000, nowMs)).toBe(valid);
    });

    it('GEN-3: a binding past U but before expiresAt is not valid', () => {
      // Prepare
      const record = testRecord({ bindings: [testBinding({ expiresAtMs: 4_000_000, upstream: upstreamRegistration({ grantedExpiresSec: 3600 }) })] });

      // Act / Assess
      expect(validBindings(record, 3_599_999)).toHaveLength(1);
      expect(validBindings(record, 3_600_000)).toHaveLength(0);
    });

    it('GEN-3: an explicitly ended binding and one without confirmed upstream are never valid', () => {
      // Prepare
      const ended = testBinding({ endedAtMs: 10, endReason: 'evicted' });
      const unconfirmed = testBinding({ upstream: undefined });
      const record = testRecord({ bindings: [ended, unconfirmed] });

      // Act / Assess
      expect(validBindings(record, 20)).toEqual([]);
      expect(bindingLapsesAtMs(unconfirmed, record)).toBeUndefined();
    });

    it('GEN-3: a mode 2 binding takes U from its own incarnation only', () => {
      // Prepare
      const binding = testBinding({ upstream: undefined, incarnationId: '88' });
      const own = testRecord({ incarnation: { id: '88', createdAtMs: 0, upstream: upstreamRegistration({ grantedExpiresSec: 100 }) }, bindings: [binding] });
      const other = { ...own, incarnation: { id: '99', createdAtMs: 0, upstream: upstreamRegistration() } };

      // Act / Assess
      expect(bindingLapsesAtMs(binding, own)).toBe(100_000);
      expect(bindingLapsesAtMs(binding, other)).toBeUndefined();
    });
  });

  describe('GEN-4: listed expires', () => {
    it.each<[string, number, number, number, number]>([
      ['59.3 s left is listed as expires=60', 59_300, 3_600_000, 0, 60],
      ['exactly 60 s left is 60', 60_000, 3_600_000, 0, 60],
      ['U earlier than expiresAt governs', 60_000, 30_500, 0, 31],
      ['1 ms left is 1', 1_001, 3_600_000, 1_000, 1],
    ])('GEN-4: %s', (_name, expiresAtMs, lapsesAtMs, nowMs, expected) => {
      // Act / Assess
      expect(listedExpiresSec(expiresAtMs, lapsesAtMs, nowMs)).toBe(expected);
    });
  });

  describe('M2-1: incarnation openness', () => {
    it('M2-1: open with a valid binding, or with a live pending relay for it; closed otherwise', () => {
      // Prepare
      const incarnation = { id: '88', createdAtMs: 0, upstream: upstreamRegistration() };
      const withBinding = testRecord({ incarnation, bindings: [testBinding({ upstream: undefined, incarnationId: '88' })] });
      const withRelay = testRecord({ incarnation: { id: '88', createdAtMs: 0 }, pendingRelays: [pendingRelay({ incarnationId: '88' })] });

      // Act / Assess
      expect(isIncarnationOpen(withBinding, 59_999)).toBe(true);
      expect(isIncarnationOpen(withBinding, 60_000)).toBe(false);
      expect(isIncarnationOpen(withRelay, 14_999)).toBe(true);
      expect(isIncarnationOpen(withRelay, 15_000)).toBe(false);
      expect(isIncarnationOpen(testRecord(), 0)).toBe(false);
    });

    it('GEN-7: a relay is live until it failed or its deadline passed', () => {
      // Act / Assess
      expect(isRelayLive(pendingRelay(), 14_999)).toBe(true);
      expect(isRelayLive(pendingRelay(), 15_000)).toBe(false);
      expect(isRelayLive(pendingRelay({ failedAtMs: 100, failure: 'timeout' }), 200)).toBe(false);
    });
  });

  it('FWD-4: retained ids cover bindings, pending relay contacts and the incarnation', () => {
    // Prepare
    const record = testRecord({
      incarnation: { id: '9', createdAtMs: 0 },
      bindings: [testBinding({ contactId: '1', endedAtMs: 5 })],
      pendingRelays: [pendingRelay({ contacts: [{ contactUri: 'sip:a@192.0.2.1', requestedExpiresSec: 60, relayedExpiresSec: 3600, contactId: '2' }] })],
    });

    // Act / Assess
    expect([...retainedIds(record)].sort()).toEqual(['1', '2', '9']);
    expect(retainedIds(undefined).size).toBe(0);
    expect(emptyAorRecord('bob@example.com')).toEqual({ aor: 'bob@example.com', bindings: [], pendingRelays: [], deregisterWork: [] });
  });

  it('FWD-4: retained ids include ended bindings and closed incarnations whose De-REGISTER is unfinished', () => {
    // Prepare: binding 3 and incarnation 8 are gone from the record, their De-REGISTERs are not.
    const record = testRecord({
      bindings: [testBinding({ contactId: '1' })],
      deregisterWork: [
        { workId: 'drg:3', cause: 'expired', upstream: upstreamRegistration(), dueAtMs: 60_000, attempts: 1, nextAttemptAtMs: 62_000, contactId: '3' },
        { workId: 'drg:inc:8', cause: 'incarnation-closed', upstream: upstreamRegistration(), dueAtMs: 60_000, attempts: 0, nextAttemptAtMs: 60_000, incarnationId: '8' },
      ],
      upstreamShadows: [{ workId: 'orphan:r1:0', upstream: upstreamRegistration(), contactId: '4' }],
    });

    // Act
    const ids = retainedIds(record);

    // Assess
    expect([...ids].sort()).toEqual(['1', '3', '4', '8']);
  });

  it('the record is plain JSON: it survives a JSON round trip unchanged', () => {
    // Prepare
    const record = testRecord({ incarnation: { id: '9', createdAtMs: 0, upstream: upstreamRegistration() }, bindings: [testBinding({ q: '0.5' })], pendingRelays: [pendingRelay()] });

    // Act / Assess
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });
});
