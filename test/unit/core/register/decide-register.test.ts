import { checkRegister } from '../../../../functions/core/register/check-register';
import { aorOfRequest, decideRegister, storeFailureResponse } from '../../../../functions/core/register/decide-register';
import { bindingLapsesAtMs, isBindingValid, validBindings } from '../../../../functions/core/model';
import type { AorRecord } from '../../../../functions/core/model';
import {
  expectForward,
  expectLocal,
  headerValue,
  headerValues,
  registerRequest,
  registerThroughUpstream,
  testBinding,
  testConfig,
  testIds,
  testRecord,
  udpFlow,
  upstreamRegistration,
} from '../../../support/core-builders';

const mode1 = testConfig({ mode: 1 });

/** A mode 1 record holding alice's device, refreshed at 3500 s, upstream sent at 0 with g = 3600. */
function lateRecord(): AorRecord {
  return testRecord({
    bindings: [testBinding({ cseq: 71, updatedAtMs: 3_500_000, expiresAtMs: 3_560_000, upstream: upstreamRegistration({ sentAtMs: 0, grantedExpiresSec: 3600 }) })],
  });
}

describe('decideRegister', () => {
  describe('mode 1 (M1)', () => {
    it('M1-3: sentAt 0, g 3600, e 60: 3507.999 absorbed, 3508.000 relayed', () => {
      // Prepare
      const request = (receivedAtMs: number) => registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 72, receivedAtMs });

      // Act
      const before = decideRegister(mode1, request(3_507_999), lateRecord(), 3_507_999, testIds());
      const at = decideRegister(mode1, request(3_508_000), lateRecord(), 3_508_000, testIds());

      // Assess
      expect(before.decision.kind).toBe('absorb');
      expect(at.decision.kind).toBe('forward');
    });

    it('M1-3: the margin m counts: with m = 60 the window closes 28 s earlier', () => {
      // Prepare
      const config = testConfig({ refreshMargin: 60 });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 72, receivedAtMs: 3_479_999 });

      // Act
      const inside = decideRegister(config, request, lateRecord(), 3_479_999, testIds());
      const outside = decideRegister(config, { ...request, receivedAtMs: 3_480_000 }, lateRecord(), 3_480_000, testIds());

      // Assess
      expect([inside.decision.kind, outside.decision.kind]).toEqual(['absorb', 'forward']);
    });

    it('M1-3 timing example: refreshes every 50 s absorbed until 3500, 3550 relayed; the binding ends at 3560', () => {
      // Prepare
      const ids = testIds(3);
      const first = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 1, receivedAtMs: 0 });
      let record = registerThroughUpstream(mode1, undefined, first, { sentAtMs: 0, receivedAtMs: 40, grantSec: 3600 }, ids).record;
      const kinds: string[] = [];

      // Act
      for (let t = 50; t <= 3550; t += 50) {
        const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: t / 50 + 1, receivedAtMs: t * 1000 });
        const outcome = decideRegister(mode1, request, record, t * 1000, ids);
        kinds.push(outcome.decision.kind);
        if (outcome.decision.kind === 'absorb') record = outcome.nextRecord!;
      }

      // Assess
      expect(kinds.slice(0, 70).every((k) => k === 'absorb')).toBe(true);
      expect(kinds[70]).toBe('forward');
      const binding = record.bindings[0];
      expect(bindingLapsesAtMs(binding, record)).toBe(3_600_000);
      expect(isBindingValid(binding, 3_600_000, 3_559_999)).toBe(true);
      expect(isBindingValid(binding, 3_600_000, 3_560_000)).toBe(false);
    });

    it('M1-4: absorb moves expiresAt and flow, not U', () => {
      // Prepare
      const newFlow = udpFlow({ remotePort: 40_000, gatewayId: 'gw-2' });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 72, flow: newFlow, userAgent: 'Phone/2', path: ['<sip:edge.example.com;lr>'], receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(mode1, request, lateRecord(), 3_501_000, testIds());

      // Assess
      expect(outcome.decision.kind).toBe('absorb');
      const binding = outcome.nextRecord!.bindings[0];
      expect(binding).toMatchObject({ expiresAtMs: 3_561_000, flow: newFlow, cseq: 72, callId: 'c1', userAgent: 'Phone/2', path: ['<sip:edge.example.com;lr>'], updatedAtMs: 3_501_000 });
      expect(binding.upstream).toEqual(lateRecord().bindings[0].upstream);
      expect(outcome.newContactIds).toEqual([]);
    });

    it('M1-4: a refresh keeps the committed binding\'s fields in their order, and one without User-Agent drops the stored one', () => {
      // Prepare
      const contacts = ['<sip:alice@192.0.2.7:5062>;expires=60'];
      const first = registerRequest({ contacts, cseq: 1, userAgent: 'Phone/1', receivedAtMs: 0 });
      const committed = registerThroughUpstream(mode1, undefined, first, { sentAtMs: 0, receivedAtMs: 40, grantSec: 3600 }).record;
      const refresh = (cseq: number, userAgent?: string) =>
        registerRequest({ contacts, cseq, receivedAtMs: cseq * 1000, ...(userAgent === undefined ? {} : { userAgent }) });

      // Act
      const withAgent = decideRegister(mode1, refresh(2, 'Phone/2'), committed, 2000, testIds()).nextRecord!;
      const withoutAgent = decideRegister(mode1, refresh(3), withAgent, 3000, testIds()).nextRecord!;

      // Assess
      expect(Object.keys(withAgent.bindings[0])).toEqual(Object.keys(committed.bindings[0]));
      expect(withAgent.bindings[0].userAgent).toBe('Phone/2');
      expect('userAgent' in withoutAgent.bindings[0]).toBe(false);
      expect(withoutAgent.bindings[0]).toMatchObject({ contactId: committed.bindings[0].contactId, cseq: 3, expiresAtMs: 63_000, upstream: committed.bindings[0].upstream });
    });

    it('M1-4: a refresh from the same flow keeps the stored flow and Path objects; a new flow replaces the stored one (PTH-2)', () => {
      // Prepare: the refresh carries equal values in objects of its own, as every parsed REGISTER does.
      const contacts = ['<sip:alice@192.0.2.7:5062>;expires=60'];
      const path = ['<sip:edge.example.com;lr>'];
      const first = registerRequest({ contacts, cseq: 1, userAgent: 'Phone/1', path, receivedAtMs: 0 });
      const committed = registerThroughUpstream(mode1, undefined, first, { sentAtMs: 0, receivedAtMs: 40, grantSec: 3600 }).record;
      const stored = committed.bindings[0];
      const sameValues = registerRequest({ contacts, cseq: 2, userAgent: 'Phone/1', path: [...path], flow: { ...stored.flow }, receivedAtMs: 2000 });
      const moved = registerRequest({ contacts, cseq: 3, userAgent: 'Phone/1', path: [...path], flow: { ...stored.flow, remotePort: 40_001 }, receivedAtMs: 3000 });

      // Act
      const refreshed = decideRegister(mode1, sameValues, committed, 2000, testIds()).nextRecord!.bindings[0];
      const rebound = decideRegister(mode1, moved, committed, 3000, testIds()).nextRecord!.bindings[0];

      // Assess: the same objects where nothing changed, the new flow where the device moved.
      expect(refreshed.flow).toBe(stored.flow);
      expect(refreshed.path).toBe(stored.path);
      expect(refreshed).toMatchObject({ cseq: 2, expiresAtMs: 62_000, userAgent: 'Phone/1' });
      expect(rebound.flow).toBe(moved.flow);
      expect(rebound.flow.remotePort).toBe(40_001);
    });

    it.each<[string, Partial<Parameters<typeof registerRequest>[0]>]>([
      ['a new contact', { contacts: ['<sip:alice@192.0.2.7:5062>;expires=60', '<sip:alice@198.51.100.4>;expires=60'] }],
      ['expires=0', { contacts: ['<sip:alice@192.0.2.7:5062>;expires=0'] }],
      ['another Call-ID', { contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], callId: 'c2' }],
    ])('M1-2: %s relays the whole REGISTER', (_name, overrides) => {
      // Prepare
      const request = registerRequest({ cseq: 72, receivedAtMs: 3_501_000, ...overrides });

      // Act
      const outcome = decideRegister(mode1, request, lateRecord(), 3_501_000, testIds());

      // Assess
      const { relay } = expectForward(outcome);
      expect(headerValues(relay.addHeaders, 'Contact')).toHaveLength(request.contacts.length);
    });

    it('M1-2: another Call-ID is absorbed when absorbRequiresSameCallId is off', () => {
      // Prepare
      const config = testConfig({ absorbRequiresSameCallId: false });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], callId: 'c2', cseq: 1, receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(config, request, lateRecord(), 3_501_000, testIds());

      // Assess
      expect(outcome.decision.kind).toBe('absorb');
      expect(outcome.nextRecord!.bindings[0].callId).toBe('c2');
    });

    it('M1-1: two devices: upstream holds two contacts, each binding its own registration', () => {
      // Prepare
      const ids = testIds(11);
      const a = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>'], callId: 'ca', receivedAtMs: 0 });
      const b = registerRequest({ contacts: ['<sip:alice@198.51.100.4:5060>'], callId: 'cb', receivedAtMs: 1_000, flow: udpFlow({ remoteAddress: '198.51.100.4', remotePort: 5060 }) });

      // Act
      const first = registerThroughUpstream(mode1, undefined, a, { receivedAtMs: 50, grantSec: 3600 }, ids);
      const second = registerThroughUpstream(mode1, first.record, b, { receivedAtMs: 1_050, grantSec: 3600 }, ids);

      // Assess
      const [ba, bb] = second.record.bindings;
      expect(ba.upstream!.contactUri).not.toBe(bb.upstream!.contactUri);
      expect(ba.upstream!.contactUri).toBe(`sip:alice@203.0.113.10:5060;ctid=${ba.contactId}`);
      expect(bb.upstream!.contactUri).toBe(`sip:alice@203.0.113.10:5060;ctid=${bb.contactId}`);
      expect(headerValues(second.relay.addHeaders, 'Contact')).toEqual([`<sip:alice@203.0.113.10:5060;ctid=${bb.contactId}>;expires=3600`]);
    });
  });

  describe('REG-6: CSeq order (modes 1 and 2)', () => {
    it('REG-6: CSeq −2 → 400 Invalid CSeq number for the whole REGISTER', () => {
      // Prepare
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 69, receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(mode1, request, lateRecord(), 3_501_000, testIds());

      // Assess
      const response = expectLocal(outcome, 'reject');
      expect([response.status, headerValue(response.headers, 'P-Registrar-Error')]).toEqual([400, 'Invalid CSeq number']);
      expect(outcome.nextRecord).toBeUndefined();
    });

    it('REG-6: a duplicate within cseqDelay is skipped (no allowDupCseq): 200, no change', () => {
      // Prepare
      const config = testConfig({ allowDupCseq: false });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 71, receivedAtMs: 3_519_999 });

      // Act
      const outcome = decideRegister(config, request, lateRecord(), 3_519_999, testIds());

      // Assess
      expect(expectLocal(outcome, 'absorb').status).toBe(200);
      expect(outcome.nextRecord).toBeUndefined();
    });

    it('REG-6: a duplicate once cseqDelay passed → 400', () => {
      // Prepare
      const config = testConfig({ allowDupCseq: false });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 71, receivedAtMs: 3_520_000 });

      // Act
      const outcome = decideRegister(config, request, lateRecord(), 3_520_000, testIds());

      // Assess
      expect(expectLocal(outcome, 'reject').status).toBe(400);
    });

    it('REG-6: with allowDupCseq the same CSeq is in order, one below is the skipped duplicate', () => {
      // Prepare
      const same = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 71, receivedAtMs: 3_501_000 });
      const below = { ...same, cseq: 70 };

      // Act
      const sameOutcome = decideRegister(mode1, same, lateRecord(), 3_501_000, testIds());
      const belowOutcome = decideRegister(mode1, below, lateRecord(), 3_501_000, testIds());

      // Assess
      expect(sameOutcome.nextRecord!.bindings[0].expiresAtMs).toBe(3_561_000);
      expect(belowOutcome.decision.kind).toBe('absorb');
      expect(belowOutcome.nextRecord).toBeUndefined();
    });

    it('REG-6: another Call-ID skips the check', () => {
      // Prepare
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], callId: 'other', cseq: 1, receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(mode1, request, lateRecord(), 3_501_000, testIds());

      // Assess
      expect(outcome.decision.kind).toBe('forward');
    });

    it('REG-6: mode 0 does not check CSeq', () => {
      // Prepare
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 1, receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(testConfig({ mode: 0 }), request, lateRecord(), 3_501_000, testIds());

      // Assess
      expect(outcome.decision.kind).toBe('forward');
    });
  });

  describe('REG-7: queries', () => {
    it('REG-7: a query with the Call-ID of a valid binding is answered locally with the bindings', () => {
      // Prepare
      const request = registerRequest({ contacts: [], cseq: 72, receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(mode1, request, lateRecord(), 3_501_000, testIds());

      // Assess
      const response = expectLocal(outcome, 'absorb');
      expect(headerValue(response.headers, 'Contact')).toBe('<sip:alice@192.0.2.7:5062>;expires=59');
      expect(outcome.nextRecord).toBeUndefined();
    });

    it('REG-7: a query with another Call-ID is relayed so upstream authenticates it (Δ OpenSIPS answers empty)', () => {
      // Prepare
      const request = registerRequest({ contacts: [], callId: 'stranger', receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(mode1, request, lateRecord(), 3_501_000, testIds());

      // Assess
      const { relay } = expectForward(outcome);
      expect(headerValues(relay.addHeaders, 'Contact')).toEqual([]);
      expect(outcome.nextRecord!.pendingRelays[0].kind).toBe('query');
      expect(outcome.nextRecord!.bindings).toEqual(lateRecord().bindings);
    });

    it('REG-7: with absorbRequiresSameCallId off every query is answered locally', () => {
      // Prepare
      const request = registerRequest({ contacts: [], callId: 'stranger', receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(testConfig({ absorbRequiresSameCallId: false }), request, lateRecord(), 3_501_000, testIds());

      // Assess
      expect(outcome.decision.kind).toBe('absorb');
    });
  });

  describe('REG-8: star', () => {
    it('REG-8: a valid star is always relayed, verbatim with Expires: 0 and no Path added (FWD-7)', () => {
      // Prepare
      const request = registerRequest({ contacts: ['*'], expires: '0', cseq: 72, receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(testConfig({ insertion: 'path' }), request, lateRecord(), 3_501_000, testIds());

      // Assess
      const { relay } = expectForward(outcome);
      expect(relay.removeHeaders).not.toContain('Contact');
      expect(relay.removeHeaders).toEqual(expect.arrayContaining(['Expires', 'Path', 'Route']));
      expect(relay.addHeaders).toEqual([['Expires', '0']]);
      expect(relay.prependPath).toEqual([]);
      expect(outcome.nextRecord!.pendingRelays[0].kind).toBe('star');
      expect(outcome.nextRecord!.deregisterWork).toEqual([]);
    });
  });

  it('REG-9: the same REGISTER is relayed in mode 0 and absorbed in modes 1 and 2', () => {
    // Prepare
    const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 72, receivedAtMs: 3_501_000 });
    const mode2Record = testRecord({
      incarnation: { id: '88', createdAtMs: 0, upstream: upstreamRegistration({ sentAtMs: 0, grantedExpiresSec: 3600 }) },
      bindings: [testBinding({ cseq: 71, updatedAtMs: 3_500_000, expiresAtMs: 3_560_000, upstream: undefined, incarnationId: '88' })],
    });

    // Act
    const kinds = [
      decideRegister(testConfig({ mode: 0 }), request, lateRecord(), 3_501_000, testIds()).decision.kind,
      decideRegister(testConfig({ mode: 1 }), request, lateRecord(), 3_501_000, testIds()).decision.kind,
      decideRegister(testConfig({ mode: 2 }), request, mode2Record, 3_501_000, testIds()).decision.kind,
    ];

    // Assess
    expect(kinds).toEqual(['forward', 'absorb', 'absorb']);
  });

  it('REG-10: an absorbed 200 lists all bindings oldest first with q and GEN-4 expires, a To tag, no Expires', () => {
    // Prepare
    const record = testRecord({
      bindings: [
        testBinding({ contactId: '2', contactUri: 'sip:alice@198.51.100.4', createdAtMs: 2_000, q: '0.5', callId: 'cb', expiresAtMs: 3_700_000 }),
        testBinding({ contactId: '1', contactUri: 'sip:alice@192.0.2.7:5062', createdAtMs: 1_000, cseq: 71, updatedAtMs: 3_500_000, expiresAtMs: 3_560_000 }),
      ],
    });
    const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 72, expires: '60', receivedAtMs: 3_500_300 });

    // Act
    const outcome = decideRegister(mode1, request, record, 3_500_300, testIds());

    // Assess
    const response = expectLocal(outcome, 'absorb');
    expect([response.status, response.reason]).toEqual([200, 'OK']);
    expect(response.headers).toEqual([['Contact', '<sip:alice@192.0.2.7:5062>;expires=60, <sip:alice@198.51.100.4>;q=0.5;expires=100']]);
    expect(headerValue(response.headers, 'Expires')).toBeUndefined();
    expect(response.toTag).toMatch(/^[0-9a-f]{12}$/);
  });

  it('PTH-5: lazy echoes Path in the 200 when the REGISTER has Supported: path, off never does', () => {
    // Prepare
    const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 72, path: ['<sip:edge.example.com;lr>'], supported: ['path'], receivedAtMs: 3_501_000 });

    // Act
    const lazy = expectLocal(decideRegister(mode1, request, lateRecord(), 3_501_000, testIds()), 'absorb');
    const off = expectLocal(decideRegister(testConfig({ pathMode: 'off' }), request, lateRecord(), 3_501_000, testIds()), 'absorb');
    const unsupported = expectLocal(decideRegister(mode1, { ...request, supported: [] }, lateRecord(), 3_501_000, testIds()), 'absorb');

    // Assess
    expect(headerValue(lazy.headers, 'Path')).toBe('<sip:edge.example.com;lr>');
    expect(headerValue(off.headers, 'Path')).toBeUndefined();
    expect(headerValue(unsupported.headers, 'Path')).toBeUndefined();
  });

  describe('REG-11: contact limit', () => {
    it('REG-11: limit 1: a 2nd device gets 503 Too many registered contacts + Retry-After, no change', () => {
      // Prepare
      const config = testConfig({ maxContacts: 1 });
      const request = registerRequest({ contacts: ['<sip:alice@198.51.100.4>'], callId: 'cb', receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(config, request, lateRecord(), 3_501_000, testIds());

      // Assess
      const response = expectLocal(outcome, 'reject');
      expect(response.status).toBe(503);
      expect(headerValue(response.headers, 'P-Registrar-Error')).toBe('Too many registered contacts');
      expect(headerValue(response.headers, 'Retry-After')).toBe('30');
      expect(outcome.nextRecord).toBeUndefined();
    });

    it('REG-11: a REGISTER that replaces a contact stays within the limit', () => {
      // Prepare
      const config = testConfig({ maxContacts: 1 });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=0', '<sip:alice@198.51.100.4>'], cseq: 72, receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(config, request, lateRecord(), 3_501_000, testIds());

      // Assess
      expect(outcome.decision.kind).toBe('forward');
    });

    it('REG-11: with forceRegistration the least recently updated binding is evicted at commit (mode 1: kept for De-REGISTER)', () => {
      // Prepare
      const config = testConfig({ maxContacts: 1, forceRegistration: true });
      const request = registerRequest({ contacts: ['<sip:alice@198.51.100.4>'], callId: 'cb', receivedAtMs: 3_501_000 });

      // Act
      const { record } = registerThroughUpstream(config, lateRecord(), request, { receivedAtMs: 3_501_050, grantSec: 3600 });

      // Assess
      const valid = validBindings(record, 3_501_050);
      expect(valid.map((b) => b.contactUri)).toEqual(['sip:alice@198.51.100.4']);
      expect(record.bindings[0]).toMatchObject({ contactId: '111', endReason: 'evicted', endedAtMs: 3_501_050 });
      expect(record.bindings[0].upstream).toBeDefined();
    });
  });

  it('REG-12: a relay changes no binding; it only records the pending relay (GEN-7)', () => {
    // Prepare
    const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=0'], cseq: 72, receivedAtMs: 3_501_000 });

    // Act
    const outcome = decideRegister(mode1, request, lateRecord(), 3_501_000, testIds());

    // Assess
    expect(outcome.nextRecord!.bindings).toEqual(lateRecord().bindings);
    expect(outcome.nextRecord!.pendingRelays).toHaveLength(1);
  });

  it('GEN-7: the pending relay records what DRG-5/DRG-7 need before anything is sent', () => {
    // Prepare
    const config = testConfig({ upstreamOutboundProxy: '10.2.2.2:5060' });
    const request = registerRequest({ contacts: ['<sip:alice@198.51.100.4>;expires=120'], from: '"A" <sip:alice@example.com>;tag=77', callId: 'cb', cseq: 5, receivedAtMs: 1_000 });

    // Act
    const outcome = decideRegister(config, request, undefined, 1_000, testIds());

    // Assess
    const { context } = expectForward(outcome);
    const pending = outcome.nextRecord!.pendingRelays[0];
    expect(context).toEqual({ version: 1, aor: 'alice@example.com', relayId: pending.relayId, mode: 1 });
    expect(pending).toMatchObject({
      kind: 'contacts',
      createdAtMs: 1_000,
      deadlineAtMs: 1_000 + 10_000 + 5_000,
      requestUri: 'sip:registrar.example.net',
      outboundProxy: '10.2.2.2:5060',
      fromUri: 'sip:alice@example.com',
      toUri: 'sip:alice@example.com',
      callId: 'cb',
      cseq: 5,
    });
    const contactId = outcome.newContactIds[0];
    expect(pending.contacts).toEqual([{
      contactUri: 'sip:alice@198.51.100.4',
      requestedExpiresSec: 120,
      relayedExpiresSec: 3600,
      contactId,
      upstreamContactUri: `sip:alice@203.0.113.10:5060;ctid=${contactId}`,
    }]);
  });

  it('GEN-2: the decision uses the time it is given, not the time of the record', () => {
    // Prepare
    const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 72, receivedAtMs: 3_501_000 });

    // Act
    const outcome = decideRegister(mode1, request, lateRecord(), 3_502_500, testIds());

    // Assess
    expect(outcome.nextRecord!.bindings[0].expiresAtMs).toBe(3_562_500);
  });

  it('GEN-3: a binding past U but before expiresAt is not listed and does not match (the contact relays)', () => {
    // Prepare
    const record = testRecord({ bindings: [testBinding({ expiresAtMs: 4_000_000, upstream: upstreamRegistration({ grantedExpiresSec: 3600 }) })] });
    const query = registerRequest({ contacts: [], receivedAtMs: 3_600_000 });
    const refresh = registerRequest({ cseq: 2, receivedAtMs: 3_600_000 });

    // Act
    const queried = decideRegister(testConfig({ absorbRequiresSameCallId: false }), query, record, 3_600_000, testIds());
    const refreshed = decideRegister(mode1, refresh, record, 3_600_000, testIds());

    // Assess
    expect(expectLocal(queried, 'absorb').headers).toEqual([]);
    const { relay } = expectForward(refreshed);
    expect(headerValue(relay.addHeaders, 'Contact')).not.toContain('ctid=111');
  });

  it('FWD-4: a new relay of a contact a live pending relay already carries reuses its id', () => {
    // Prepare
    const ids = testIds(5);
    const request = registerRequest({ contacts: ['<sip:alice@198.51.100.4>'], callId: 'cb', receivedAtMs: 1_000 });
    const first = decideRegister(mode1, request, undefined, 1_000, ids);

    // Act
    const second = decideRegister(mode1, { ...request, cseq: 2, receivedAtMs: 2_000 }, first.nextRecord, 2_000, ids);

    // Assess
    expect(second.newContactIds).toEqual([]);
    expect(second.nextRecord!.pendingRelays[1].contacts[0].contactId).toBe(first.newContactIds[0]);
  });

  it('FWD-4: once a binding ended, the same URI gets a new id (never reused)', () => {
    // Prepare
    const record = testRecord({ bindings: [testBinding({ expiresAtMs: 60_000 })] });
    const request = registerRequest({ cseq: 2, receivedAtMs: 61_000 });

    // Act
    const outcome = decideRegister(mode1, request, record, 61_000, testIds());

    // Assess
    expect(outcome.newContactIds).toHaveLength(1);
    expect(outcome.newContactIds[0]).not.toBe('111');
    expect(BigInt(outcome.newContactIds[0]) < 2n ** 63n).toBe(true);
  });

  it('FWD-4: a fresh id never repeats the id of an ended binding whose De-REGISTER is still queued', () => {
    // Prepare: binding 111 was swept; its De-REGISTER (to ctid=111) is waiting for a retry.
    const record = testRecord({
      deregisterWork: [{ workId: 'drg:111', cause: 'expired', upstream: upstreamRegistration(), dueAtMs: 60_000, attempts: 1, nextAttemptAtMs: 64_000, contactId: '111' }],
    });
    const drawn = ['111', '222'];
    const ids = { ...testIds(), randomContactId: () => drawn.shift() ?? '333' };
    const request = registerRequest({ cseq: 2, receivedAtMs: 61_000 });

    // Act
    const outcome = decideRegister(mode1, request, record, 61_000, ids);

    // Assess
    expect(outcome.newContactIds).toEqual(['222']);
    expect(headerValue(expectForward(outcome).relay.addHeaders, 'Contact')).toContain('ctid=222');
  });

  describe('PTH-2: the latest flow wins', () => {
    it('PTH-2: an absorbed refresh from a new port moves the flow (NAT rebinding)', () => {
      // Prepare
      const rebound = udpFlow({ remotePort: 61_000 });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 72, flow: rebound, receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(mode1, request, lateRecord(), 3_501_000, testIds());

      // Assess
      expect(outcome.nextRecord!.bindings[0].flow).toEqual(rebound);
    });

    it('PTH-2: a committed relay from another gateway moves the flow to it', () => {
      // Prepare
      const moved = udpFlow({ gatewayId: 'gw-7', localAddress: '10.0.1.9', remotePort: 40_000 });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 72, flow: moved, receivedAtMs: 3_550_000 });

      // Act
      const { record } = registerThroughUpstream(mode1, lateRecord(), request, { receivedAtMs: 3_550_040, grantSec: 3600 });

      // Assess
      expect(record.bindings[0]).toMatchObject({ contactId: '111', flow: moved });
    });
  });

  it('ERR-5: a store failure answers 503 Service unavailable + Retry-After; an absorb always carries its commit', () => {
    // Prepare
    const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 72, receivedAtMs: 3_501_000 });

    // Act
    const outcome = decideRegister(mode1, request, lateRecord(), 3_501_000, testIds());
    const failure = storeFailureResponse(mode1, testIds());

    // Assess
    expect(outcome.decision.kind).toBe('absorb');
    expect(outcome.nextRecord).toBeDefined();
    expect([failure.status, headerValue(failure.headers, 'P-Registrar-Error'), headerValue(failure.headers, 'Retry-After')]).toEqual([503, 'Service unavailable', '30']);
  });

  it('REG-5: a stored binding matches with host case ignored (and absorbs), not with user case changed', () => {
    // Prepare
    const record = testRecord({ bindings: [testBinding({ contactUri: 'sip:alice@Phone.Example:5062', cseq: 71, updatedAtMs: 3_500_000, expiresAtMs: 3_560_000 })] });
    const sameHost = registerRequest({ contacts: ['<sip:alice@phone.example:5062>;expires=60'], cseq: 72, receivedAtMs: 3_501_000 });
    const otherUser = { ...sameHost, contacts: ['<sip:Alice@phone.example:5062>;expires=60'] };

    // Act
    const matched = decideRegister(mode1, sameHost, record, 3_501_000, testIds());
    const unmatched = decideRegister(mode1, otherUser, record, 3_501_000, testIds());

    // Assess
    expect(matched.decision.kind).toBe('absorb');
    expect(unmatched.decision.kind).toBe('forward');
  });

  it('FWD-4: a refresh relay of a binding carries its id, a new contact a fresh one', () => {
    // Prepare
    const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60', '<sip:alice@198.51.100.4>'], cseq: 72, receivedAtMs: 3_550_000 });

    // Act
    const outcome = decideRegister(mode1, request, lateRecord(), 3_550_000, testIds());

    // Assess
    const contacts = headerValues(expectForward(outcome).relay.addHeaders, 'Contact');
    expect(contacts[0]).toBe('<sip:alice@203.0.113.10:5060;ctid=111>;expires=3600');
    expect(contacts[1]).toBe(`<sip:alice@203.0.113.10:5060;ctid=${outcome.newContactIds[0]}>;expires=3600`);
    expect(outcome.newContactIds).toHaveLength(1);
  });

  it('REG-2: aorOfRequest names the record to read; undefined when the To has no user', () => {
    // Act / Assess
    expect(aorOfRequest(mode1, registerRequest({ to: '<sip:Alice@EXAMPLE.com:5070;x=1>' }))).toBe('Alice@example.com');
    expect(aorOfRequest(mode1, registerRequest({ to: '<sip:example.com>' }))).toBeUndefined();
  });

  describe('M0-1: mode 0 mirrors', () => {
    it('M0-1: every refresh is relayed with E = e, clamped (Δ OpenSIPS relays the UA value)', () => {
      // Prepare
      const config = testConfig({ mode: 0 });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=7200'], cseq: 72, receivedAtMs: 3_501_000 });

      // Act
      const outcome = decideRegister(config, request, lateRecord(), 3_501_000, testIds());

      // Assess
      const { relay } = expectForward(outcome);
      expect(headerValues(relay.addHeaders, 'Contact')).toEqual(['<sip:alice@203.0.113.10:5060;ctid=111>;expires=3600']);
    });

    it('M0-1: a confirmed mode 0 binding expires with its own e, and the next refresh relays again', () => {
      // Prepare
      const config = testConfig({ mode: 0 });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], receivedAtMs: 0 });
      const { record } = registerThroughUpstream(config, undefined, request, { receivedAtMs: 40, grantSec: 60 });

      // Act
      const next = decideRegister(config, { ...request, cseq: 2, receivedAtMs: 50_000 }, record, 50_000, testIds());

      // Assess
      expect(record.bindings[0].upstream!.lapsesAtMs).toBe(60_000);
      expect(expectForward(next).relay.addHeaders).toEqual([['Contact', `<sip:alice@203.0.113.10:5060;ctid=${record.bindings[0].contactId}>;expires=60`]]);
    });
  });

  it('FWD-1: Max-Forwards 0 gives 483 Too many hops and no relay', () => {
    // Prepare
    const request = registerRequest({ maxForwards: 0, receivedAtMs: 1_000 });

    // Act
    const outcome = decideRegister(mode1, request, undefined, 1_000, testIds());

    // Assess
    const response = expectLocal(outcome, 'reject');
    expect([response.status, headerValue(response.headers, 'P-Registrar-Error')]).toEqual([483, 'Too many hops']);
    expect(outcome.nextRecord).toBeUndefined();
  });

  it('#2536 regression (REG-12): mode 2 relays a change without applying it first', () => {
    // Prepare
    const config = testConfig({ mode: 2 });
    const record = testRecord({
      incarnation: { id: '88', createdAtMs: 0, upstream: upstreamRegistration({ sentAtMs: 0, grantedExpiresSec: 3600 }) },
      bindings: [testBinding({ cseq: 71, updatedAtMs: 3_500_000, expiresAtMs: 3_560_000, upstream: undefined, incarnationId: '88' })],
    });
    const request = registerRequest({ contacts: ['<sip:alice@198.51.100.4>'], callId: 'cb', receivedAtMs: 3_501_000 });

    // Act
    const outcome = decideRegister(config, request, record, 3_501_000, testIds());

    // Assess
    expect(outcome.decision.kind).toBe('forward');
    expect(outcome.nextRecord!.bindings).toEqual(record.bindings);
  });

  describe('a check the caller already made', () => {
    it('M1-3, REG-1: deciding with the passed checkRegister result gives the same outcome as checking inside', () => {
      // Prepare
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 72, receivedAtMs: 3_507_999 });
      const bad = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], to: 'not a uri', receivedAtMs: 3_507_999 });

      // Act
      const inside = decideRegister(mode1, request, lateRecord(), 3_507_999, testIds());
      const passed = decideRegister(mode1, request, lateRecord(), 3_507_999, testIds(), checkRegister(mode1, request));
      const rejected = decideRegister(mode1, bad, undefined, 3_507_999, testIds(), checkRegister(mode1, bad));

      // Assess
      expect(passed).toEqual(inside);
      expect(passed.decision.kind).toBe('absorb');
      expect(rejected.decision).toEqual(decideRegister(mode1, bad, undefined, 3_507_999, testIds()).decision);
      expect(rejected.decision.kind).toBe('reject');
    });
  });
});

