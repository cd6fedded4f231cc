import type { MidRegistrarConfig } from '../../../../functions/core/config';
import type { RegisterRequest, UpstreamOutcome } from '../../../../functions/core/contract';
import { type AorRecord, validBindings } from '../../../../functions/core/model';
import { decideRegister, storeFailureResponse } from '../../../../functions/core/register/decide-register';
import { applyUpstreamReply } from '../../../../functions/core/reply/apply-upstream-reply';
import {
  expectForward,
  headerValue,
  registerRequest,
  registerThroughUpstream,
  testBinding,
  testConfig,
  testIds,
  testRecord,
  upstreamOk,
  upstreamRegistration,
} from '../../../support/core-builders';

const mode1 = testConfig({ mode: 1 });

/** Decides `request` (which must relay) and applies `outcome` built from its relay. */
function relayThen(
  config: MidRegistrarConfig,
  record: AorRecord | undefined,
  request: RegisterRequest,
  outcomeOf: (relay: ReturnType<typeof expectForward>['relay']) => UpstreamOutcome,
) {
  const ids = testIds(9);
  const decided = decideRegister(config, request, record, request.receivedAtMs, ids);
  const { relay, context } = expectForward(decided);
  const outcome = outcomeOf(relay);
  const nowMs = outcome.kind === 'final' ? outcome.receivedAtMs : outcome.atMs;
  return { decided, relay, context, reply: applyUpstreamReply(config, context, outcome, decided.nextRecord, nowMs, ids) };
}

function final(status: number, contacts: string[] = [], extra: Partial<Extract<UpstreamOutcome, { kind: 'final' }>> = {}): UpstreamOutcome {
  return { kind: 'final', status, contacts, sentAtMs: 1_000, receivedAtMs: 1_040, ...extra };
}

