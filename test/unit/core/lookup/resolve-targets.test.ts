import { resolveTargets, toLookupDecision } from '../../../../functions/core/lookup/resolve-targets';
import { AOR, makeBinding, makeConfig, makeFlow, makeRecord, makeRelay, makeUpstream } from '../timed-work/record-fixtures';

describe('resolveTargets', () => {
  const mode1 = makeConfig();
  const mode2 = makeConfig({ mode: 2 });

  it('LKP-3: unknown contact id (nothing retained) gives 404', () => {
    // Act
    const result = resolveTargets(mode1, { kind: 'contact-id', contactId: '11', removeTopRoute: false }, undefined, 1000);

    // Assess
    expect(result).toEqual({ kind: 'reject', error: 'notFound' });
  });

  it('LKP-3: a retained AoR whose binding expired gives 480, never the expired binding', () => {
    // Prepare
    const record = makeRecord({ bindings: [makeBinding({ expiresAtMs: 60_000, upstream: makeUpstream() })] });

    // Act
    const atExpiry = resolveTargets(mode1, { kind: 'contact-id', contactId: '11', removeTopRoute: false }, record, 60_000);

    // Assess
    expect(atExpiry).toEqual({ kind: 'reject', error: 'noValidBinding' });
  });

  it('LKP-3: GEN-3 a binding past U but before expiresAt is not routed to', () => {
    // Prepare
    const record = makeRecord({
      bindings: [makeBinding({ expiresAtMs: 7_200_000, upstream: makeUpstream({ grantedExpiresSec: 3600 }) })],
    });

    // Act
    const beforeU = resolveTargets(mode1, { kind: 'contact-id', contactId: '11', removeTopRoute: false }, record, 3_599_999);
    const atU = resolveTargets(mode1, { kind: 'contact-id', contactId: '11', removeTopRoute: false }, record, 3_600_000);

    // Assess
    expect(beforeU.kind).toBe('targets');
    expect(atU).toEqual({ kind: 'reject', error: 'noValidBinding' });
  });

  it('LKP-4: target is the original contact URI, the stored Path as Route set, over the current flow', () => {
    // Prepare
    const flow = makeFlow({ transport: 'tcp', connectionId: 'c9', gatewayId: 'gw-7' });
    const binding = makeBinding({
      contactUri: 'sip:alice@192.0.2.7:5062;transport=tcp;ob',
      path: ['<sip:edge.example.com;lr>', '<sip:edge2.example.com;lr>'],
      flow,
      upstream: makeUpstream(),
    });
    const record = makeRecord({ bindings: [binding] });

    // Act
    const result = resolveTargets(mode1, { kind: 'contact-id', contactId: '11', removeTopRoute: false }, record, 1000);

    // Assess
    expect(result).toEqual({
      kind: 'targets',
      removeTopRoute: false,
      groups: [[{
        requestUri: 'sip:alice@192.0.2.7:5062;transport=tcp;ob',
        routeSet: ['<sip:edge.example.com;lr>', '<sip:edge2.example.com;lr>'],
        flow,
        gatewayId: 'gw-7',
        aor: AOR,
        contactId: '11',
      }]],
    });
  });

  it('LKP-2: path insertion selects the binding whose URI equals the Request-URI (REG-5: host case ignored)', () => {
    // Prepare
    const a = makeBinding({ contactId: '1', contactUri: 'sip:alice@Phone.example.com:5062', upstream: makeUpstream() });
    const b = makeBinding({ contactId: '2', contactUri: 'sip:alice@198.51.100.4', upstream: makeUpstream() });
    const record = makeRecord({ bindings: [a, b] });
    const config = makeConfig({ insertion: 'path' });

    // Act
    const hit = resolveTargets(config, { kind: 'path-token', aor: AOR, requestUri: 'sip:alice@phone.example.com:5062', removeTopRoute: true }, record, 1000);
    const miss = resolveTargets(config, { kind: 'path-token', aor: AOR, requestUri: 'sip:alice@phone.example.com', removeTopRoute: true }, record, 1000);

    // Assess
    expect(hit.kind === 'targets' && hit.groups.flat().map((t) => t.contactId)).toEqual(['1']);
    expect(hit.kind === 'targets' && hit.removeTopRoute).toBe(true);
    expect(miss).toEqual({ kind: 'reject', error: 'noValidBinding' });
  });

  it('LKP-5: mode 2 forks to q 1.0 (and no q) first, then q 0.5, creation order within a group', () => {
    // Prepare
    const incarnation = { id: '88', createdAtMs: 0, upstream: makeUpstream() };
    const record = makeRecord({
      incarnation,
      bindings: [
        makeBinding({ contactId: '1', q: '0.5', incarnationId: '88' }),
        makeBinding({ contactId: '2', incarnationId: '88' }),
        makeBinding({ contactId: '3', q: '1.0', incarnationId: '88' }),
        makeBinding({ contactId: '4', q: '0.5', expiresAtMs: 500, incarnationId: '88' }),
      ],
    });

    // Act
    const result = resolveTargets(mode2, { kind: 'aor', aor: AOR, removeTopRoute: false }, record, 1000);

    // Assess
    expect(result.kind === 'targets' && result.groups.map((g) => g.map((t) => t.contactId))).toEqual([['2', '3'], ['1']]);
  });

  it('LKP-2: mode 2 with a ctid of a closed or other incarnation gives 480', () => {
    // Prepare
    const record = makeRecord({ incarnation: { id: '88', createdAtMs: 0, upstream: makeUpstream() }, bindings: [makeBinding({ incarnationId: '88' })] });

    // Act
    const current = resolveTargets(mode2, { kind: 'aor', aor: AOR, incarnationId: '88', removeTopRoute: false }, record, 1000);
    const stale = resolveTargets(mode2, { kind: 'aor', aor: AOR, incarnationId: '87', removeTopRoute: false }, record, 1000);

    // Assess
    expect(current.kind).toBe('targets');
    expect(stale).toEqual({ kind: 'reject', error: 'noValidBinding' });
  });

  it('LKP-3: a binding not yet confirmed by upstream (pending relay only) is not routed to', () => {
    // Prepare
    const record = makeRecord({ bindings: [], pendingRelays: [makeRelay()] });

    // Act
    const result = resolveTargets(mode1, { kind: 'contact-id', contactId: '11', removeTopRoute: false }, record, 1000);

    // Assess
    expect(result).toEqual({ kind: 'reject', error: 'noValidBinding' });
  });
});

describe('toLookupDecision', () => {
  it('ERR-6: 403, 404 and 480 carry P-Registrar-Error texts; OPTIONS gets a plain 200', () => {
    // Act
    const forbidden = toLookupDecision({ kind: 'reject', error: 'forbidden' }, 'tag1', 30_000);
    const notFound = toLookupDecision({ kind: 'reject', error: 'notFound' }, 'tag1', 30_000);
    const unavailable = toLookupDecision({ kind: 'reject', error: 'noValidBinding' }, 'tag1', 30_000);
    const options = toLookupDecision({ kind: 'options-ok' }, 'tag1', 30_000);

    // Assess
    expect(forbidden).toEqual({ kind: 'respond', response: { status: 403, reason: 'Forbidden', headers: [['P-Registrar-Error', 'Forbidden']], toTag: 'tag1' } });
    expect(notFound.kind === 'respond' && notFound.response.status).toBe(404);
    expect(unavailable.kind === 'respond' && unavailable.response.headers).toEqual([['P-Registrar-Error', 'No valid binding']]);
    expect(options).toEqual({ kind: 'respond', response: { status: 200, reason: 'OK', headers: [], toTag: 'tag1' } });
  });
});
