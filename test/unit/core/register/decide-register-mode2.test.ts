import { decideRegister } from '../../../../functions/core/register/decide-register';
import { type AorRecord, isIncarnationOpen, validBindings } from '../../../../functions/core/model';
import {
  expectForward,
  expectLocal,
  headerValue,
  registerRequest,
  registerThroughUpstream,
  testBinding,
  testConfig,
  testIds,
  testRecord,
  udpFlow,
  upstreamRegistration,
} from '../../../support/core-builders';

const mode2 = testConfig({ mode: 2 });
const A = '<sip:alice@192.0.2.7:5062>';
const B = '<sip:alice@198.51.100.4:5060>';
const flowB = udpFlow({ remoteAddress: '198.51.100.4', remotePort: 5060 });

/** Incarnation 88, upstream sent at 0 with g = 3600; A (e = 60, Call-ID ca) and B (e = 600, Call-ID cb). */
function twoDevices(): AorRecord {
  return testRecord({
    incarnation: { id: '88', createdAtMs: 0, upstream: upstreamRegistration({ sentAtMs: 0, grantedExpiresSec: 3600, contactUri: 'sip:alice%40example.com@203.0.113.10:5060;ctid=88' }) },
    bindings: [
      testBinding({ contactId: '1', contactUri: 'sip:alice@192.0.2.7:5062', callId: 'ca', cseq: 10, requestedExpiresSec: 60, expiresAtMs: 3_000_000, updatedAtMs: 2_940_000, upstream: undefined, incarnationId: '88' }),
      testBinding({ contactId: '2', contactUri: 'sip:alice@198.51.100.4:5060', callId: 'cb', cseq: 10, requestedExpiresSec: 600, expiresAtMs: 3_500_000, updatedAtMs: 2_900_000, flow: flowB, upstream: undefined, incarnationId: '88' }),
    ],
  });
}