describe('applyUpstreamReply', () => {
  describe('RPL-1: non-2xx finals', () => {
    it('RPL-1 (#1156): a 401 is forwarded unchanged, releases the relay, and the authenticated retry is relayed again', () => {
      // Prepare
      const request = registerRequest({ receivedAtMs: 1_000 });

      // Act
      const { reply } = relayThen(mode1, undefined, request, () => final(401));
      const retry = decideRegister(mode1, { ...request, cseq: 2, hasAuthorization: true, receivedAtMs: 1_100 }, reply.nextRecord, 1_100, testIds(2));

      // Assess
      expect(reply.decision).toEqual({ kind: 'forward-unchanged' });
      expect(reply.nextRecord).toEqual(testRecord({ relayCount: 1 }));
      expect(retry.decision.kind).toBe('forward');
    });

    it('RPL-1: a 423 in mode 1 is reported as a likely outgoingExpires misconfiguration', () => {
      // Act
      const { reply } = relayThen(mode1, undefined, registerRequest({ receivedAtMs: 1_000 }), () => final(423));

      // Assess
      expect(reply.events).toEqual([{ kind: 'upstream_interval_too_brief', aor: 'alice@example.com' }]);
    });

    it.each([0, 1, 2] as const)('REG-12: upstream 403 to a new device leaves no binding (mode %s)', (mode) => {
      // Act
      const { reply } = relayThen(testConfig({ mode }), undefined, registerRequest({ receivedAtMs: 1_000 }), () => final(403));

      // Assess
      expect(reply.decision.kind).toBe('forward-unchanged');
      expect(reply.nextRecord!.bindings).toEqual([]);
      expect(reply.nextRecord!.pendingRelays).toEqual([]);
    });
  });

  it('RPL-2: a duplicated 2xx commits once', () => {
    // Prepare
    const { reply, context, relay } = relayThen(mode1, undefined, registerRequest({ receivedAtMs: 1_000 }), (r) => upstreamOk(r, 3600, { sentAtMs: 1_000, receivedAtMs: 1_040 }));

    // Act
    const again = applyUpstreamReply(mode1, context, upstreamOk(relay, 3600, { sentAtMs: 1_000, receivedAtMs: 1_090 }), reply.nextRecord, 1_090, testIds());

    // Assess
    expect(reply.nextRecord!.bindings).toHaveLength(1);
    expect(again.nextRecord).toBeUndefined();
    expect(again.events).toEqual([{ kind: 'stale_relay', aor: 'alice@example.com', relayId: context.relayId }]);
  });

  describe('RPL-3: ours and foreign contacts', () => {
    it('RPL-3 (#1516): foreign contacts of the 2xx are never shown to the UA', () => {
      // Act
      const { reply } = relayThen(mode1, undefined, registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], receivedAtMs: 1_000 }), (r) =>
        upstreamOk(r, 3600, { sentAtMs: 1_000, receivedAtMs: 1_040 }, ['<sip:alice@10.9.9.9:5060>;expires=3000', '<sip:alice@203.0.113.10:5060;ctid=42>;expires=3000']));

      // Assess
      expect(reply.decision).toEqual({
        kind: 'rewrite',
        removeHeaders: ['Contact', 'Expires', 'Path'],
        addHeaders: [['Contact', '<sip:alice@192.0.2.7:5062>;expires=60']],
      });
    });

    it('RPL-3: mode 2 matches the aggregated user exactly: malice is not alice (Δ OpenSIPS matches by substring)', () => {
      // Prepare
      const config = testConfig({ mode: 2 });

      // Act
      const { reply, decided } = relayThen(config, undefined, registerRequest({ receivedAtMs: 1_000 }), () => final(200, []));
      const incarnationId = decided.nextRecord!.incarnation!.id;
      const spoof = applyUpstreamReply(config, { version: 1, aor: 'alice@example.com', relayId: decided.nextRecord!.pendingRelays[0].relayId, mode: 2 },
        final(200, [`<sip:malice%40example.com@203.0.113.10:5060;ctid=${incarnationId}>;expires=3600`]), decided.nextRecord, 1_040, testIds());

      // Assess
      expect(reply.events).toEqual([expect.objectContaining({ kind: 'upstream_contact_missing' })]);
      expect(spoof.nextRecord!.bindings).toEqual([]);
      expect(spoof.events).toEqual([expect.objectContaining({ kind: 'upstream_contact_missing' })]);
    });

    it('RPL-3: path insertion matches our contact by URI (REG-5)', () => {
      // Prepare
      const config = testConfig({ insertion: 'path' });

      // Act
      const { reply } = relayThen(config, undefined, registerRequest({ contacts: ['<sip:alice@Phone.example:5062>'], receivedAtMs: 1_000 }), () =>
        final(200, ['<sip:alice@phone.example:5062>;expires=1800']));

      // Assess
      expect(reply.nextRecord!.bindings[0].upstream).toMatchObject({ contactUri: 'sip:alice@phone.example:5062', grantedExpiresSec: 1800 });
    });
  });

  describe('RPL-4: g', () => {
    it.each<[string, (ctid: string) => { contacts: string[]; expires?: string }, number]>([
      ['from our contact expires parameter', (id) => ({ contacts: [`<sip:alice@203.0.113.10:5060;ctid=${id}>;expires=1800`], expires: '900' }), 1800],
      ['else from the Expires header', (id) => ({ contacts: [`<sip:alice@203.0.113.10:5060;ctid=${id}>`], expires: '900' }), 900],
      ['else the E we relayed', (id) => ({ contacts: [`<sip:alice@203.0.113.10:5060;ctid=${id}>`] }), 3600],
    ])('RPL-4: g %s', (_name, build, g) => {
      // Act
      const { reply } = relayThen(mode1, undefined, registerRequest({ receivedAtMs: 1_000 }), (relay) => {
        const id = /ctid=(\d+)/.exec(relay.addHeaders[0][1])![1];
        const { contacts, expires } = build(id);
        return final(200, contacts, expires === undefined ? {} : { expires });
      });

      // Assess
      expect(reply.nextRecord!.bindings[0].upstream!).toMatchObject({ grantedExpiresSec: g, lapsesAtMs: 1_000 + g * 1000 });
    });
  });

  describe('RPL-5: bindings from a 2xx (modes 0/1)', () => {
    it('RPL-5: g 30, e 60: the UA sees 30', () => {
      // Act
      const { reply } = relayThen(mode1, undefined, registerRequest({ receivedAtMs: 1_000, contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'] }), (r) =>
        upstreamOk(r, 30, { sentAtMs: 1_000, receivedAtMs: 1_300 }));

      // Assess
      expect(reply.decision).toMatchObject({ addHeaders: [['Contact', '<sip:alice@192.0.2.7:5062>;expires=30']] });
      expect(reply.nextRecord!.bindings[0]).toMatchObject({ expiresAtMs: 31_000, requestedExpiresSec: 60 });
    });

    it('RPL-5: the binding stores Call-ID, CSeq, flow, Path, User-Agent, q and the contact exactly as returned', () => {
      // Prepare
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;q=0.7'], callId: 'cx', cseq: 9, userAgent: 'Phone/1', path: ['<sip:edge.example.com;lr>'], receivedAtMs: 1_000 });

      // Act
      const { reply } = relayThen(mode1, undefined, request, (relay) => {
        const id = /ctid=(\d+)/.exec(relay.addHeaders[0][1])![1];
        return final(200, [`<sip:alice@203.0.113.10:5060;CTID=${id};ctid=${id}>;expires=3600`]);
      });

      // Assess
      const binding = reply.nextRecord!.bindings[0];
      expect(binding).toMatchObject({ callId: 'cx', cseq: 9, userAgent: 'Phone/1', path: ['<sip:edge.example.com;lr>'], q: '0.7', flow: request.flow, createdAtMs: 1_040, updatedAtMs: 1_040 });
      expect(binding.upstream).toMatchObject({ callId: 'cx', highestCseq: 9, fromUri: 'sip:alice@example.com', toUri: 'sip:alice@example.com', requestUri: 'sip:registrar.example.net', sentAtMs: 1_000 });
      expect(binding.upstream!.contactUri).toMatch(/;CTID=\d+;ctid=\d+$/);
    });

    it('RPL-5: a missing contact gives no binding and the upstream_contact_missing event (Δ OpenSIPS relays the raw 2xx)', () => {
      // Act
      const { reply } = relayThen(mode1, undefined, registerRequest({ receivedAtMs: 1_000 }), () => final(200, []));

      // Assess
      expect(reply.nextRecord!.bindings).toEqual([]);
      expect(reply.events).toEqual([expect.objectContaining({ kind: 'upstream_contact_missing', aor: 'alice@example.com' })]);
      expect(reply.decision).toMatchObject({ kind: 'rewrite', addHeaders: [] });
    });

    it('RPL-5: an existing binding whose contact is missing or granted 0 ends without De-REGISTER', () => {
      // Prepare
      const record = testRecord({ bindings: [testBinding({ expiresAtMs: 70_000 })] });
      const request = registerRequest({ callId: 'c2', receivedAtMs: 10_000 });

      // Act
      const { reply } = relayThen(mode1, record, request, (relay) => final(200, [relay.addHeaders[0][1].replace(/expires=\d+/, 'expires=0')], { receivedAtMs: 10_040 }));

      // Assess
      expect(reply.nextRecord!.bindings).toEqual([]);
      expect(reply.nextRecord!.deregisterWork).toEqual([]);
    });

    it('RPL-5/DRG-3: a contact relayed with E = 0 and confirmed ends without De-REGISTER', () => {
      // Prepare
      const record = testRecord({ bindings: [testBinding({ expiresAtMs: 70_000 })] });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=0'], cseq: 2, receivedAtMs: 10_000 });

      // Act
      const { reply } = relayThen(mode1, record, request, () => final(200, [], { receivedAtMs: 10_040 }));

      // Assess
      expect(reply.nextRecord!.bindings).toEqual([]);
      expect(reply.nextRecord!.deregisterWork).toEqual([]);
      expect(reply.events).toEqual([]);
    });

    it('RPL-5: a refresh relay keeps the binding id, creation time and DRG-9 refresh Call-ID, and moves U', () => {
      // Prepare
      const record = testRecord({ bindings: [testBinding({ createdAtMs: 5, expiresAtMs: 3_560_000, upstream: upstreamRegistration({ refreshCallId: 'own', refreshCseq: 3 }) })] });
      const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], cseq: 2, receivedAtMs: 3_550_000 });

      // Act
      const { reply } = relayThen(mode1, record, request, (r) => upstreamOk(r, 3600, { sentAtMs: 3_550_010, receivedAtMs: 3_550_050 }));

      // Assess
      const binding = reply.nextRecord!.bindings[0];
      expect(binding).toMatchObject({ contactId: '111', createdAtMs: 5, expiresAtMs: 3_610_050 });
      expect(binding.upstream).toMatchObject({ lapsesAtMs: 7_150_010, refreshCallId: 'own', refreshCseq: 3, highestCseq: 2 });
    });
  });

  describe('RPL-6: mode 2', () => {
    const mode2 = testConfig({ mode: 2 });

    it('RPL-6: the incarnation takes U, g and the aggregated contact; each contact becomes a binding with that U', () => {
      // Act
      const { reply, decided } = relayThen(mode2, undefined, registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60', '<sip:alice@198.51.100.4>;expires=7200'], receivedAtMs: 1_000 }), (r) =>
        upstreamOk(r, 1800, { sentAtMs: 1_000, receivedAtMs: 1_040 }));

      // Assess
      const next = reply.nextRecord!;
      const incarnationId = decided.nextRecord!.incarnation!.id;
      expect(next.incarnation).toMatchObject({ id: incarnationId, upstream: { grantedExpiresSec: 1800, lapsesAtMs: 1_801_000, contactUri: `sip:alice%40example.com@203.0.113.10:5060;ctid=${incarnationId}` } });
      expect(next.bindings.map((b) => [b.contactUri, b.expiresAtMs, b.incarnationId])).toEqual([
        ['sip:alice@192.0.2.7:5062', 61_040, incarnationId],
        ['sip:alice@198.51.100.4', 1_801_000, incarnationId],
      ]);
    });

    it('#1845/#2680 regression (RPL-7): the mode 2 UA response loses upstream\'s Expires and lists the real bindings', () => {
      // Act
      const { reply } = relayThen(mode2, undefined, registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=60'], receivedAtMs: 1_000 }), (r) =>
        ({ ...upstreamOk(r, 3600, { sentAtMs: 1_000, receivedAtMs: 1_040 }), expires: '3600' }));

      // Assess
      expect(reply.decision).toEqual({
        kind: 'rewrite',
        removeHeaders: ['Contact', 'Expires', 'Path'],
        addHeaders: [['Contact', '<sip:alice@192.0.2.7:5062>;expires=60']],
      });
    });

    it('RPL-6: a 2xx without our aggregated contact ends all bindings of the incarnation, no De-REGISTER', () => {
      // Prepare
      const record = testRecord({
        incarnation: { id: '88', createdAtMs: 0, upstream: upstreamRegistration() },
        bindings: [testBinding({ upstream: undefined, incarnationId: '88', expiresAtMs: 100_000 })],
      });
      const request = registerRequest({ contacts: ['<sip:alice@198.51.100.4>'], callId: 'cb', receivedAtMs: 10_000 });

      // Act
      const { reply } = relayThen(mode2, record, request, () => final(200, ['<sip:alice@10.9.9.9>;expires=3600'], { receivedAtMs: 10_040 }));

      // Assess
      expect(reply.nextRecord!.bindings).toEqual([]);
      expect(reply.nextRecord!.incarnation).toBeUndefined();
      expect(reply.nextRecord!.deregisterWork).toEqual([]);
    });

    // Found by the model-based test: device B's removal (E = 0) reached upstream before device A's
    // registration, but its 2xx arrived after A's was committed. Ending the incarnation then would leave
    // upstream holding the aggregated contact with nothing to De-REGISTER it (INV-1, INV-2).
    it('RPL-6: a late 2xx of an earlier relay without our contact does not end what a later relay registered', () => {
      // Prepare
      const ids = testIds(41);
      const removal = decideRegister(mode2, registerRequest({ contacts: ['<sip:alice@198.51.100.4>;expires=0'], callId: 'cb', receivedAtMs: 1_000 }), undefined, 1_000, ids);
      const addition = decideRegister(mode2, registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=600'], callId: 'ca', receivedAtMs: 1_000 }), removal.nextRecord, 1_000, ids);
      const r = expectForward(removal);
      const a = expectForward(addition);
      const afterAddition = applyUpstreamReply(mode2, a.context, upstreamOk(a.relay, 3600, { sentAtMs: 1_000, receivedAtMs: 1_030 }), addition.nextRecord, 1_030, ids);

      // Act
      const afterRemoval = applyUpstreamReply(mode2, r.context, final(200, [], { sentAtMs: 1_000, receivedAtMs: 1_060 }), afterAddition.nextRecord, 1_060, ids);

      // Assess
      expect(afterRemoval.decision.kind).toBe('rewrite');
      expect(validBindings(afterRemoval.nextRecord, 1_060).map((b) => b.contactUri)).toEqual(['sip:alice@192.0.2.7:5062']);
      expect(afterRemoval.nextRecord!.incarnation).toEqual(afterAddition.nextRecord!.incarnation);
      expect(afterRemoval.nextRecord!.pendingRelays).toEqual([]);
    });

    it('RPL-6: a late 2xx of an earlier removal still ends the binding that REGISTER removed', () => {
      // Prepare
      const ids = testIds(42);
      const { record: first } = registerThroughUpstream(mode2, undefined, registerRequest({ contacts: ['<sip:alice@198.51.100.4>;expires=600'], callId: 'cb', receivedAtMs: 1_000 }), { receivedAtMs: 1_040, grantSec: 3600 }, ids);
      const removal = decideRegister(mode2, registerRequest({ contacts: ['<sip:alice@198.51.100.4>;expires=0'], callId: 'cb', cseq: 2, receivedAtMs: 2_000 }), first, 2_000, ids);
      const addition = decideRegister(mode2, registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=600'], callId: 'ca', receivedAtMs: 2_000 }), removal.nextRecord, 2_000, ids);
      const r = expectForward(removal);
      const a = expectForward(addition);
      const afterAddition = applyUpstreamReply(mode2, a.context, upstreamOk(a.relay, 3600, { sentAtMs: 2_000, receivedAtMs: 2_030 }), addition.nextRecord, 2_030, ids);

      // Act
      const afterRemoval = applyUpstreamReply(mode2, r.context, final(200, [], { sentAtMs: 2_000, receivedAtMs: 2_060 }), afterAddition.nextRecord, 2_060, ids);

      // Assess
      expect(validBindings(afterRemoval.nextRecord, 2_060).map((b) => b.contactUri)).toEqual(['sip:alice@192.0.2.7:5062']);
      expect(afterRemoval.nextRecord!.incarnation?.upstream).toBeDefined();
    });
  });

  it('RPL-7: the UA gets the 2xx without Contact, Expires and Path, with all valid bindings and its Path (PTH-5)', () => {
    // Prepare
    const record = testRecord({ bindings: [testBinding({ contactId: '5', contactUri: 'sip:alice@198.51.100.4', createdAtMs: 0, callId: 'cb', expiresAtMs: 500_000 })] });
    const request = registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=120'], path: ['<sip:edge.example.com;lr>'], supported: ['path'], receivedAtMs: 10_000 });

    // Act
    const { reply } = relayThen(mode1, record, request, (r) => upstreamOk(r, 3600, { sentAtMs: 10_000, receivedAtMs: 10_040 }));

    // Assess
    expect(reply.decision).toEqual({
      kind: 'rewrite',
      removeHeaders: ['Contact', 'Expires', 'Path'],
      addHeaders: [
        ['Contact', '<sip:alice@198.51.100.4>;expires=490, <sip:alice@192.0.2.7:5062>;expires=120'],
        ['Path', '<sip:edge.example.com;lr>'],
      ],
    });
  });

  it('PTH-6: with path insertion the UA\'s 200 lacks our Path', () => {
    // Act
    const { reply } = relayThen(testConfig({ insertion: 'path' }), undefined, registerRequest({ receivedAtMs: 1_000 }), () =>
      final(200, ['<sip:alice@192.0.2.7:5062>;expires=3600']));

    // Assess
    expect(reply.decision).toMatchObject({ kind: 'rewrite', removeHeaders: expect.arrayContaining(['Path']) });
    expect(reply.decision.kind === 'rewrite' && headerValue(reply.decision.addHeaders, 'Path')).toBeUndefined();
  });

  it('REG-7: the 2xx of a relayed query changes no state and lists the bindings', () => {
    // Prepare
    const record = testRecord({ bindings: [testBinding({ expiresAtMs: 70_000 })] });

    // Act
    const { reply } = relayThen(mode1, record, registerRequest({ contacts: [], callId: 'stranger', receivedAtMs: 10_000 }), () =>
      final(200, ['<sip:alice@203.0.113.10:5060;ctid=111>;expires=3000'], { receivedAtMs: 10_040 }));

    // Assess
    expect(reply.nextRecord).toEqual({ ...record, relayCount: 1 });
    expect(reply.decision).toMatchObject({ addHeaders: [['Contact', '<sip:alice@192.0.2.7:5062>;expires=60']] });
  });

  it('RPL-8: a star 2xx removes every binding without De-REGISTER and cancels queued De-REGISTERs (#1512)', () => {
    // Prepare
    const record = testRecord({
      bindings: [testBinding(), testBinding({ contactId: '222', contactUri: 'sip:alice@198.51.100.4', endedAtMs: 500, endReason: 'evicted' })],
      deregisterWork: [{ workId: 'w', cause: 'evicted', upstream: upstreamRegistration(), dueAtMs: 500, attempts: 1, nextAttemptAtMs: 5_500, contactId: '222' }],
    });

    // Act
    const { reply } = relayThen(mode1, record, registerRequest({ contacts: ['*'], expires: '0', cseq: 2, receivedAtMs: 1_000 }), () => final(200));

    // Assess
    expect(reply.nextRecord).toEqual(testRecord({ relayCount: 1 }));
    expect(reply.decision).toMatchObject({ kind: 'rewrite', addHeaders: [] });
  });

  it('RPL-8: a star 2xx keeps what relays sent after the star registered (upstream processed them later)', () => {
    // Prepare
    const ids = testIds(40);
    const star = decideRegister(mode1, registerRequest({ contacts: ['*'], expires: '0', callId: 'cs', receivedAtMs: 1_000 }), undefined, 1_000, ids);
    const later = decideRegister(mode1, registerRequest({ contacts: ['<sip:alice@198.51.100.4>'], callId: 'cb', receivedAtMs: 1_000 }), star.nextRecord, 1_000, ids);
    const s = expectForward(star);
    const l = expectForward(later);
    const afterLater = applyUpstreamReply(mode1, l.context, upstreamOk(l.relay, 3600, { sentAtMs: 1_000, receivedAtMs: 1_030 }), later.nextRecord, 1_030, ids);

    // Act
    const afterStar = applyUpstreamReply(mode1, s.context, final(200, [], { sentAtMs: 1_000, receivedAtMs: 1_060 }), afterLater.nextRecord, 1_060, ids);

    // Assess
    expect(validBindings(afterStar.nextRecord, 1_060).map((b) => b.contactUri)).toEqual(['sip:alice@198.51.100.4']);
  });

  describe('RPL-9: no final response', () => {
    it('RPL-9: a silent upstream gives 504 + Retry-After; the relay is marked for DRG-7, bindings unchanged', () => {
      // Prepare
      const record = testRecord({ bindings: [testBinding({ expiresAtMs: 70_000 })] });

      // Act
      const { reply } = relayThen(mode1, record, registerRequest({ contacts: ['<sip:alice@198.51.100.4>'], callId: 'cb', receivedAtMs: 1_000 }), () => ({ kind: 'timeout', atMs: 11_000 }));

      // Assess
      expect(reply.decision).toMatchObject({ kind: 'respond', response: { status: 504, reason: 'Upstream timeout' } });
      if (reply.decision.kind !== 'respond') throw new Error('respond expected');
      expect(headerValue(reply.decision.response.headers, 'Retry-After')).toBe('30');
      expect(headerValue(reply.decision.response.headers, 'P-Registrar-Error')).toBe('Upstream timeout');
      expect(reply.nextRecord!.bindings).toEqual(record.bindings);
      expect(reply.nextRecord!.pendingRelays[0]).toMatchObject({ failedAtMs: 11_000, failure: 'timeout' });
    });

    it('RPL-9: a transport failure gives 503 Service unavailable', () => {
      // Act
      const { reply } = relayThen(mode1, undefined, registerRequest({ receivedAtMs: 1_000 }), () => ({ kind: 'transport-error', atMs: 1_001 }));

      // Assess
      expect(reply.decision).toMatchObject({ kind: 'respond', response: { status: 503, reason: 'Service unavailable' } });
      expect(reply.nextRecord!.pendingRelays[0]).toMatchObject({ failure: 'transport' });
    });

    it('RPL-9: a 2xx for a relay already failed does not commit', () => {
      // Prepare
      const failed = relayThen(mode1, undefined, registerRequest({ receivedAtMs: 1_000 }), () => ({ kind: 'timeout', atMs: 11_000 }));

      // Act
      const late = applyUpstreamReply(mode1, failed.context, upstreamOk(failed.relay, 3600, { sentAtMs: 1_000, receivedAtMs: 12_000 }), failed.reply.nextRecord, 12_000, testIds());

      // Assess
      expect(late.nextRecord).toBeUndefined();
      expect(validBindings(failed.reply.nextRecord, 12_000)).toEqual([]);
    });
  });

  it('RPL-10: a store failure at commit answers 503 + Retry-After; the pending relay stays for DRG-7', () => {
    // Prepare
    const { decided } = relayThen(mode1, undefined, registerRequest({ receivedAtMs: 1_000 }), (r) => upstreamOk(r, 3600, { sentAtMs: 1_000, receivedAtMs: 1_040 }));

    // Act
    const response = storeFailureResponse(mode1, testIds());

    // Assess
    expect([response.status, headerValue(response.headers, 'P-Registrar-Error'), headerValue(response.headers, 'Retry-After')]).toEqual([503, 'Service unavailable', '30']);
    // The commit did not happen, so the stored record is the relay-time one: its pending relay is still there.
    expect(decided.nextRecord!.pendingRelays).toHaveLength(1);
    expect(decided.nextRecord!.pendingRelays[0].deadlineAtMs).toBe(16_000);
  });

  it('REG-11: concurrent REGISTERs that overshoot the limit evict at commit', () => {
    // Prepare
    const config = testConfig({ maxContacts: 1 });
    const ids = testIds(30);
    const first = decideRegister(config, registerRequest({ callId: 'ca', receivedAtMs: 1_000 }), undefined, 1_000, ids);
    const second = decideRegister(config, registerRequest({ contacts: ['<sip:alice@198.51.100.4>'], callId: 'cb', receivedAtMs: 1_001 }), first.nextRecord, 1_001, ids);
    const a = expectForward(first);
    const b = expectForward(second);

    // Act
    const afterA = applyUpstreamReply(config, a.context, upstreamOk(a.relay, 3600, { sentAtMs: 1_000, receivedAtMs: 1_040 }), second.nextRecord, 1_040, ids);
    const afterB = applyUpstreamReply(config, b.context, upstreamOk(b.relay, 3600, { sentAtMs: 1_001, receivedAtMs: 1_050 }), afterA.nextRecord, 1_050, ids);

    // Assess
    expect(validBindings(afterB.nextRecord, 1_050).map((x) => x.contactUri)).toEqual(['sip:alice@198.51.100.4']);
    expect(afterB.nextRecord!.bindings[0]).toMatchObject({ contactUri: 'sip:alice@192.0.2.7:5062', endReason: 'evicted' });
  });

  it('M2-1: after the last binding ends upstream-confirmed, the next relay opens a new incarnation', () => {
    // Prepare
    const config = testConfig({ mode: 2 });
    const ids = testIds(12);
    const opened = registerThroughUpstream(config, undefined, registerRequest({ receivedAtMs: 0 }), { receivedAtMs: 40, grantSec: 3600 }, ids).record;
    const removed = registerThroughUpstream(config, opened, registerRequest({ contacts: ['<sip:alice@192.0.2.7:5062>;expires=0'], cseq: 2, receivedAtMs: 10_000 }), { receivedAtMs: 10_040, grantSec: 0 }, ids).record;

    // Act
    const again = decideRegister(config, registerRequest({ cseq: 3, receivedAtMs: 20_000 }), removed, 20_000, ids);

    // Assess
    expect(removed.incarnation).toBeUndefined();
    expect(again.nextRecord!.incarnation!.id).not.toBe(opened.incarnation!.id);
  });
});
