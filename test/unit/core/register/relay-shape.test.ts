import { decideRegister } from '../../../../functions/core/register/decide-register';
import { escapeAor } from '../../../../functions/core/register/upstream-contact';
import { verifyPathToken } from '../../../../functions/core/token';
import { expectForward, headerValues, registerRequest, testConfig, testIds } from '../../../support/core-builders';
import type { RegisterRequest } from '../../../../functions/core/contract';

/** The SPEC §6 example REGISTER: mode 1, contact insertion, advertisedUri sip:203.0.113.10:5060. */
const specExample: Partial<RegisterRequest> = {
  requestUri: 'sip:example.com',
  to: '<sip:alice@example.com>',
  callId: 'c1',
  cseq: 2,
  expires: '60',
  hasAuthorization: true,
  contacts: ['"A" <sip:alice@192.0.2.7:5062;transport=tcp;ob>;+sip.instance="<urn:uuid:1>"'],
};

function relayOf(overrides: Record<string, unknown>, request: Partial<RegisterRequest>) {
  const outcome = decideRegister(testConfig(overrides), registerRequest(request), undefined, 1_000, testIds());
  return { outcome, ...expectForward(outcome) };
}

describe('relay shape (FWD)', () => {
  it('FWD-1: Request-URI upstreamUri, next hop the outbound proxy, Route removed, the rest untouched', () => {
    // Act
    const { relay } = relayOf({ upstreamOutboundProxy: '10.2.2.2:5060;transport=tcp' }, specExample);

    // Assess
    expect(relay.requestUri).toBe('sip:registrar.example.net');
    expect(relay.outboundProxy).toBe('10.2.2.2:5060;transport=tcp');
    expect(relay.removeHeaders).toContain('Route');
    // From, To, Call-ID, CSeq, Authorization, Require, User-Agent and body are never named: the gateway keeps them.
    for (const kept of ['From', 'To', 'Call-ID', 'CSeq', 'Authorization', 'Proxy-Authorization', 'Require', 'User-Agent']) {
      expect(relay.removeHeaders).not.toContain(kept);
      expect(relay.addHeaders.map(([n]) => n)).not.toContain(kept);
    }
  });

  it('CFG-3: relays carry the UA credentials and never upstreamAuth', () => {
    // Act
    const { relay } = relayOf({ upstreamAuth: { username: 'mr', password: 'secret' } }, specExample);

    // Assess
    expect(JSON.stringify(relay)).not.toContain('secret');
    expect(relay.removeHeaders).not.toContain('Authorization');
  });

  it('FWD-2: the Expires header is removed and every contact carries expires', () => {
    // Act
    const { relay } = relayOf({}, { ...specExample, contacts: ['<sip:a@192.0.2.7>', '<sip:b@192.0.2.8>;expires=0'] });

    // Assess
    expect(relay.removeHeaders).toContain('Expires');
    expect(headerValues(relay.addHeaders, 'Expires')).toEqual([]);
    const contacts = headerValues(relay.addHeaders, 'Contact');
    expect(contacts).toHaveLength(2);
    expect(contacts.map((c) => /;expires=(\d+)$/.exec(c)?.[1])).toEqual(['3600', '0']);
  });

  describe('FWD-3: contact insertion forms, byte-exact', () => {
    it('FWD-3: the SPEC example: display name, transport, ob and +sip.instance dropped', () => {
      // Act
      const { relay, outcome } = relayOf({}, specExample);

      // Assess
      const id = outcome.newContactIds[0];
      expect(relay.addHeaders).toEqual([['Contact', `<sip:alice@203.0.113.10:5060;ctid=${id}>;expires=3600`]]);
      expect(relay.removeHeaders).toContain('Contact');
    });

    it.each<[string, Record<string, unknown>, string, (id: string) => string]>([
      ['q kept (Δ OpenSIPS drops it)', {}, '<sip:alice@192.0.2.7;reg-id=1>;q=0.5;+sip.instance="<urn:uuid:1>";pn-prid=x', (id) => `<sip:alice@203.0.113.10:5060;ctid=${id}>;q=0.5;expires=3600`],
      ['empty user (Δ OpenSIPS emits sip:@)', {}, '<sip:192.0.2.7:5062>', (id) => `<sip:203.0.113.10:5060;ctid=${id}>;expires=3600`],
      ['id in the user part', { contactIdIn: 'user' }, '<sip:alice@192.0.2.7:5062>;q=1', (id) => `<sip:${id}@203.0.113.10:5060>;q=1;expires=3600`],
      ['own param name', { contactIdParam: 'mrid' }, '<sip:alice@192.0.2.7>', (id) => `<sip:alice@203.0.113.10:5060;mrid=${id}>;expires=3600`],
      ['TCP advertised', { advertisedUri: 'sip:203.0.113.10:5060;transport=tcp' }, '<sip:alice@192.0.2.7>', (id) => `<sip:alice@203.0.113.10:5060;ctid=${id};transport=tcp>;expires=3600`],
      ['UDP advertised explicitly: T omitted', { advertisedUri: 'sip:203.0.113.10:5060;transport=udp' }, '<sip:alice@192.0.2.7>', (id) => `<sip:alice@203.0.113.10:5060;ctid=${id}>;expires=3600`],
      ['escaped user kept as on the wire', {}, '<sip:al%20ice@192.0.2.7>', (id) => `<sip:al%20ice@203.0.113.10:5060;ctid=${id}>;expires=3600`],
    ])('FWD-3: %s', (_name, overrides, contact, expected) => {
      // Act
      const { relay, outcome } = relayOf(overrides, { contacts: [contact] });

      // Assess
      expect(relay.addHeaders).toEqual([['Contact', expected(outcome.newContactIds[0])]]);
    });
  });

  it('FWD-4: contact ids are decimal integers below 2^63, distinct per contact', () => {
    // Act
    const { outcome } = relayOf({}, { contacts: ['<sip:a@192.0.2.7>', '<sip:b@192.0.2.8>', '<sip:c@192.0.2.9>'] });

    // Assess
    expect(outcome.newContactIds).toHaveLength(3);
    expect(new Set(outcome.newContactIds).size).toBe(3);
    for (const id of outcome.newContactIds) {
      expect(id).toMatch(/^(0|[1-9]\d*)$/);
      expect(BigInt(id) < 2n ** 63n).toBe(true);
    }
  });

  describe('FWD-5: path insertion', () => {
    it('FWD-5: the UA contact is kept except expires; our Path on top with an AoR token; path added to Supported', () => {
      // Act
      const { relay } = relayOf({ insertion: 'path' }, { ...specExample, supported: ['gruu'], path: ['<sip:edge.example.com;lr>'] });

      // Assess
      expect(relay.addHeaders).toEqual([['Contact', '"A" <sip:alice@192.0.2.7:5062;transport=tcp;ob>;+sip.instance="<urn:uuid:1>";expires=3600']]);
      expect(relay.prependPath).toHaveLength(1);
      const match = /^<sip:([A-Za-z0-9_-]+)@203\.0\.113\.10:5060;lr>$/.exec(relay.prependPath[0]);
      expect(match).not.toBeNull();
      expect(verifyPathToken('test-token-secret', match![1])).toBe('alice@example.com');
      expect(relay.supported).toBe('gruu, path');
      // FWD-7: the UA's own Path headers are removed (stored per PTH-5), ours replaces them.
      expect(relay.removeHeaders).toContain('Path');
    });

    it('FWD-5: a contact expires parameter is replaced, not duplicated; Supported already with path stays', () => {
      // Act
      const { relay } = relayOf({ insertion: 'path', advertisedUri: 'sip:203.0.113.10:5060;transport=tcp' }, { contacts: ['<sip:alice@192.0.2.7>;expires=60;q=0.7'], supported: ['path'] });

      // Assess
      expect(relay.addHeaders).toEqual([['Contact', '<sip:alice@192.0.2.7>;q=0.7;expires=3600']]);
      expect(relay.prependPath[0]).toMatch(/;lr;transport=tcp>$/);
      expect(relay.supported).toBeUndefined();
    });
  });

  describe('FWD-6: the mode 2 aggregated contact', () => {
    it('FWD-6: alice@example.com → alice%40example.com with the incarnation id', () => {
      // Act
      const { relay, outcome } = relayOf({ mode: 2 }, { contacts: ['<sip:alice@192.0.2.7>;q=0.5', '<sip:alice@198.51.100.4>'] });

      // Assess
      const incarnationId = outcome.nextRecord!.incarnation!.id;
      expect(relay.addHeaders).toEqual([['Contact', `<sip:alice%40example.com@203.0.113.10:5060;ctid=${incarnationId}>;expires=3600`]]);
      expect(outcome.newContactIds).toContain(incarnationId);
    });

    it('FWD-6: atEscape ___ gives alice___example.com', () => {
      // Act
      const { relay } = relayOf({ mode: 2, atEscape: '___' }, {});

      // Assess
      expect(relay.addHeaders[0][1]).toMatch(/^<sip:alice___example\.com@203\.0\.113\.10:5060;ctid=\d+>;expires=3600$/);
    });

    it.each([
      ['alice@example.com', '%40', 'alice%40example.com'],
      ['a b@example.com', '%40', 'a%20b%40example.com'],
      ['100%@example.com', '%40', '100%25%40example.com'],
      ['jürgen@example.com', '%40', 'j%C3%BCrgen%40example.com'],
      ['a@b@example.com', '~', 'a~b%40example.com'],
      ["+1-555.x_y!~*'()&=+$,;?/@example.com", '%40', "+1-555.x_y!~*'()&=+$,;?/%40example.com"],
    ])('FWD-6: ESC of %s with %s is %s', (aor, atEscape, expected) => {
      // Act / Assess
      expect(escapeAor(aor, atEscape)).toBe(expected);
    });
  });

  it('FWD-7: incoming Path headers are removed from the relay (and stored with the pending relay)', () => {
    // Act
    const { relay, outcome } = relayOf({}, { path: ['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr>'] });

    // Assess
    expect(relay.removeHeaders).toContain('Path');
    expect(relay.prependPath).toEqual([]);
    expect(outcome.nextRecord!.pendingRelays[0].path).toEqual(['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr>']);
  });

  it.each<[string, Record<string, unknown>, string[], string[]]>([
    ['mode 0: E = e', { mode: 0 }, ['<sip:a@192.0.2.7>;expires=60', '<sip:b@192.0.2.8>;expires=0'], ['60', '0']],
    ['mode 1: E = O, or 0 for a removal', { mode: 1, outgoingExpires: 1800 }, ['<sip:a@192.0.2.7>;expires=60', '<sip:b@192.0.2.8>;expires=0'], ['1800', '0']],
    ['mode 2: E = O while a binding remains', { mode: 2 }, ['<sip:a@192.0.2.7>;expires=60', '<sip:b@192.0.2.8>;expires=0'], ['3600']],
    ['mode 2: E = 0 when none remains', { mode: 2 }, ['<sip:a@192.0.2.7>;expires=0'], ['0']],
  ])('FWD-8: %s', (_name, overrides, contacts, expected) => {
    // Act
    const { relay } = relayOf(overrides, { contacts });

    // Assess
    expect(headerValues(relay.addHeaders, 'Contact').map((c) => /;expires=(\d+)$/.exec(c)?.[1])).toEqual(expected);
  });

  it('FWD-9: relays leave from the advertisedUri socket', () => {
    // Act
    const { relay } = relayOf({ advertisedUri: 'sip:203.0.113.10:5070;transport=tcp' }, {});

    // Assess
    expect(relay.sourceUri).toBe('sip:203.0.113.10:5070;transport=tcp');
  });
});