describe('decideRegister, mode 2 (M2)', () => {
  it('M2-3: e 60 and 600: the window closes at U − 632 s (Δ #2368: the longest-lived binding governs)', () => {
    // Prepare
    const refreshA = (t: number) => registerRequest({ contacts: [`${A};expires=60`], callId: 'ca', cseq: 11, receivedAtMs: t });

    // Act
    const before = decideRegister(mode2, refreshA(2_967_999), twoDevices(), 2_967_999, testIds());
    const at = decideRegister(mode2, refreshA(2_968_000), twoDevices(), 2_968_000, testIds());

    // Assess
    expect(before.decision.kind).toBe('absorb');
    expect(at.decision.kind).toBe('forward');
  });

  it('M2-3: e_b of a named contact is the REGISTER e: B shortening to 60 reopens the window', () => {
    // Prepare
    const request = registerRequest({ contacts: [`${B};expires=60`], callId: 'cb', cseq: 11, flow: flowB, receivedAtMs: 2_990_000 });

    // Act
    const outcome = decideRegister(mode2, request, twoDevices(), 2_990_000, testIds());

    // Assess
    expect(outcome.decision.kind).toBe('absorb');
    expect(outcome.nextRecord!.bindings[1]).toMatchObject({ requestedExpiresSec: 60, expiresAtMs: 3_050_000 });
  });

  it('M2-2 (a): an AoR without a valid binding relays', () => {
    // Act
    const outcome = decideRegister(mode2, registerRequest({ receivedAtMs: 1_000 }), undefined, 1_000, testIds());

    // Assess
    expect(outcome.decision.kind).toBe('forward');
  });

  it('M2-2 (b): a new device is relayed so upstream authenticates it (#3193)', () => {
    // Prepare
    const request = registerRequest({ contacts: ['<sip:alice@203.0.113.99>'], callId: 'cc', receivedAtMs: 2_950_000 });

    // Act
    const outcome = decideRegister(mode2, request, twoDevices(), 2_950_000, testIds());

    // Assess
    expect(outcome.decision.kind).toBe('forward');
    expect(outcome.nextRecord!.bindings).toEqual(twoDevices().bindings);
  });

  it('M2-2 (b): with trustNewContacts a new device is absorbed as a binding of the open incarnation', () => {
    // Prepare
    const config = testConfig({ mode: 2, trustNewContacts: true, absorbRequiresSameCallId: false });
    const request = registerRequest({ contacts: ['<sip:alice@203.0.113.99>;expires=60;q=0.2'], callId: 'cc', receivedAtMs: 2_950_000, userAgent: 'C/1' });

    // Act
    const outcome = decideRegister(config, request, twoDevices(), 2_950_000, testIds());

    // Assess
    expect(outcome.decision.kind).toBe('absorb');
    const added = outcome.nextRecord!.bindings[2];
    expect(added).toMatchObject({ contactUri: 'sip:alice@203.0.113.99', incarnationId: '88', expiresAtMs: 3_010_000, q: '0.2', callId: 'cc', userAgent: 'C/1', createdAtMs: 2_950_000 });
    expect(outcome.newContactIds).toEqual([added.contactId]);
  });

  it('M2-2 (c): removing a binding with another Call-ID relays', () => {
    // Prepare
    const request = registerRequest({ contacts: [`${B};expires=0`], callId: 'ca', cseq: 11, receivedAtMs: 2_950_000 });

    // Act
    const outcome = decideRegister(mode2, request, twoDevices(), 2_950_000, testIds());

    // Assess
    expect(outcome.decision.kind).toBe('forward');
  });

  it('M2-2 (d): a removal that leaves no valid binding relays with E = 0 (FWD-8)', () => {
    // Prepare
    const request = registerRequest({ contacts: [`${A};expires=0`, `${B};expires=0`], callId: 'ca', cseq: 11, receivedAtMs: 2_950_000 });
    const config = testConfig({ mode: 2, absorbRequiresSameCallId: false });

    // Act
    const outcome = decideRegister(config, request, twoDevices(), 2_950_000, testIds());

    // Assess
    const { relay } = expectForward(outcome);
    expect(headerValue(relay.addHeaders, 'Contact')).toBe('<sip:alice%40example.com@203.0.113.10:5060;ctid=88>;expires=0');
    expect(outcome.nextRecord!.pendingRelays[0].incarnationId).toBe('88');
  });

  it('FWD-8: a removal relayed while the first relay of the incarnation is pending keeps E = O (its contact is being added)', () => {
    // Prepare
    const ids = testIds(8);
    const first = decideRegister(mode2, registerRequest({ contacts: [`${B};expires=3600`], callId: 'cb', receivedAtMs: 1_000 }), undefined, 1_000, ids);

    // Act
    const removal = decideRegister(mode2, registerRequest({ contacts: [`${A};expires=0`], callId: 'ca', receivedAtMs: 1_001 }), first.nextRecord, 1_001, ids);
    const removalOfTheSame = decideRegister(mode2, registerRequest({ contacts: [`${B};expires=0`], callId: 'cb', cseq: 2, receivedAtMs: 1_001 }), first.nextRecord, 1_001, ids);

    // Assess
    expect(headerValue(expectForward(removal).relay.addHeaders, 'Contact')).toMatch(/;expires=3600$/);
    expect(headerValue(expectForward(removalOfTheSame).relay.addHeaders, 'Contact')).toMatch(/;expires=0$/);
  });

  it('M2-4: an absorbed removal of A keeps B; nothing goes upstream, no De-REGISTER', () => {
    // Prepare
    const request = registerRequest({ contacts: [`${A};expires=0`], callId: 'ca', cseq: 11, receivedAtMs: 2_950_000 });

    // Act
    const outcome = decideRegister(mode2, request, twoDevices(), 2_950_000, testIds());

    // Assess
    const response = expectLocal(outcome, 'absorb');
    expect(headerValue(response.headers, 'Contact')).toBe('<sip:alice@198.51.100.4:5060>;expires=550');
    expect(outcome.nextRecord!.bindings.map((b) => b.contactId)).toEqual(['2']);
    expect(outcome.nextRecord!.deregisterWork).toEqual([]);
    expect(outcome.nextRecord!.pendingRelays).toEqual([]);
  });

  it('M2 timing example: A at 0 (U 3600), B new at 100 (U 3700), A refreshed every 50 s, removed at 200 absorbed, window until 3548', () => {
    // Prepare
    const ids = testIds(21);
    let record = registerThroughUpstream(mode2, undefined, registerRequest({ contacts: [`${A};expires=60`], callId: 'ca', cseq: 1, receivedAtMs: 0 }), { sentAtMs: 0, receivedAtMs: 40, grantSec: 3600 }, ids).record;
    const refreshA = (t: number, cseq: number) => decideRegister(mode2, registerRequest({ contacts: [`${A};expires=60`], callId: 'ca', cseq, receivedAtMs: t }), record, t, ids);

    // Act
    const at50 = refreshA(50_000, 2);
    record = at50.nextRecord!;
    const at95 = refreshA(95_000, 3);
    record = at95.nextRecord!;
    const withB = registerThroughUpstream(mode2, record, registerRequest({ contacts: [`${B};expires=120`], callId: 'cb', cseq: 1, flow: flowB, receivedAtMs: 100_000 }), { sentAtMs: 100_000, receivedAtMs: 100_040, grantSec: 3600 }, ids);
    record = withB.record;
    const at145 = refreshA(145_000, 4);
    record = at145.nextRecord!;
    const removal = decideRegister(mode2, registerRequest({ contacts: [`${A};expires=0`], callId: 'ca', cseq: 5, receivedAtMs: 200_000 }), record, 200_000, ids);

    // Assess
    expect([at50.decision.kind, at95.decision.kind, at145.decision.kind]).toEqual(['absorb', 'absorb', 'absorb']);
    expect(withB.record.incarnation!.upstream!.lapsesAtMs).toBe(3_700_000);
    expect(removal.decision.kind).toBe('absorb');
    expect(validBindings(removal.nextRecord, 200_000).map((b) => b.contactUri)).toEqual(['sip:alice@198.51.100.4:5060']);
    // S = {A (60), B (120)}: absorbed while now + 152 s < 3700 s.
    const seeded = { ...record, bindings: record.bindings.map((b) => ({ ...b, expiresAtMs: 3_600_000 })) };
    const late = (t: number) => decideRegister(mode2, registerRequest({ contacts: [`${A};expires=60`], callId: 'ca', cseq: 9, receivedAtMs: t }), seeded, t, ids).decision.kind;
    expect([late(3_547_999), late(3_548_000)]).toEqual(['absorb', 'forward']);
  });

  describe('M2-1: incarnations', () => {
    it('M2-1: the first relay opens an incarnation with a random id below 2^63; later relays reuse the open one', () => {
      // Prepare
      const ids = testIds(4);

      // Act
      const first = decideRegister(mode2, registerRequest({ receivedAtMs: 1_000 }), undefined, 1_000, ids);
      const second = decideRegister(mode2, registerRequest({ contacts: [B], callId: 'cb', receivedAtMs: 2_000 }), first.nextRecord, 2_000, ids);

      // Assess
      const id = first.nextRecord!.incarnation!.id;
      expect(BigInt(id) < 2n ** 63n).toBe(true);
      expect(isIncarnationOpen(first.nextRecord!, 1_000)).toBe(true);
      expect(second.nextRecord!.pendingRelays.map((r) => r.incarnationId)).toEqual([id, id]);
    });

    it('M2-1: an AoR that ends and returns gets a new incarnation id; the old one keeps its De-REGISTER (DRG-2)', () => {
      // Prepare
      const ended = twoDevices();

      // Act
      const outcome = decideRegister(mode2, registerRequest({ callId: 'cz', receivedAtMs: 3_510_000 }), ended, 3_510_000, testIds());

      // Assess
      expect(outcome.decision.kind).toBe('forward');
      const next = outcome.nextRecord!;
      expect(next.incarnation!.id).not.toBe('88');
      expect(next.incarnation!.upstream).toBeUndefined();
      expect(next.bindings).toEqual([]);
      expect(next.deregisterWork).toEqual([expect.objectContaining({
        cause: 'incarnation-closed', incarnationId: '88', dueAtMs: 3_500_000, attempts: 0, upstream: ended.incarnation!.upstream,
      })]);
    });

    it('M2-1: a closed incarnation whose U passed needs no De-REGISTER (DRG-3)', () => {
      // Prepare
      const lapsed = twoDevices();

      // Act
      const outcome = decideRegister(mode2, registerRequest({ callId: 'cz', receivedAtMs: 3_600_000 }), lapsed, 3_600_000, testIds());

      // Assess
      expect(outcome.nextRecord!.deregisterWork).toEqual([]);
    });

    it('GEN-3: bindings of a closed incarnation never borrow the next incarnation\'s U', () => {
      // Prepare
      const record = twoDevices();
      const reopened: AorRecord = { ...record, incarnation: { id: '99', createdAtMs: 3_700_000, upstream: upstreamRegistration({ sentAtMs: 3_700_000 }) } };

      // Act
      const valid = validBindings(reopened, 3_200_000);

      // Assess
      expect(valid).toEqual([]);
    });
  });

  it('REG-6 applies in mode 2: CSeq below the stored one → 400', () => {
    // Prepare
    const request = registerRequest({ contacts: [`${A};expires=60`], callId: 'ca', cseq: 5, receivedAtMs: 2_950_000 });

    // Act
    const outcome = decideRegister(mode2, request, twoDevices(), 2_950_000, testIds());

    // Assess
    expect(expectLocal(outcome, 'reject').status).toBe(400);
  });
});
